"""Follow-up requests that show the model its invalid answer and the validation errors.

The conversation is extended, never rewritten: the original turns, the model's own answer as an
assistant turn, then the errors — as a `tool_result` with `is_error` when the answer was a tool
call (the API requires a tool_use to be answered by a tool_result), a plain user turn otherwise.
In PREFILL mode the prefill is glued back into the answer and offered again at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._modes import MODES, PREFILL_TEXT, Mode
from ._outcome import Failure

_MAX_ERRORS = 12


def feedback_text(failure: Failure) -> str:
    """What the model is told: the failure and up to a dozen validation errors with JSON paths."""
    lines = [f"Your answer could not be used: {failure.message}"]
    errors = failure.details.get("errors") if failure.details else None
    if isinstance(errors, Sequence):
        for err in list(errors)[:_MAX_ERRORS]:
            if isinstance(err, Mapping):
                lines.append(f"- {err.get('path', '$')}: {err.get('message', '')}")
    lines.append("Answer again with the complete, corrected value only, following the schema exactly.")
    return "\n".join(lines)


def reask_params(
    params: Mapping[str, Any], mode: Mode, message: Mapping[str, Any], failure: Failure
) -> dict[str, Any]:
    """The params of the follow-up request for one failed answer (`message` as the API sent it)."""
    out = dict(params)
    turns = list(params["messages"])
    content = [dict(b) for b in message.get("content") or [] if isinstance(b, Mapping)]
    prefill = MODES[mode].prefill
    if prefill is not None and turns and turns[-1].get("role") == "assistant":
        turns.pop()
        content = _glue_prefill(content)
    tool_uses = [b for b in content if b.get("type") == "tool_use"]
    if not content:
        content = [{"type": "text", "text": "(no answer)"}]
    turns.append({"role": "assistant", "content": content})
    text = feedback_text(failure)
    if tool_uses:
        results = [
            {"type": "tool_result", "tool_use_id": b.get("id"), "is_error": True, "content": text}
            for b in tool_uses
        ]
        turns.append({"role": "user", "content": results})
    else:
        turns.append({"role": "user", "content": text})
    if prefill is not None:
        turns.append({"role": "assistant", "content": prefill})
    out["messages"] = turns
    return out


def _glue_prefill(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for block in content:
        if block.get("type") == "text":
            block["text"] = PREFILL_TEXT + str(block.get("text", ""))
            return content
    return [{"type": "text", "text": PREFILL_TEXT}, *content]
