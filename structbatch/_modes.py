"""The `ModeDef` table (how each `Mode` shapes a request, when it is refused, whether it prefills,
its rank for `AUTO`) and the dated table of which models allow which mode.

A mode is one entry in `MODES`; the request builder here, the re-ask and the job's collection
read the entry (`MODES[mode].prefill`...) instead of branching on the mode. Everything a mode
cannot do is refused before any request is built, with the mode to use instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from ._errors import InputError, ModeError
from ._types import Mode

if TYPE_CHECKING:
    import anthropic

    from ._schema import Spec

__all__ = [
    "ALWAYS_THINKING",
    "CAPABILITIES_CHECKED",
    "CAPABILITY_TABLE",
    "MODES",
    "PREFILL_TEXT",
    "UNKNOWN_MODEL",
    "Capabilities",
    "Mode",
    "ModeDef",
    "Refusal",
    "Request",
    "build_params",
    "capabilities",
    "check_mode",
    "refresh_capabilities",
    "resolve_mode",
    "schema_instructions",
    "split_system",
]

#: what PREFILL mode puts in the assistant turn (and glues back before parsing)
PREFILL_TEXT = "{"


# ---- capability table --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one model accepts, as far as output modes are concerned."""

    forced_tools: bool
    prefill: bool
    structured_outputs: bool
    known: bool = True


# Checked 2026-11-25 against ../shared/reference/anthropic-api.md, whose sources are:
# - prefill rejected by Claude 4.6 and later, and Haiku 5.5 (models/migration-guide,
#   models/haiku-5-5/migration-guide); Haiku 4.5 and older accept it (reference section 3).
# - forced tool_choice rejected by Opus 5.5, Sonnet 5.5, Fable 5.x (models/opus-5-5 whats-new,
#   Sonnet 5.5 overview); Mythos 5 / Preview also marked so by pydantic-ai's profiles (section 4).
# - structured outputs: Fable 5/5.1, Mythos 5/5.1/Preview, Opus 4.5-4.8/5/5.5, Sonnet 4.5/4.6/5,
#   Haiku 4.5 ([SO] 2026-09-26); Sonnet 5.5, Haiku 5.5, Fable 5.2 shipped later with
#   output_config.format as the documented replacement for forced tools (section 4), so assumed.
# Keys are model-id prefixes without "claude-"; the longest matching prefix wins, so dated ids
# ("claude-opus-4-5-20251101") match too. `refresh_capabilities` updates an entry from the API.
CAPABILITIES_CHECKED = "2026-11-25"
_T, _F = True, False
CAPABILITY_TABLE: dict[str, Capabilities] = {
    # family prefix: (forced_tools, prefill, structured_outputs)
    "3": Capabilities(_T, _T, _F),
    "opus-4": Capabilities(_T, _T, _F),
    "sonnet-4": Capabilities(_T, _T, _F),
    "opus-4-1": Capabilities(_T, _T, _F),
    "opus-4-5": Capabilities(_T, _T, _T),
    "sonnet-4-5": Capabilities(_T, _T, _T),
    "haiku-4-5": Capabilities(_T, _T, _T),
    "opus-4-6": Capabilities(_T, _F, _T),
    "opus-4-7": Capabilities(_T, _F, _T),
    "opus-4-8": Capabilities(_T, _F, _T),
    "sonnet-4-6": Capabilities(_T, _F, _T),
    "opus-5": Capabilities(_T, _F, _T),
    "sonnet-5": Capabilities(_T, _F, _T),
    "haiku-5-5": Capabilities(_T, _F, _T),
    "opus-5-5": Capabilities(_F, _F, _T),
    "sonnet-5-5": Capabilities(_F, _F, _T),
    "fable-5": Capabilities(_F, _F, _T),
    "mythos": Capabilities(_F, _F, _T),
}
# Models whose thinking is always on, so a forced tool is always refused (reference section 5).
ALWAYS_THINKING = ("opus-5-5", "fable-5-2")

