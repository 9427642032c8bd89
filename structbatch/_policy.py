"""Pure decisions: what happens next to a request after one result — final, resubmit, or re-ask.

No I/O and no state: `next_step` looks only at the attempt's outcome and the request's counters,
so every rule is testable on its own and the collector cannot drift from it. The rules:

- `internal` (a bug of ours) is final at once: never re-asked, never resubmitted automatically.
- After the user canceled the batch, whatever came back is final.
- The API did not process the request (`expired`, `canceled` by the API, or a transient
  `api_error` such as `overloaded_error`): resubmit the same bytes, up to `max_attempts` sends.
- The model answered but the answer was unusable (`invalid`, `no_json`): re-ask once per
  `max_reasks`, showing the model its answer and the errors (`reask_request` builds it; a re-ask
  that no batch could hold is final instead).
- Everything else (`ok`, `truncated`, `refusal`, `wrong_tool`, `ambiguous`, `malformed_result`,
  `missing`, `invalid_request_error`...) is final: sending it again would not change the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

from . import _batching as batching
from ._modes import Mode
from ._outcome import RESUBMITTABLE_API_ERRORS, Failure, FailureKind, Outcome
from ._reask import reask_params


class Step(Enum):
    """What to do with a request after one result."""

    FINAL = "final"
    RESUBMIT = "resubmit"
    REASK = "reask"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The request's counters at the time of the result: sends so far and re-asks among them."""

    attempts: int
    reasks: int
    user_canceled: bool = False


_RESUBMIT_KINDS = frozenset({FailureKind.EXPIRED, FailureKind.CANCELED})
_REASK_KINDS = frozenset({FailureKind.INVALID, FailureKind.NO_JSON})


def next_step(outcome: Outcome[Any], attempt: Attempt, *, max_attempts: int, max_reasks: int) -> Step:
    """The next step for a request whose latest attempt produced `outcome`."""
    failure = outcome.failure
    if failure is None or attempt.user_canceled or failure.kind is FailureKind.INTERNAL:
        return Step.FINAL
    resubmits_used = attempt.attempts - attempt.reasks
    if _resubmittable(failure) and resubmits_used < max_attempts:
        return Step.RESUBMIT
    if failure.kind in _REASK_KINDS and attempt.reasks < max_reasks:
        return Step.REASK
    return Step.FINAL


def _resubmittable(failure: Failure) -> bool:
    if failure.kind in _RESUBMIT_KINDS:
        return True
    return (
        failure.kind is FailureKind.API_ERROR
        and failure.details.get("error_type") in RESUBMITTABLE_API_ERRORS
    )


@dataclass(frozen=True, slots=True)
class Reask:
    """A re-ask's extended turns (the JSON stored as the request's new messages) and its entry size."""

    messages: bytes
    size: int


def reask_request(
    params: Mapping[str, Any],
    *,
    mode: Mode,
    message: Mapping[str, Any] | None,
    failure: Failure,
    custom_id: str,
    limits: batching.Limits,
) -> Reask | None:
    """The follow-up request for an unusable answer, or None when there is no answer to show
    (`message` missing) or the longer conversation would fit no batch: then the failure is final."""
    if message is None:
        return None
    new = reask_params(params, mode, message, failure)
    size = batching.entry_size(custom_id, batching.encode_params(new))
    if not limits.fits_alone(size):
        return None
    return Reask(orjson.dumps(new["messages"]), size)
