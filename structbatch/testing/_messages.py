"""The Messages API shapes every answer strategy builds: a `Sent` answer and its content blocks.

Answers are built as plain dicts with every field of the API's `Message` (not SDK objects), so a
test can feed them to `spec.parse`, to `anthropic.types.Message.model_validate`, or into a batch
result line alike. Kept apart so good answers, broken answers and result lines share one builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._outcome import Outcome
from .._schema import Spec


@dataclass(frozen=True)
class Sent:
    """One answer as the API returns it: a Messages API `Message` dict, and the prefill it continues.

    `message` has every field of the API's `Message` (`id`, `type`, `role`, `model`, `content`,
    `stop_reason`, `stop_sequence`, `usage`), so `anthropic.types.Message.model_validate(message)`
    accepts it. `prefill` is the assistant prefill the request ended with (`"{"` in PREFILL mode),
    or None. `style` names how it was made (for reading failures).
    """

    message: dict[str, Any]
    prefill: str | None = None
    style: str = ""

    @property
    def text(self) -> str:
        """The text blocks joined (what `spec.parse_text` would see)."""
        return "\n".join(b["text"] for b in self.message["content"] if b.get("type") == "text")

    @property
    def stop_reason(self) -> str | None:
        stop = self.message.get("stop_reason")
        return stop if isinstance(stop, str) else None

    def parse(self, spec: Spec[Any]) -> Outcome[Any]:
        """`spec.parse(self.message, prefill=self.prefill)`."""
        return spec.parse(self.message, prefill=self.prefill)


def api_message(
    content: list[dict[str, Any]], stop_reason: str | None, model: str = "claude-haiku-4-5"
) -> dict[str, Any]:
    """An assistant `Message` dict; the usage is fixed because no strategy's promise depends on it."""
    return {
        "id": "msg_01" + "X" * 22,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 120,
            "output_tokens": 60,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def text_block(text: str) -> dict[str, Any]:
    """A `text` content block."""
    return {"type": "text", "text": text, "citations": None}


def tool_use_block(name: str, tool_input: Any, n: int = 0) -> dict[str, Any]:
    """A `tool_use` content block; `n` tells apart the ids of several blocks in one message."""
    return {"type": "tool_use", "id": f"toolu_01{n:022d}", "name": name, "input": tool_input}