#: Assumed for a model the table does not know: what every Claude model up to 4.5 accepted.
#: Preflight (count_tokens) catches a wrong guess before anything is submitted.
UNKNOWN_MODEL = Capabilities(forced_tools=True, prefill=True, structured_outputs=False, known=False)

_overrides: dict[str, Capabilities] = {}


def _family(model: str) -> str:
    name = model.strip().lower()
    name = name.removeprefix("anthropic.").removeprefix("claude-")
    return re.sub(r"-\d{8}(-v\d+(:\d+)?)?$", "", name)


def capabilities(model: str) -> Capabilities:
    """The capabilities of `model` from the table (or a refreshed entry), else `UNKNOWN_MODEL`."""
    if model in _overrides:
        return _overrides[model]
    family = _family(model)
    best = ""
    for prefix in CAPABILITY_TABLE:
        if (family == prefix or family.startswith(prefix + "-")) and len(prefix) > len(best):
            best = prefix
    return CAPABILITY_TABLE[best] if best else UNKNOWN_MODEL


def refresh_capabilities(client: anthropic.Anthropic, model: str) -> Capabilities:
    """Update `model`'s entry from `GET /v1/models/{id}` and return it.

    The API reports `structured_outputs` support; it says nothing about forced tools or prefill,
    so those stay as the table has them.
    """
    info = client.models.retrieve(model)
    current = capabilities(model)
    caps = info.capabilities
    if caps is not None:
        current = replace(current, structured_outputs=bool(caps.structured_outputs.supported), known=True)
    _overrides[model] = current
    return current


def _thinking_enabled(extra: Mapping[str, Any], model: str) -> bool:
    thinking = extra.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive"):
        return True
    return any(_family(model).startswith(m) for m in ALWAYS_THINKING)


# ---- the mode table -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """What a refusal rule looks at: the spec, the model and its capabilities, thinking."""

    spec: Spec[Any]
    model: str
    caps: Capabilities
    thinking: bool

    @property
    def unknown(self) -> str:
        """A note for refusals based on a guess about a model the table does not know."""
        if self.caps.known:
            return ""
        return (
            f" (assumed: {self.model!r} is not in the capability table of {CAPABILITIES_CHECKED}; "
            "structbatch.refresh_capabilities(client, model) asks the API)"
        )


class Refusal(NamedTuple):
    """Why a mode cannot serve a request, and what to do besides using another mode."""

    reason: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class ModeDef:
    """One mode, declaratively.

    refusal: why the mode cannot serve a request (None when it can).
    shape: adds the mode's part to request params built so far (tools, output_config, system...).
    prefill: the text the mode puts in a final assistant turn, or None; the answer is read with
        it glued back, and the conversation must end with a user turn.
    auto_rank: the order in which `AUTO` tries the mode (lower first); None: never chosen by AUTO.
    """

    mode: Mode
    refusal: Callable[[Request], Refusal | None]
    shape: Callable[[Spec[Any], dict[str, Any]], None]
    prefill: str | None = None
    auto_rank: int | None = None


def _tool_refusal(req: Request) -> Refusal | None:
    if not req.caps.forced_tools:
        return Refusal(
            f'model {req.model!r} rejects a forced tool_choice (tool_choice: type "tool" is not '
            f"supported for this model){req.unknown}",
            " or Mode.AUTO",
        )
    if req.thinking:
        return Refusal(
            f"Mode.TOOL with extended thinking on model {req.model!r}: the API answers 'Thinking "
            "may not be enabled when tool_choice forces tool use.'",
            " or turn thinking off",
        )
    return None


def _json_schema_refusal(req: Request) -> Refusal | None:
    if not req.caps.structured_outputs:
        return Refusal(
            f"model {req.model!r} does not support structured outputs (output_config.format){req.unknown}",
            " or Mode.AUTO",
        )
    subset = req.spec.api_subset
    if not subset.fits:
        return Refusal(
            f"schema {req.spec.name!r} is outside the API's structured-output subset, so model "
            f"{req.model!r} cannot take it as output_config.format: {'; '.join(subset.problems)}"
        )
    return None


