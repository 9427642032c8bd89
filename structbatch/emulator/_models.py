"""The emulator's model catalogue: `GET /v1/models` and the per-model request rules.

One dated table, shaped exactly like the SDK's `ModelInfo` / `ModelCapabilities`, answers two
questions: what `/v1/models` returns, and which requests a model refuses (assistant prefill on
Claude 4.6 and later; forced `tool_choice` on the newest models). Facts and sources are in
`reference/anthropic-api.md` §3-§5 (checked 2026-11-25); release dates and token limits not
recorded there are plausible values, not facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from ._wire import rfc3339

Lifecycle = Literal["active", "deprecated", "retired"]
Line = Literal["haiku", "sonnet", "opus", "fable", "mythos"]


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry and the rules the emulator enforces for it."""

    id: str
    display_name: str
    line: Line
    released: str  # ISO date
    max_tokens: int
    max_input_tokens: int
    accepts_prefill: bool = True
    accepts_forced_tool: bool = True
    thinking_always_on: bool = False
    structured_outputs: bool = True
    lifecycle: Lifecycle = "active"
    deprecated_at: str | None = None
    retires_at: str | None = None
    aliases: tuple[str, ...] = ()

    def info(self) -> dict[str, Any]:
        """This model as the `ModelInfo` JSON object (every field present, as the API sends it)."""
        return {
            "id": self.id,
            "capabilities": self._capabilities(),
            "created_at": _ts(self.released),
            "deprecated_at": _ts(self.deprecated_at),
            "display_name": self.display_name,
            "lifecycle": self.lifecycle,
            "line": self.line,
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
            "retires_at": _ts(self.retires_at),
            "type": "model",
        }

    def _capabilities(self) -> dict[str, Any]:
        def yes(flag: bool = True) -> dict[str, bool]:
            return {"supported": flag}

        return {
            "batch": yes(),
            "citations": yes(),
            "code_execution": yes(),
            "context_management": {
                "clear_thinking_20251015": yes(),
                "clear_tool_uses_20250919": yes(),
                "compact_20260112": yes(),
                "supported": True,
            },
            "effort": {
                "high": yes(),
                "low": yes(),
                "max": yes(),
                "medium": yes(),
                "supported": True,
                "xhigh": yes(self.line in ("opus", "fable", "mythos")),
            },
            "image_input": yes(),
            "pdf_input": yes(),
            "server_tools": {"code_execution": yes(), "supported": True, "web_search": yes()},
            "structured_outputs": yes(self.structured_outputs),
            "thinking": {
                "supported": True,
                "types": {
                    "adaptive": yes(),
                    "between_tools": yes(not self.thinking_always_on),
                    "disabled": yes(not self.thinking_always_on),
                    "enabled": yes(not self.thinking_always_on),
                },
            },
        }


def _ts(day: str | None) -> str | None:
    if day is None:
        return None
    return rfc3339(datetime.fromisoformat(day).replace(tzinfo=UTC))


def _m(
    id: str, name: str, line: Line, released: str, max_tokens: int = 128_000, ctx: int = 1_000_000, **kw: Any
) -> ModelSpec:
    return ModelSpec(id, name, line, released, max_tokens, ctx, **kw)


# Prefill: Claude 4.6 and later reject it (§3). Forced tool_choice: Opus 5.5, Sonnet 5.5, Fable 5.x,
# Mythos 5 and Mythos Preview reject it (§4). Thinking always on: Opus 5.5, Fable 5.2 (§5).
_NEW = {"accepts_prefill": False}
_NO_FORCE = {"accepts_prefill": False, "accepts_forced_tool": False}

CATALOGUE: Final[tuple[ModelSpec, ...]] = (
    _m("claude-fable-5-2", "Claude Fable 5.2", "fable", "2026-11-09", **_NO_FORCE, thinking_always_on=True),
    _m("claude-mythos-5-2", "Claude Mythos 5.2", "mythos", "2026-11-02", **_NEW),
    _m("claude-haiku-5-5", "Claude Haiku 5.5", "haiku", "2026-10-07", **_NEW),
    _m("claude-sonnet-5-5", "Claude Sonnet 5.5", "sonnet", "2026-09-28", **_NO_FORCE),
    _m("claude-opus-5-5", "Claude Opus 5.5", "opus", "2026-09-22", **_NO_FORCE, thinking_always_on=True),
    _m("claude-fable-5-1", "Claude Fable 5.1", "fable", "2026-09-01", **_NO_FORCE),
    _m("claude-mythos-5-1", "Claude Mythos 5.1", "mythos", "2026-08-25", **_NEW),
    _m("claude-sonnet-5", "Claude Sonnet 5", "sonnet", "2026-08-05", **_NEW),
    _m("claude-opus-5", "Claude Opus 5", "opus", "2026-07-24", **_NEW),
    _m("claude-fable-5", "Claude Fable 5", "fable", "2026-07-01", **_NO_FORCE),
    _m("claude-mythos-5", "Claude Mythos 5", "mythos", "2026-06-10", **_NO_FORCE),
    _m("claude-opus-4-8", "Claude Opus 4.8", "opus", "2026-05-20", **_NEW),
    _m("claude-opus-4-7", "Claude Opus 4.7", "opus", "2026-04-16", **_NEW),
    _m(
        "claude-mythos-preview",
        "Claude Mythos Preview",
        "mythos",
        "2026-04-07",
        **_NO_FORCE,
        lifecycle="deprecated",
        deprecated_at="2026-05-01",
        retires_at="2026-06-30",
    ),
    _m("claude-opus-4-6", "Claude Opus 4.6", "opus", "2026-02-05", **_NEW),
    _m(
        "claude-sonnet-4-6", "Claude Sonnet 4.6", "sonnet", "2026-02-17", **_NEW
    ),  # 128K, as /v1/models reports
    _m(
        "claude-opus-4-5-20251101",
        "Claude Opus 4.5",
        "opus",
        "2025-11-24",
        64_000,
        200_000,
        lifecycle="deprecated",
        deprecated_at="2026-07-22",
        retires_at="2027-01-22",
        aliases=("claude-opus-4-5",),
    ),
    _m(
        "claude-haiku-4-5-20251001",
        "Claude Haiku 4.5",
        "haiku",
        "2025-10-15",
        64_000,
        200_000,
        aliases=("claude-haiku-4-5",),
    ),
    _m(
        "claude-sonnet-4-5-20250929",
        "Claude Sonnet 4.5",
        "sonnet",
        "2025-09-29",
        64_000,
        200_000,
        lifecycle="deprecated",
        deprecated_at="2026-05-30",
        retires_at="2026-11-30",
        aliases=("claude-sonnet-4-5",),
    ),
)


class Catalogue:
    """Model lookup by id or alias, newest first, as `/v1/models` lists them."""

    def __init__(self, models: tuple[ModelSpec, ...] = CATALOGUE) -> None:
        self.models = tuple(sorted(models, key=lambda m: m.released, reverse=True))
        self._by_id: dict[str, ModelSpec] = {}
        for model in self.models:
            self._by_id[model.id] = model
            for alias in model.aliases:
                self._by_id[alias] = model

    def get(self, model_id: str) -> ModelSpec | None:
        """The entry for an id or alias, or None when the API would answer 404."""
        return self._by_id.get(model_id)

    def canonical(self, model_id: str) -> str:
        """The id the API reports in a message for a requested id or alias (the dated snapshot)."""
        model = self._by_id.get(model_id)
        return model.id if model is not None else model_id
