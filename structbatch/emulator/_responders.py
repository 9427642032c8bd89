"""Responders: what "the model" answers to one Messages request.

A responder is any object with `respond(params, *, custom_id) -> Reply`. The emulator validates
the request first, so a responder only ever sees requests the API would accept; it returns a
message (at least `content` and `stop_reason`; the emulator fills in ids and usage), an
`ErrorReply` (an `errored` result, or the matching HTTP error on `/v1/messages`), or an
`EndedReply` (a request that ends `expired` or `canceled` inside a batch).

* `SchemaResponder` answers every structured-output style with schema-valid JSON.
* `ScriptedResponder` gives chosen answers or outcomes per custom_id or prompt marker.
* `RatesResponder` (`_rates.py`) turns a seeded fraction of answers into real failures.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, TypeAlias

from ._messages import refused, text_block, tool_use_block, truncated
from ._prompt_schema import find_schema
from ._request import (
    GENERIC_SCHEMA,
    answer_schema,
    forced_tool,
    output_schema,
    pick_tool,
    prefill_text,
    prompt_schema,
    prompt_text,
    request_key,
)
from ._validation import text_of
from ._values import example_value, invalid_value
from ._wire import dumps, stable_id


@dataclass(frozen=True)
class ErrorReply:
    """The request fails with an API error of `type` (kept in the result's double-nested `error`)."""

    type: str = "api_error"
    message: str = "Internal server error"


@dataclass(frozen=True)
class EndedReply:
    """The request never ran: inside a batch it ends `expired` or `canceled`."""

    status: Literal["expired", "canceled"]


Reply: TypeAlias = Mapping[str, Any] | ErrorReply | EndedReply


class Responder(Protocol):
    """Anything that answers a validated Messages request."""

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Reply:
        """Answer one request; `custom_id` is None outside batches."""


PromptStyle = Literal["bare", "preamble", "fenced", "tags"]
PROMPT_STYLES: Final[tuple[PromptStyle, ...]] = ("bare", "preamble", "fenced", "tags")
_DEFAULT_ERRORS: Final = {
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
    "invalid_request_error": "The request could not be processed (emulated invalid_request_error).",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit (emulated).",
    "timeout_error": "Request timed out",
}


# -- the schema responder -----------------------------------------------------------------------


class SchemaResponder:
    """Answers like a well-behaved model: valid JSON in whatever form the request asks for.

    * forced tool (`tool_choice` tool/any) or tools with `auto`: a `tool_use` block with a
      deterministic schema-valid `input`, stop_reason `tool_use`;
    * `output_config.format` json_schema: the exact JSON as text, `end_turn`;
    * a JSON Schema anywhere in the system prompt or a user turn (fenced or not, any wording;
      see `_prompt_schema`): JSON for it. Fenced in `system` (structbatch's prompt channel) it
      comes in a seeded mix of `styles`: bare, "Here's the …:" preamble + closing remark, fenced
      ```json, `<json>` tags; found elsewhere it is bare JSON, as other clients ask for;
    * prefilled assistant turn: only the continuation after the prefill (the API never repeats it);
    * no schema at all: a sentence of plain prose.

    With several tools and `auto` / `any`, it calls the first tool the conversation has not
    called yet (a function tool, then the output tool, as an agent expects); once every tool
    was called, `auto` answers in text.

    An answer longer than `max_tokens` (≈ 4 chars a token) is cut, stop_reason `max_tokens`, as
    a real model would be.
    """

    def __init__(
        self, *, seed: int = 0, styles: Mapping[PromptStyle, float] | None = None, max_depth: int = 4
    ) -> None:
        self.seed = seed
        self.styles: dict[PromptStyle, float] = dict(styles or dict.fromkeys(PROMPT_STYLES, 1.0))
        if not self.styles or any(s not in PROMPT_STYLES for s in self.styles):
            raise ValueError(f"styles must be a non-empty mapping over {PROMPT_STYLES}")
        self.max_depth = max_depth

    def value_for(self, schema: Any, key: str) -> Any:
        """The deterministic value this responder gives for `schema` on request `key`."""
        return example_value(schema, f"{self.seed}:{key}", max_depth=self.max_depth)

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Reply:
        key = request_key(params, custom_id)
        tool = pick_tool(params) if output_schema(params) is None else forced_tool(params)
        if tool is not None:
            value = self.value_for(tool.get("input_schema", {}), key)
            block = tool_use_block(stable_id("toolu", self.seed, key), tool["name"], value)
            return self._fit({"content": [block], "stop_reason": "tool_use"}, params)
        schema = output_schema(params)
        if schema is not None:
            return self._fit(self._text(dumps(self.value_for(schema, key)).decode()), params)
        found = find_schema(params)
        prefill = prefill_text(params)
        if found is None and (prefill is None or not prefill.strip().startswith(("{", "["))):
            return self._fit(self._text(_prose(params, prefill)), params)
        value = self.value_for(found.schema if found is not None else GENERIC_SCHEMA, key)
        if prefill is not None:
            return self._fit(self._text(_continuation(prefill, dumps(value).decode())), params)
        if found is not None and not found.fenced_in_system:
            return self._fit(self._text(_pretty(value)), params)
        return self._fit(self._text(self._styled(value, params, key)), params)

    def _styled(self, value: Any, params: Mapping[str, Any], key: str) -> str:
        rng = random.Random(f"style:{self.seed}:{key}")
        names = list(self.styles)
        style = rng.choices(names, weights=[self.styles[n] for n in names])[0]
        pretty = _pretty(value)
        if style == "preamble":
            noun = str(prompt_schema(params).get("title") or "extracted data")
            return f"Here's the {noun}:\n\n{pretty}\n\nLet me know if you need anything else."
        if style == "fenced":
            return f"```json\n{pretty}\n```"
        if style == "tags":
            return f"<json>\n{pretty}\n</json>"
        return pretty

    @staticmethod
    def _text(text: str) -> dict[str, Any]:
        return {"content": [text_block(text)], "stop_reason": "end_turn"}

    @staticmethod
    def _fit(message: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        limit = params.get("max_tokens")
        if not isinstance(limit, int):
            return message
        written = sum(
            len(b["text"]) if b["type"] == "text" else len(dumps(b["input"])) for b in message["content"]
        )
        if written <= limit * 4:
            return message
        return truncated(message, keep_chars=limit * 4)


def _prose(params: Mapping[str, Any], prefill: str | None) -> str:
    """A plain-prose answer for a prompt that asks for no structure."""
    messages = [m for m in params.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    asked = " ".join(text_of(messages[-1].get("content")).split()[:8]) if messages else ""
    text = (
        f'Thanks for your message about "{asked}". Here is a short answer in plain prose: the '
        "structbatch emulator replies to prompts without a schema in sentences like this one."
    )
    return _continuation(prefill, text) if prefill else text


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _continuation(prefill: str, answer: str) -> str:
    """What follows `prefill` in `answer` (the whole answer when the prefill is not its start)."""
    stripped = prefill.strip()
    if stripped and answer.startswith(stripped):
        return answer[len(stripped) :]
    return answer


# -- the scripted responder ---------------------------------------------------------------------

ScriptKind = Literal[
    "text", "tool", "message", "errored", "expired", "canceled", "truncated", "refusal", "invalid"
]


@dataclass(frozen=True)
class Scripted:
    """One scripted answer or outcome; build it with the class methods."""

    kind: ScriptKind
    payload: Any = None
    error_type: str = "api_error"
    error_message: str | None = None

    @classmethod
    def text(cls, text: str) -> Scripted:
        """Answer with this text (`end_turn`)."""
        return cls("text", text)

    @classmethod
    def tool(cls, tool_input: Mapping[str, Any], name: str | None = None) -> Scripted:
        """Answer with a `tool_use` block (the forced or first tool unless `name` is given)."""
        return cls("tool", (name, dict(tool_input)))

    @classmethod
    def message(cls, raw: Mapping[str, Any]) -> Scripted:
        """Answer with this raw message (missing fields are filled in)."""
        return cls("message", dict(raw))

    @classmethod
    def errored(cls, type: str = "api_error", message: str | None = None) -> Scripted:
        """Fail with this API error type (`errored` result; HTTP error on /v1/messages)."""
        return cls("errored", error_type=type, error_message=message)

    @classmethod
    def expired(cls) -> Scripted:
        """End `expired` (batches only)."""
        return cls("expired")

    @classmethod
    def canceled(cls) -> Scripted:
        """End `canceled` (batches only)."""
        return cls("canceled")

    @classmethod
    def truncated(cls) -> Scripted:
        """The fallback's answer cut off: stop_reason `max_tokens`, JSON cut mid-way."""
        return cls("truncated")

    @classmethod
    def refusal(cls, category: str | None = "general_harms") -> Scripted:
        """A refusal: stop_reason `refusal` with `stop_details`."""
        return cls("refusal", category)

    @classmethod
    def invalid(cls) -> Scripted:
        """The fallback's answer with a schema-invalid value (tool input or JSON text)."""
        return cls("invalid")


Script: TypeAlias = Scripted | Sequence[Scripted]


class ScriptedResponder:
    """Chosen answers per custom_id (first) or per marker string found in the prompt.

    A script may be a sequence: the first call gets the first item, the next call the next, and
    the last item repeats, so "errored once, then fine" tests resubmission. Requests with no
    script go to `fallback` (a `SchemaResponder` by default).
    """

    def __init__(
        self,
        by_custom_id: Mapping[str, Script] | None = None,
        by_marker: Mapping[str, Script] | None = None,
        *,
        fallback: Responder | None = None,
    ) -> None:
        self.by_custom_id = dict(by_custom_id or {})
        self.by_marker = dict(by_marker or {})
        self.fallback: Responder = fallback or SchemaResponder()
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _script_for(self, params: Mapping[str, Any], custom_id: str | None) -> Scripted | None:
        found: tuple[str, Script] | None = None
        plain = _JOB_SALT.sub("", custom_id) if custom_id is not None else None
        if custom_id is not None and custom_id in self.by_custom_id:
            found = (f"id:{custom_id}", self.by_custom_id[custom_id])
        elif plain is not None and plain in self.by_custom_id:  # a structbatch job's salted id
            found = (f"id:{plain}", self.by_custom_id[plain])
        else:
            text = prompt_text(params)
            for marker, script in self.by_marker.items():
                if marker in text:
                    found = (f"marker:{marker}", script)
                    break
        if found is None:
            return None
        slot, script = found
        if isinstance(script, Scripted):
            return script
        with self._lock:
            n = self._calls.get(slot, 0)
            self._calls[slot] = n + 1
        return script[min(n, len(script) - 1)]

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Reply:
        script = self._script_for(params, custom_id)
        if script is None:
            return self.fallback.respond(params, custom_id=custom_id)
        return apply_script(script, params, custom_id, self.fallback)


#: A structbatch job ends every custom_id with `-<its 8-character salt>`; scripts may name the key.
_JOB_SALT: Final = re.compile(r"-[a-z0-9]{8}$")


def apply_script(
    script: Scripted, params: Mapping[str, Any], custom_id: str | None, fallback: Responder
) -> Reply:
    """The reply `script` stands for; outcomes that alter an answer start from `fallback`'s."""
    kind = script.kind
    if kind == "text":
        return {"content": [text_block(str(script.payload))], "stop_reason": "end_turn"}
    if kind == "tool":
        name, tool_input = script.payload
        tool = forced_tool(params) or next(iter(params.get("tools") or []), {})
        key = request_key(params, custom_id)
        block = tool_use_block(stable_id("toolu", key), name or tool.get("name", "tool"), tool_input)
        return {"content": [block], "stop_reason": "tool_use"}
    if kind == "message":
        return dict(script.payload)
    if kind == "errored":
        message = script.error_message or _DEFAULT_ERRORS.get(script.error_type, "Error")
        return ErrorReply(script.error_type, message)
    if kind in ("expired", "canceled"):
        return EndedReply("expired" if kind == "expired" else "canceled")
    if kind == "refusal":
        return refused(script.payload)
    natural = fallback.respond(params, custom_id=custom_id)
    if not isinstance(natural, Mapping):
        return natural
    if kind == "truncated":
        return truncated(natural)
    return _invalidated(natural, params, request_key(params, custom_id))


def _invalidated(message: Mapping[str, Any], params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`message` with its JSON (tool input, else the text) replaced by a schema-invalid value."""
    content: list[dict[str, Any]] = []
    for block in message.get("content", []):
        block = dict(block)
        if block.get("type") == "tool_use":
            tools = {t.get("name"): t for t in params.get("tools") or [] if isinstance(t, dict)}
            schema = tools.get(block.get("name"), {}).get("input_schema", {})
            bad = invalid_value(schema, key)
            block["input"] = bad if isinstance(bad, dict) else {"value": bad}
        elif block.get("type") == "text":
            block["text"] = dumps(invalid_value(answer_schema(params), key)).decode()
        content.append(block)
    return {**message, "content": content}