def _prefill_refusal(req: Request) -> Refusal | None:
    if not req.caps.prefill:
        return Refusal(
            f"model {req.model!r} rejects assistant prefill (Claude 4.6 and later answer 400){req.unknown}",
            " or Mode.AUTO",
        )
    if req.thinking:
        return Refusal(
            f"Mode.PREFILL with extended thinking on model {req.model!r} is rejected by the API "
            "(a thinking turn cannot be prefilled)"
        )
    return None


def _never_refused(req: Request) -> Refusal | None:
    return None


def schema_instructions(spec: Spec[Any]) -> str:
    """The system-prompt text PROMPT and PREFILL modes use to put the schema to the model."""
    parts = [
        f"Answer with a single JSON object for `{spec.name}` that validates against this JSON Schema. "
        "Output only the JSON, with no prose before or after it."
    ]
    if spec.description:
        parts.append(f"What it describes: {spec.description}")
    parts.append(f"```json\n{spec.schema_json}\n```")
    return "\n\n".join(parts)


def _tool_part(spec: Spec[Any], params: dict[str, Any]) -> None:
    tools = list(params.get("tools") or [])
    if any(isinstance(t, Mapping) and t.get("name") == spec.name for t in tools):
        raise InputError(
            f"a tool named {spec.name!r} is already in tools=; it would collide with the "
            "compiled tool (pass name= to compile to rename it)"
        )
    params["tools"] = [*tools, spec.tool]
    # tool_choice names exactly the tool that was sent (spec.tool["name"]), never a title.
    params["tool_choice"] = {"type": "tool", "name": spec.tool["name"], "disable_parallel_tool_use": True}


def _json_schema_part(spec: Spec[Any], params: dict[str, Any]) -> None:
    config = dict(params.get("output_config") or {})
    config["format"] = {"type": "json_schema", "schema": spec.api_subset.schema}
    params["output_config"] = config


def _prompt_part(spec: Spec[Any], params: dict[str, Any]) -> None:
    params["system"] = _merge_system(params.get("system"), [schema_instructions(spec)])


def _prefill_part(spec: Spec[Any], params: dict[str, Any]) -> None:
    _prompt_part(spec, params)
    params["messages"] = [*params["messages"], {"role": "assistant", "content": PREFILL_TEXT}]


MODES: dict[Mode, ModeDef] = {
    Mode.TOOL: ModeDef(Mode.TOOL, _tool_refusal, _tool_part, auto_rank=0),
    Mode.JSON_SCHEMA: ModeDef(Mode.JSON_SCHEMA, _json_schema_refusal, _json_schema_part, auto_rank=1),
    Mode.PROMPT: ModeDef(Mode.PROMPT, _never_refused, _prompt_part, auto_rank=2),
    Mode.PREFILL: ModeDef(Mode.PREFILL, _prefill_refusal, _prefill_part, prefill=PREFILL_TEXT),
}
"""Every concrete mode; `Mode.AUTO` is not in it (it picks one of these by `auto_rank`)."""

#: the modes AUTO tries, best first
_RANKED = sorted((d for d in MODES.values() if d.auto_rank is not None), key=lambda d: d.auto_rank or 0)


# ---- choosing a mode ---------------------------------------------------------------------------


def check_mode(spec: Spec[Any], mode: Mode, model: str, extra: Mapping[str, Any]) -> Mode:
    """Return the concrete mode to use, or raise `ModeError` naming the model and an alternative."""
    req = Request(spec, model, capabilities(model), _thinking_enabled(extra, model))
    chosen = MODES.get(mode)
    if chosen is None:  # AUTO: the best mode that serves the request (PROMPT always does)
        return next(d.mode for d in _RANKED if d.refusal(req) is None)
    refusal = chosen.refusal(req)
    if refusal is None:
        return mode
    other = next((d.mode for d in _RANKED if d.mode is not mode and d.refusal(req) is None), Mode.PROMPT)
    raise ModeError(f"{refusal.reason}; use Mode.{other.name}{refusal.fix}")


