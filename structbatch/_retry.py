"""Retrying API calls: the one retry layer, with capped, jittered backoff that follows `retry-after`.

Every API call the engine makes goes through a client copy with the SDK's own retries off
(`no_sdk_retries`: `client.with_options(max_retries=0)`), so each call is retried by exactly one
mechanism — this one — and we see every error first: a spend-limit 429 is final at first sight
(the SDK would have retried it), and a server's `retry-after` is waited once, not twice.

Idempotent calls (retrieve, list, count_tokens, results) are retried on 408, 409, 429, 5xx, 529
and connection errors. Batch creation is never retried here: a lost create response may have
created a batch, so `_submit` reconciles first.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import JobError

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger("structbatch")
R = TypeVar("R")

# reference/anthropic-api.md section 7: a tier's monthly spend cap answers 429 with this error
# code and no retry-after; waiting does not help.
SPEND_LIMIT_CODES = frozenset({"enforced_spend_limit_reached", "contract_spend_limit_reached"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for transient API errors: `initial * 2**n`, capped, with 25% downward jitter."""

    initial: float = 1.0
    maximum: float = 60.0
    attempts: int = 8
    #: Seconds after a batch create was sent before "no such batch in the list" is believed. A
    #: create whose client died (or whose connection dropped) may still be committed by the server
    #: moments later; creating again before then would submit the same requests twice.
    settle: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.maximum)
        base: float = min(self.initial * (2.0**attempt), self.maximum)
        return base * random.uniform(0.75, 1.0)


def sdk() -> Any:
    """The `anthropic` module, imported on first use: `import structbatch` never loads the SDK."""
    import anthropic

    return anthropic


def no_sdk_retries(client: anthropic.Anthropic) -> anthropic.Anthropic:
    """A copy of `client` (same key, base URL, HTTP client) whose SDK retries are off."""
    return client.with_options(max_retries=0)


def retry_after_seconds(exc: anthropic.APIStatusError) -> float | None:
    """The server's `retry-after-ms` / `retry-after` hint in seconds, when it sent one."""
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return float(raw) / scale
        except ValueError:
            continue
    return None


def is_spend_limit(exc: anthropic.APIStatusError) -> bool:
    """Whether a 429 says a spend limit is reached (not worth retrying)."""
    if exc.status_code != 429:
        return False
    code = getattr(exc, "error_code", None)
    if code in SPEND_LIMIT_CODES:
        return True
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    details = (
        error.get("details") if isinstance(error, dict) and isinstance(error.get("details"), dict) else {}
    )
    if isinstance(details, dict) and details.get("error_code") in SPEND_LIMIT_CODES:
        return True
    return "spend limit" in str(exc).lower()


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying an idempotent call for."""
    anthropic = sdk()
    if isinstance(exc, anthropic.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, anthropic.APIStatusError):
        if is_spend_limit(exc):
            return False
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def call_with_retry(
    fn: Callable[[], R], *, what: str, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
) -> R:
    """Call `fn`, retrying transient errors per `policy`; raises `JobError` on a spend limit and
    the SDK's own exception on any other final error."""
    anthropic = sdk()
    attempt = 0
    while True:
        try:
            return fn()
        except anthropic.APIStatusError as exc:
            if is_spend_limit(exc):
                raise JobError(
                    f"{what}: the API's spend limit is reached (429, not retried): {exc.message}"
                ) from exc
            if not is_transient(exc) or attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt, retry_after_seconds(exc))
            log.warning("%s: HTTP %s, retrying in %.1fs", what, exc.status_code, wait)
        except anthropic.APIConnectionError:
            if attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt)
            log.warning("%s: connection failed, retrying in %.1fs", what, wait)
        sleep(wait)
        attempt += 1
