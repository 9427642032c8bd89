"""Failure rates: a seeded fraction of answers goes wrong the ways real answers do.

`Rates` says how often each outcome happens; `RatesResponder` wraps any responder and draws the
outcome per (request, attempt), so a resubmission recovers as it would against the real API.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ._request import request_key
from ._responders import Reply, Responder, Scripted, apply_script
from ._wire import unit_float

Outcome = Literal["errored", "expired", "canceled", "truncated", "refusal", "invalid"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("errored", "expired", "canceled", "truncated", "refusal", "invalid")


@dataclass(frozen=True)
class Rates:
    """Fractions of requests that end in each failure outcome (the rest answer normally).

    Decided per (request, attempt) from a hash with the seed: a request is its custom_id in a
    batch (else a hash of its params), its attempt how many times the responder answered it
    before. The same run gets the same outcomes every time, and a resubmitted custom_id (or an
    SDK retry of a /v1/messages call) draws afresh, so it recovers as it would against the real
    API. `expired`/`canceled` apply inside batches only.
    """

    errored: float = 0.0
    expired: float = 0.0
    canceled: float = 0.0
    truncated: float = 0.0
    refusal: float = 0.0
    invalid: float = 0.0
    error_types: tuple[str, ...] = ("overloaded_error", "api_error")
    seed: int = 0

    def __post_init__(self) -> None:
        rates = [getattr(self, name) for name in OUTCOMES]
        if any(r < 0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError("rates must be >= 0 and sum to at most 1")
        if not self.error_types:
            raise ValueError("error_types must not be empty")

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> Rates:
        """Parse `errored=0.05:overloaded_error|api_error,expired=0.01,truncated=0.02,...`."""
        values: dict[str, Any] = {"seed": seed}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, rest = item.partition("=")
            name = name.strip()
            if name not in OUTCOMES or not rest:
                raise ValueError(
                    f"bad rate {item!r}: expected NAME=FRACTION with NAME in {', '.join(OUTCOMES)}"
                )
            rate, _, types = rest.partition(":")
            try:
                values[name] = float(rate)
            except ValueError:
                raise ValueError(f"bad rate {item!r}: {rate!r} is not a number") from None
            if types:
                if name != "errored":
                    raise ValueError(f"bad rate {item!r}: only errored takes error types")
                values["error_types"] = tuple(t.strip() for t in types.split("|") if t.strip())
        return cls(**values)

    def outcome_for(self, key: str, *, in_batch: bool, attempt: int = 0) -> Outcome | None:
        """The outcome drawn for attempt `attempt` (0 = the first) of request `key`, or None."""
        draw = unit_float(self.seed, "rates", key) if attempt == 0 else unit_float(self.seed, key, attempt)
        edge = 0.0
        for name in OUTCOMES:
            if not in_batch and name in ("expired", "canceled"):
                continue
            edge += getattr(self, name)
            if draw < edge:
                return name
        return None


class RatesResponder:
    """Wraps a responder and turns a seeded fraction of its answers into failures (see `Rates`)."""

    def __init__(self, inner: Responder, rates: Rates) -> None:
        self.inner = inner
        self.rates = rates
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def seen(self, custom_ids: Iterable[str]) -> None:
        """Count earlier attempts (batches answered before a restart), so draws continue from them."""
        with self._lock:
            self._attempts.update(custom_ids)

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Reply:
        key = request_key(params, custom_id)
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        outcome = self.rates.outcome_for(key, in_batch=custom_id is not None, attempt=attempt)
        if outcome is None:
            return self.inner.respond(params, custom_id=custom_id)
        if outcome == "errored":
            types = self.rates.error_types
            error_type = types[int(unit_float(self.rates.seed, "type", key) * len(types))]
            return apply_script(Scripted.errored(error_type), params, custom_id, self.inner)
        return apply_script(Scripted(outcome), params, custom_id, self.inner)