# ---- building params ----------------------------------------------------------------------------


def resolve_mode(spec: Spec[Any], model: str, mode: Mode = Mode.AUTO, **extra: Any) -> Mode:
    """The concrete mode `build_params` would use for this model and these extra params."""
    return check_mode(spec, Mode(mode), model, extra)


def build_params(
    spec: Spec[Any],
    messages: str | Sequence[Mapping[str, Any]],
    *,
    model: str,
    max_tokens: int,
    mode: Mode = Mode.AUTO,
    system: str | Sequence[Mapping[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Messages API params for one request in `mode`; see `Spec.params`."""
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InputError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    if not model or not isinstance(model, str):
        raise InputError(f"model must be a model id string, got {model!r}")
    unknown = sorted(set(extra) - _request_keys())
    if unknown:
        raise InputError(
            f"{unknown[0]!r} is not a Messages API request parameter in the installed anthropic SDK "
            "(MessageCreateParamsNonStreaming); the API would reject the request"
        )
    concrete = MODES[check_mode(spec, Mode(mode), model, extra)]
    turns, lifted = split_system(messages)
    if concrete.prefill is not None and turns and turns[-1].get("role") == "assistant":
        raise InputError(
            f"Mode.{concrete.mode.name} needs the conversation to end with a user turn; it ends "
            "with an assistant turn already"
        )
    params: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    merged = _merge_system(system, lifted)
    if merged:
        params["system"] = merged
    for key, value in extra.items():
        params[key] = value
    concrete.shape(spec, params)
    return params


SystemPart = str | list[dict[str, Any]]


@functools.cache
def _request_keys() -> frozenset[str]:
    """The keys a batch request's `params` may have, read from the installed SDK's types."""
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming as P

    return frozenset(P.__required_keys__ | P.__optional_keys__)


def split_system(
    messages: str | Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[SystemPart]]:
    """Separate system-role messages from the conversation turns, to go into top-level `system`.

    A system message's content is kept as it was given (a string, or text blocks with their
    `cache_control`), in order.
    """
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}], []
    if isinstance(messages, Mapping):
        raise InputError("messages must be a list of messages (or one string), not a single mapping")
    turns: list[dict[str, Any]] = []
    lifted: list[SystemPart] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping) or "role" not in msg:
            raise InputError(f"messages[{i}] must be a mapping with 'role' and 'content', got {msg!r:.80}")
        role = msg["role"]
        if role == "system":
            lifted.append(_system_content(msg.get("content"), i))
        elif role in ("user", "assistant"):
            turns.append(dict(msg))
        else:
            raise InputError(f"messages[{i}] has role {role!r}; expected 'user', 'assistant' or 'system'")
    if not any(t.get("role") == "user" for t in turns):
        raise InputError("messages has no user turn")
    return turns, lifted


def _system_content(content: Any, index: int) -> SystemPart:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and all(
        isinstance(b, Mapping) and b.get("type") == "text" for b in content
    ):
        return [dict(b) for b in content]
    raise InputError(f"messages[{index}] is a system message whose content is not text")


def _merge_system(system: Any, more: Sequence[SystemPart]) -> SystemPart | None:
    """Join `system` (absent, a string, or text blocks) and more parts, in order.

    All strings stay one string; as soon as one part is a list of blocks, every part becomes
    blocks, so `cache_control` and other block fields survive the merge.
    """
    parts: list[SystemPart] = [p for p in (system, *more) if p]
    if not parts:
        return None
    if all(isinstance(p, str) for p in parts):
        return "\n\n".join(cast(list[str], parts))
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, str):
            blocks.append({"type": "text", "text": part})
        else:
            blocks.extend(dict(b) for b in part)
    return blocks
