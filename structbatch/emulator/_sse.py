"""Server-sent events for `POST /v1/messages` with `"stream": true`.

The stream is derived from the very message the non-streaming call would return, so the SDK's
accumulator (`lib/streaming/_messages.py`) rebuilds exactly that message: `message_start`
carries it with empty content and the final usage except `output_tokens`, each block is
`content_block_start` (text `""`, tool input `{}`, thinking `""`) -> deltas -> `content_block_stop`,
then `message_delta` (stop reason and details, cumulative usage) and `message_stop`. A `ping`
follows `message_start`, as the API sends one, and another every `_PING_EVERY` events.

Faults act on the event list: an `error` event after a fraction of the events ends the stream
the way an overloaded API does mid-answer; a cut is applied by the transport to the bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from ._wire import dumps

_TEXT_CHUNK: Final = 24  # characters per text_delta / thinking_delta
_JSON_CHUNK: Final = 32  # characters per input_json_delta
_PING_EVERY: Final = 50
_DELTA_USAGE_KEYS: Final = (
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "input_tokens",
    "output_tokens",
    "output_tokens_details",
    "server_tool_use",
)

Event = tuple[str, dict[str, Any]]


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _block_events(index: int, block: Mapping[str, Any]) -> Iterator[Event]:
    kind = block.get("type")
    if kind == "text":
        yield _start(index, {**block, "text": ""})
        for piece in _pieces(str(block.get("text", "")), _TEXT_CHUNK):
            yield _delta(index, {"type": "text_delta", "text": piece})
    elif kind in ("tool_use", "server_tool_use"):
        yield _start(index, {**block, "input": {}})
        payload = dumps(block.get("input", {})).decode()
        yield _delta(index, {"type": "input_json_delta", "partial_json": ""})
        for piece in _pieces(payload, _JSON_CHUNK):
            yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
    elif kind == "thinking":
        yield _start(index, {**block, "thinking": "", "signature": ""})
        for piece in _pieces(str(block.get("thinking", "")), _TEXT_CHUNK):
            yield _delta(index, {"type": "thinking_delta", "thinking": piece})
        yield _delta(index, {"type": "signature_delta", "signature": str(block.get("signature", ""))})
    else:  # redacted thinking, server tool results: sent whole in the start event
        yield _start(index, dict(block))
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _start(index: int, block: dict[str, Any]) -> Event:
    return "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def message_events(message: Mapping[str, Any]) -> list[Event]:
    """The events that stream `message` (a complete wire `Message`), pings included."""
    usage = dict(message.get("usage") or {})
    start_usage = {**usage, "output_tokens": min(1, int(usage.get("output_tokens", 1)))}
    head = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "stop_details": None,
        "usage": start_usage,
    }
    body: list[Event] = []
    for index, block in enumerate(message.get("content") or []):
        body.extend(_block_events(index, block))
    delta = {
        "container": message.get("container"),
        "stop_details": message.get("stop_details"),
        "stop_reason": message.get("stop_reason"),
        "stop_sequence": message.get("stop_sequence"),
    }
    delta_usage = {key: usage.get(key) for key in _DELTA_USAGE_KEYS}
    events: list[Event] = [("message_start", {"type": "message_start", "message": head}), _ping()]
    for n, event in enumerate(body, start=1):
        events.append(event)
        if n % _PING_EVERY == 0:
            events.append(_ping())
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": delta_usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _ping() -> Event:
    return "ping", {"type": "ping"}


def with_error(events: list[Event], fraction: float, error: dict[str, Any]) -> list[Event]:
    """The stream broken by an `error` event after `fraction` of its events (at least the start)."""
    keep = max(1, min(len(events) - 1, int(len(events) * fraction)))
    return [*events[:keep], ("error", error)]


def encode(events: list[Event]) -> Iterator[bytes]:
    """Each event as its SSE frame: `event: TYPE`, `data: JSON`, blank line."""
    for name, data in events:
        yield b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"
