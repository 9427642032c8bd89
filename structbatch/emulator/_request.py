"""Reading a Messages request the way a model would: which tool to call, which schema to follow.

Shared by every responder, so they agree on what a request asks for: the forced or next tool, the
`output_config` schema, a schema anywhere in the prompt (`_prompt_schema`), a prefill, and the
key deterministic choices hang on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

import orjson

from ._prompt_schema import find_schema
from ._validation import text_of

GENERIC_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}


def _blocks(content: Any) -> list[Any]:
    return content if isinstance(content, list) else []


def request_key(params: Mapping[str, Any], custom_id: str | None) -> str:
    """What deterministic choices hang on: the custom_id, else a hash of the request.

    The hash ignores key order (clients serialise the same request in different orders, e.g.
    the SDK's `stream()` and `create()`), so equal requests get equal answers.
    """
    if custom_id is not None:
        return custom_id
    return hashlib.sha256(orjson.dumps(params, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


# -- reading a request ---------------------------------------------------------------------------


def forced_tool(params: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The tool a `tool_choice` of type tool/any forces, if any."""
    choice = params.get("tool_choice") or {}
    tools = [t for t in params.get("tools") or [] if isinstance(t, dict)]
    if choice.get("type") == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if choice.get("type") == "any" and tools:
        return tools[0]
    return None


def pick_tool(params: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The tool the model calls: the forced one, else the first not called yet in the conversation.

    With `auto`, a conversation that already called every tool gets a text answer (None);
    with `any`, the last tool (the output tool of an agent) is called again.
    """
    choice = params.get("tool_choice") or {}
    tools = [t for t in params.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
    if choice.get("type") == "tool":
        return forced_tool(params)
    if not tools or choice.get("type") == "none":
        return None
    called = {
        block.get("name")
        for message in params.get("messages") or []
        if isinstance(message, dict) and message.get("role") == "assistant"
        for block in _blocks(message.get("content"))
        if isinstance(block, dict) and block.get("type") == "tool_use"
    }
    fresh = [t for t in tools if t.get("name") not in called]
    if fresh:
        return fresh[0]
    return tools[-1] if choice.get("type") == "any" else None


def output_schema(params: Mapping[str, Any]) -> Any | None:
    """The JSON Schema of `output_config.format`, if the request asks for native structured output."""
    fmt = (params.get("output_config") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return fmt.get("schema")
    return None


def prompt_schema(params: Mapping[str, Any]) -> Any:
    """The schema a prompt carries (system prompt or user turns, any wording), else the generic one."""
    found = find_schema(params)
    return found.schema if found is not None else GENERIC_SCHEMA


def prefill_text(params: Mapping[str, Any]) -> str | None:
    """The text of a final assistant turn (the prefill), or None."""
    messages = params.get("messages") or []
    if messages and messages[-1].get("role") == "assistant":
        return text_of(messages[-1].get("content"))
    return None


def answer_schema(params: Mapping[str, Any]) -> Any:
    """The schema the answer to `params` should follow, whichever mode the request uses."""
    tool = forced_tool(params)
    if tool is not None:
        return tool.get("input_schema", {})
    schema = output_schema(params)
    return schema if schema is not None else prompt_schema(params)


def prompt_text(params: Mapping[str, Any]) -> str:
    """Everything a marker may be found in: system plus every message's text."""
    parts = [text_of(params.get("system") or "")]
    parts += [text_of(m.get("content")) for m in params.get("messages") or [] if isinstance(m, dict)]
    return "\n".join(parts)
