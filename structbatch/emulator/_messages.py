"""Building `Message` objects exactly as the API returns them, with plausible usage.

Responders describe *what* the model answered (content + stop_reason); this module turns that
into the full wire object (every field of the SDK's `Message`/`Usage`, ids, `service_tier`), and
provides the transformations that turn a good answer into a bad one the way real models fail
(truncated at `max_tokens`, refused, schema-invalid tool input).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from ._wire import dumps

DEFAULT_REFUSAL: Final = "I can't help with that request."


def text_block(text: str) -> dict[str, Any]:
    """A `TextBlock` with every field present."""
    return {"citations": None, "text": text, "type": "text"}


def tool_use_block(tool_id: str, name: str, tool_input: Mapping[str, Any]) -> dict[str, Any]:
    """A `ToolUseBlock` with every field present (`caller` direct, as for a client tool)."""
    return {
        "id": tool_id,
        "caller": {"type": "direct"},
        "input": dict(tool_input),
        "name": name,
        "type": "tool_use",
        "toolset_name": None,
    }


def estimate_input_tokens(params: Mapping[str, Any]) -> int:
    """≈ characters / 4 of everything the model reads; `count_tokens` and `usage` agree on it."""
    read = {k: params.get(k) for k in ("system", "messages", "tools", "tool_choice", "output_config")}
    return max(1, len(dumps(read)) // 4)


def output_chars(content: list[Mapping[str, Any]]) -> int:
    """Characters the model wrote: text, and tool inputs as JSON."""
    total = 0
    for block in content:
        if block.get("type") == "text":
            total += len(block.get("text", ""))
        elif block.get("type") == "tool_use":
            total += len(dumps(block.get("input", {})))
    return total


def usage(
    params: Mapping[str, Any], content: list[Mapping[str, Any]], *, service_tier: str
) -> dict[str, Any]:
    """A `Usage` object with every field: input ≈ request chars/4, output ≈ output chars/4.

    When the request marks anything with `cache_control`, three quarters of the input is reported
    as a cache read: deterministic, and enough for code that sums cache tokens to be exercised.
    """
    total_in = estimate_input_tokens(params)
    cached = total_in * 3 // 4 if b"cache_control" in dumps(params) else 0
    out = max(1, math.ceil(output_chars(content) / 4))
    return {
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "inference_geo": "not_available",
        "input_tokens": total_in - cached,
        "output_tokens": out,
        "output_tokens_details": {"thinking_tokens": 0},
        "server_tool_use": None,
        "service_tier": service_tier,
        "speed": None,
    }


def complete_message(
    partial: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    msg_id: str,
    service_tier: str,
    model: str | None = None,
) -> dict[str, Any]:
    """Fill in every `Message` field a responder left out (id, model, usage, nulls).

    `model` is the id the API reports (the dated snapshot of an alias); default the requested id.

    Responders return at least `content` and `stop_reason`; a scripted raw message may set more,
    and what it sets wins. `usage` is merged so a partial usage keeps the computed rest.
    """
    content = list(partial.get("content", []))
    message: dict[str, Any] = {
        "id": msg_id,
        "container": None,
        "content": content,
        "diagnostics": None,
        "model": model if model is not None else params.get("model"),
        "role": "assistant",
        "stop_details": None,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "type": "message",
    }
    message.update({k: v for k, v in partial.items() if k != "usage"})
    computed = usage(params, content, service_tier=service_tier)
    if message["stop_reason"] == "max_tokens" and isinstance(params.get("max_tokens"), int):
        computed["output_tokens"] = params["max_tokens"]
    message["usage"] = {**computed, **dict(partial.get("usage", {})), "service_tier": service_tier}
    return message


# -- how answers go wrong -----------------------------------------------------------------------


def truncated(message: Mapping[str, Any], keep_chars: int | None = None) -> dict[str, Any]:
    """The same answer cut off by `max_tokens`: text cut mid-JSON, tool input missing keys."""
    content: list[dict[str, Any]] = []
    for block in message.get("content", []):
        block = dict(block)
        if block.get("type") == "text":
            text = block["text"]
            cut = keep_chars if keep_chars is not None else max(1, len(text) // 2)
            block["text"] = text[: max(0, min(cut, len(text) - 1))]
        elif block.get("type") == "tool_use":
            keys = list(block.get("input", {}))
            block["input"] = {k: block["input"][k] for k in keys[: len(keys) // 2]}
        content.append(block)
    return {**message, "content": content, "stop_reason": "max_tokens", "stop_details": None}


def refused(category: str | None = "general_harms", explanation: str | None = None) -> dict[str, Any]:
    """A refusal: HTTP 200 / `succeeded`, stop_reason `refusal` with `stop_details` [SDK]."""
    return {
        "content": [text_block(DEFAULT_REFUSAL)],
        "stop_reason": "refusal",
        "stop_details": {
            "category": category,
            "explanation": explanation or "The request was declined by a safety classifier (emulated).",
            "type": "refusal",
        },
    }
