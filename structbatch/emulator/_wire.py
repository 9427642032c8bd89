"""Wire-level building blocks shared by every endpoint: ids, timestamps, JSON and API errors.

The emulator's whole point is to be indistinguishable from the real service on the wire, so the
few shapes every response shares (the error envelope, RFC 3339 timestamps, id prefixes) live in
one place instead of being re-typed by each handler.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
from datetime import UTC, datetime
from typing import Any, Final

import orjson

# The error types the API documents, with the HTTP status each one travels with
# (reference/anthropic-api.md §7, [ERR]). `status_for` uses it to answer /v1/messages with the
# status that matches a responder's chosen error type.
ERROR_STATUS: Final[dict[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class ApiError(Exception):
    """An error the emulator answers with, in the API's own envelope.

    Raised anywhere below the HTTP layer; the server turns it into
    `{"type": "error", "error": {"type", "message"}, "request_id"}` with `status`.
    """

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {type}: {message}")
        self.status = status
        self.type = type
        self.message = message
        self.headers = headers or {}


def invalid_request(message: str) -> ApiError:
    """The 400 `invalid_request_error` that most validation failures become."""
    return ApiError(400, "invalid_request_error", message)


def status_for(error_type: str) -> int:
    """HTTP status for an API error type (500 for a type the API does not document)."""
    return ERROR_STATUS.get(error_type, 500)


def error_body(type: str, message: str, request_id: str) -> dict[str, Any]:
    """The API's error envelope; also the `error` of an `errored` batch result."""
    return {"type": "error", "error": {"type": type, "message": message}, "request_id": request_id}


def _encode62(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(chars)


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id such as `msg_01…` derived from `parts` (same parts, same id).

    Real ids are `prefix_01` + 22 base62 characters; result messages get ids derived from the
    batch and custom_id so that two downloads of the same results are byte-identical.
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return f"{prefix}_01{_encode62(digest, 22)}"


class IdMaker:
    """Fresh ids that never repeat, within one run or across restarts.

    Each maker draws a random salt, so two emulator processes (or one restarted on the same state)
    never hand out the same batch or message id; a job store that keeps ids UNIQUE stays valid.
    """

    def __init__(self) -> None:
        self._salt = secrets.token_hex(16)
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            n = next(self._counter)
        return stable_id(prefix, self._salt, n)


def unit_float(*parts: object) -> float:
    """A deterministic number in [0, 1) from `parts`: per-custom_id decisions that survive reruns."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def rfc3339(moment: datetime) -> str:
    """`2026-11-25T10:00:00.123456Z`: the API's timestamp format (UTC, `Z` suffix)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes, as the API sends them."""
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    """Parse JSON (raises `orjson.JSONDecodeError`, a `ValueError`)."""
    return orjson.loads(data)
