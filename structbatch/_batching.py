"""User keys -> custom_ids, byte-exact request entries, and splitting into batches.

Sizes are measured on the exact bytes sent: each entry is serialised once here, stored, and the
batch body is assembled from those same bytes, so the limit check and the wire never disagree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

# Message Batches limits (reference/anthropic-api.md section 1, [BP]): 100,000 requests or 256 MB
# per batch, whichever comes first; custom_id is 1-64 characters of [a-zA-Z0-9_-].
MAX_BATCH_REQUESTS = 100_000
MAX_BATCH_BYTES = 256 * 1024 * 1024
CUSTOM_ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

#: The longest key kept as its own custom_id: 64 less a job suffix (`-` and 8 salt characters).
MAX_KEPT_KEY = 55

_BODY_OPEN = b'{"requests":['
_BODY_CLOSE = b"]}"


def custom_id_for(key: str, *, salt: int = 0, job: str = "") -> str:
    """A valid custom_id for a user key: the key itself when valid (and at most 55 characters),
    else a readable, hashed form; with `job` (the job's random salt, see `_config`), followed by
    `-<job>` — so `without_job_salt` of a salted id is the unsalted one.

    The job suffix makes a job's custom_ids its own: another job over the same keys, even under
    the same API key, never sends one of them, which is what lets reconciliation prove a batch
    ours (see `_submit`). The hashed form keeps a sanitised prefix of the key (for humans reading
    results) and adds 16 hex digits of its SHA-256, so distinct keys get distinct ids. `salt` > 0
    changes the digest, for the (astronomically rare) collision the store detects.
    """
    suffix = f"-{job}" if job else ""
    if salt == 0 and len(key) <= MAX_KEPT_KEY and CUSTOM_ID_PATTERN.match(key):
        return key + suffix
    digest = hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:16]
    readable = re.sub(r"[^a-zA-Z0-9_-]+", "_", key).strip("_")[: MAX_KEPT_KEY - 17]
    return (f"{readable}-{digest}" if readable else f"k-{digest}") + suffix


_JOB_SUFFIX = re.compile(r"-[a-z0-9]{8}$")


def without_job_salt(custom_id: str) -> str:
    """`custom_id` without a job's `-<salt>` suffix (for tools keyed by unsalted ids)."""
    return _JOB_SUFFIX.sub("", custom_id)


def split_params(params: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """`(messages JSON, every other param as a JSON object)`: how the store keeps a request.

    Requests of one job share everything but their turns (model, tools, schema, system), so the
    store keeps that part once per distinct shape and only the turns per request.
    """
    rest = {k: v for k, v in params.items() if k != "messages"}
    return orjson.dumps(params.get("messages", [])), orjson.dumps(rest)


def join_params(messages: bytes, rest: bytes) -> bytes:
    """The exact params bytes sent: `{"messages":...,<rest>}` (turns first, then the rest)."""
    if rest == b"{}":
        return b'{"messages":' + messages + b"}"
    return b'{"messages":' + messages + b"," + rest[1:]


def encode_params(params: Mapping[str, Any]) -> bytes:
    """The params JSON exactly as it will be sent (compact, UTF-8, turns first)."""
    if "messages" not in params:  # not a valid request, but encoded faithfully all the same
        return orjson.dumps(params)
    return join_params(*split_params(params))


def entry_bytes(custom_id: str, params_json: bytes) -> bytes:
    """One element of the batch body's `requests` array, byte for byte."""
    return b'{"custom_id":' + orjson.dumps(custom_id) + b',"params":' + params_json + b"}"


def entry_size(custom_id: str, params_json: bytes) -> int:
    """`len(entry_bytes(...))` without building it."""
    return len(orjson.dumps(custom_id)) + len(params_json) + len(b'{"custom_id":,"params":}')


def body_overhead(n: int) -> int:
    """Bytes of the body around `n` entries: the wrapper and the commas between entries."""
    return len(_BODY_OPEN) + len(_BODY_CLOSE) + max(n - 1, 0)


def build_body(entries: Iterable[bytes]) -> bytes:
    """Assemble the `POST /v1/messages/batches` body from pre-serialised entries."""
    return _BODY_OPEN + b",".join(entries) + _BODY_CLOSE


def iter_body(entries: Iterable[bytes], chunk: int = 1 << 20) -> Iterator[bytes]:
    """The same bytes as `build_body`, streamed in ~1 MB pieces.

    A 256 MB batch is sent without ever holding the whole body (or two copies of it) in memory;
    the caller sets Content-Length from the sizes it recorded, so nothing is chunk-encoded.
    """
    buf = bytearray(_BODY_OPEN)
    first = True
    for entry in entries:
        if not first:
            buf += b","
        first = False
        buf += entry
        if len(buf) >= chunk:
            yield bytes(buf)
            buf.clear()
    buf += _BODY_CLOSE
    yield bytes(buf)


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-batch caps. Defaults are the API's; lower them for smaller organisation limits."""

    max_requests: int = MAX_BATCH_REQUESTS
    max_bytes: int = MAX_BATCH_BYTES

    def __post_init__(self) -> None:
        if not 1 <= self.max_requests <= MAX_BATCH_REQUESTS:
            raise ValueError(f"max_requests must be 1..{MAX_BATCH_REQUESTS}, got {self.max_requests}")
        if not 64 <= self.max_bytes <= MAX_BATCH_BYTES:
            raise ValueError(f"max_bytes must be 64..{MAX_BATCH_BYTES}, got {self.max_bytes}")

    def fits_alone(self, size: int) -> bool:
        """Whether one entry of `size` bytes can ever be sent in a batch of its own."""
        return size + body_overhead(1) <= self.max_bytes


def shard(items: Iterable[tuple[int, int]], limits: Limits) -> Iterator[list[int]]:
    """Split `(id, entry_size)` pairs, in order, into groups that respect both caps.

    Greedy and streaming: a group closes when the next entry would break the count or byte cap.
    Entries too large for any batch must be filtered out by the caller (`Limits.fits_alone`).
    """
    group: list[int] = []
    size = len(_BODY_OPEN) + len(_BODY_CLOSE)
    for ident, n in items:
        extra = n + (1 if group else 0)
        if group and (len(group) >= limits.max_requests or size + extra > limits.max_bytes):
            yield group
            group, size, extra = [], len(_BODY_OPEN) + len(_BODY_CLOSE), n
        group.append(ident)
        size += extra
    if group:
        yield group
