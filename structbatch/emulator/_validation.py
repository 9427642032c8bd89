"""Request validation with the API's own status codes, error types and messages.

Messages quoted in `reference/anthropic-api.md` are reproduced exactly (custom_id length, prefill,
forced tool_choice with thinking or on a model that refuses it); the others follow the API's
pydantic-style `path: problem` wording and are marked "emulator wording" in the README.

Two levels, as the real service splits them:
* `check_batch_body`: the shape of `POST /v1/messages/batches` (synchronous 400/413);
* `check_message_params`: one Messages request. `/v1/messages` and `count_tokens` answer its
  errors directly; inside a batch they become that request's `errored` result, because the real
  API validates `params` asynchronously [BP].
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from anthropic.types.message_count_tokens_params import MessageCountTokensParams
from anthropic.types.message_create_params import MessageCreateParamsBase

from ._models import Catalogue, ModelSpec
from ._wire import ApiError, invalid_request

CUSTOM_ID_PATTERN: Final = "^[a-zA-Z0-9_-]{1,64}$"
_CUSTOM_ID_RE: Final = re.compile(CUSTOM_ID_PATTERN)
_TOOL_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")

# The request keys the SDK knows (its TypedDicts are the API's contract); anything else is
# "Extra inputs are not permitted", as the API answers.
_CREATE_KEYS: Final = frozenset(MessageCreateParamsBase.__annotations__) | {"stream"}
_COUNT_KEYS: Final = frozenset(MessageCountTokensParams.__annotations__)

# Not allowed inside a batch [BP]; `max_tokens: 0` is caught by the general >= 1 rule.
_BATCH_FORBIDDEN: Final = ("speed", "store", "previous_thread_event_id", "cache_hint", "context_hint")

PREFILL_REJECTED: Final = (
    "This model does not support assistant message prefill. The conversation must end with a user message."
)
FORCED_WITH_THINKING: Final = "Thinking may not be enabled when tool_choice forces tool use."
FORCED_REJECTED: Final = 'tool_choice: type "tool" and "any" are not supported for this model.'

_SUPPORTED_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
_NUMERIC_BOUNDS: Final = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_STRING_BOUNDS: Final = ("minLength", "maxLength")
_ARRAY_BOUNDS: Final = ("maxItems", "uniqueItems", "contains", "minContains", "maxContains")


@dataclass(frozen=True)
class Limits:
    """Size limits (the API's by default; tests shrink them to exercise 413s cheaply)."""

    max_requests: int = 100_000  # per batch [BP]
    max_batch_bytes: int = 256 * 1024 * 1024  # batch create body [BP]
    max_message_bytes: int = 32 * 1024 * 1024  # /v1/messages body [ERR]


# -- batch create ---------------------------------------------------------------------------------


def check_batch_body(body: Any, limits: Limits) -> list[tuple[str, Any]]:
    """Validate a batch create body; return `(custom_id, params)` per request, in order.

    Raises the synchronous errors: 400 for the body's shape and for custom_ids (bad, duplicated),
    413 `request_too_large` for too many requests. `params` are NOT checked here.
    """
    if not isinstance(body, dict):
        raise invalid_request("Input should be a valid dictionary")
    _no_extra_keys(body, {"requests"}, "")
    if "requests" not in body:
        raise invalid_request("requests: Field required")
    requests = body["requests"]
    if not isinstance(requests, list):
        raise invalid_request("requests: Input should be a valid list")
    if not requests:
        raise invalid_request("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > limits.max_requests:
        raise ApiError(
            413,
            "request_too_large",
            f"Batch contains {len(requests)} requests; a batch may contain at most "
            f"{limits.max_requests} requests.",
        )
    seen: dict[str, int] = {}
    out: list[tuple[str, Any]] = []
    for index, request in enumerate(requests):
        where = f"requests.{index}"
        if not isinstance(request, dict):
            raise invalid_request(f"{where}: Input should be a valid dictionary")
        _no_extra_keys(request, {"custom_id", "params"}, f"{where}.")
        custom_id = _check_custom_id(request, where)
        if "params" not in request:
            raise invalid_request(f"{where}.params: Field required")
        if not isinstance(request["params"], dict):
            raise invalid_request(f"{where}.params: Input should be a valid dictionary")
        if custom_id in seen:
            raise invalid_request(
                f"{where}.custom_id: Duplicate custom_id {custom_id!r} (also at requests.{seen[custom_id]}); "
                "custom_id must be unique within a batch."
            )
        seen[custom_id] = index
        out.append((custom_id, request["params"]))
    return out


def _check_custom_id(request: Mapping[str, Any], where: str) -> str:
    if "custom_id" not in request:
        raise invalid_request(f"{where}.custom_id: Field required")
    custom_id = request["custom_id"]
    if not isinstance(custom_id, str):
        raise invalid_request(f"{where}.custom_id: Input should be a valid string")
    if not custom_id:
        raise invalid_request(f"{where}.custom_id: String should have at least 1 character")
    if len(custom_id) > 64:
        raise invalid_request(f"{where}.custom_id: String should have at most 64 characters")
    if not _CUSTOM_ID_RE.match(custom_id):
        raise invalid_request(f"{where}.custom_id: String should match pattern '{CUSTOM_ID_PATTERN}'")
    return custom_id


def _no_extra_keys(obj: Mapping[str, Any], allowed: set[str] | frozenset[str], prefix: str) -> None:
    for key in obj:
        if key not in allowed:
            raise invalid_request(f"{prefix}{key}: Extra inputs are not permitted")


# -- one Messages request ----------------------------------------------------------------------


def check_message_params(
    params: Any,
    catalogue: Catalogue,
    *,
    endpoint: str = "messages",
    strict_models: bool = True,
) -> ModelSpec | None:
    """Validate one Messages request as the API would; return its model entry (None if unknown).

    `endpoint` is "messages", "count_tokens" (no `max_tokens`) or "batch" (the batch-only rules).
    Raises `ApiError`: 400 `invalid_request_error`, or 404 `not_found_error` for an unknown model
    when `strict_models`.
    """
    if not isinstance(params, dict):
        raise invalid_request("Input should be a valid dictionary")
    counting = endpoint == "count_tokens"
    _no_extra_keys(params, _COUNT_KEYS if counting else _CREATE_KEYS, "")
    required = ("model", "messages") if counting else ("model", "max_tokens", "messages")
    for key in required:
        if key not in params:
            raise invalid_request(f"{key}: Field required")
    if not isinstance(params["model"], str):
        raise invalid_request("model: Input should be a valid string")
    model = catalogue.get(params["model"])
    if model is None and strict_models:
        raise ApiError(404, "not_found_error", f"model: {params['model']}")
    if endpoint == "batch":
        _check_batch_only(params)
    if not counting:
        _check_max_tokens(params, model)
    _check_system(params.get("system"))
    _check_messages(params["messages"])
    tool_names = _check_tools(params.get("tools"))
    thinking_on = _check_thinking(params, model, counting)
    _check_tool_choice(params.get("tool_choice"), tool_names, model, thinking_on)
    last = params["messages"][-1]
    if last.get("role") == "assistant":
        if model is not None and not model.accepts_prefill:
            raise invalid_request(PREFILL_REJECTED)
        if params.get("output_config", {}).get("format") is not None:
            raise invalid_request("Prefilling assistant messages is not supported with output_config.format.")
    if "output_config" in params:
        _check_output_config(params["output_config"], model)
    return model


def _check_batch_only(params: Mapping[str, Any]) -> None:
    if params.get("stream"):
        raise invalid_request("stream: Streaming is not supported in the Message Batches API.")
    for key in _BATCH_FORBIDDEN:
        if key in params:
            raise invalid_request(f"{key}: This parameter is not supported in the Message Batches API.")


def _check_max_tokens(params: Mapping[str, Any], model: ModelSpec | None) -> None:
    value = params["max_tokens"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request("max_tokens: Input should be a valid integer")
    if value < 1:
        raise invalid_request("max_tokens: Input should be greater than or equal to 1")
    if model is not None and value > model.max_tokens:
        raise invalid_request(
            f"max_tokens: {value} > {model.max_tokens}, which is the maximum allowed number of "
            f"output tokens for {params['model']}"
        )


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise invalid_request("system: Input should be a valid string or a list of text blocks")
    for index, block in enumerate(system):
        if (
            not isinstance(block, dict)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise invalid_request(f"system.{index}: Input should be a text block")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list):
        raise invalid_request("messages: Input should be a valid list")
    if not messages:
        raise invalid_request("messages: at least one message is required")
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        if not isinstance(message, dict):
            raise invalid_request(f"{where}: Input should be a valid dictionary")
        role = message.get("role")
        if role == "system":
            raise invalid_request(
                'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                'parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            raise invalid_request(f"{where}.role: Input should be 'user' or 'assistant'")
        if "content" not in message:
            raise invalid_request(f"{where}.content: Field required")
        content = message["content"]
        if not isinstance(content, str | list):
            raise invalid_request(f"{where}.content: Input should be a valid string or list")
        if isinstance(content, list):
            for block_index, block in enumerate(content):
                if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                    raise invalid_request(f"{where}.content.{block_index}: Input should be a content block")
    final = messages[-1]
    if final.get("role") == "assistant" and text_of(final["content"]).endswith((" ", "\n", "\t")):
        raise invalid_request("messages: final assistant content cannot end with trailing whitespace")


def _check_tools(tools: Any) -> set[str]:
    if tools is None:
        return set()
    if not isinstance(tools, list):
        raise invalid_request("tools: Input should be a valid list")
    names: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"tools.{index}"
        if not isinstance(tool, dict):
            raise invalid_request(f"{where}: Input should be a valid dictionary")
        name = tool.get("name")
        if not isinstance(name, str):
            raise invalid_request(f"{where}.name: Field required")
        if not _TOOL_NAME_RE.match(name):
            raise invalid_request(f"{where}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        if tool.get("type", "custom") == "custom" and not isinstance(tool.get("input_schema"), dict):
            raise invalid_request(f"{where}.input_schema: Field required")
        if name in names:
            raise invalid_request("tools: Tool names must be unique.")
        names.add(name)
    return names


def _check_thinking(params: Mapping[str, Any], model: ModelSpec | None, counting: bool) -> bool:
    """Validate `thinking`; return whether extended thinking is on for this request."""
    thinking = params.get("thinking")
    always_on = model is not None and model.thinking_always_on
    if thinking is None:
        return always_on
    if not isinstance(thinking, dict) or thinking.get("type") not in (
        "enabled",
        "disabled",
        "adaptive",
        "between_tools",
    ):
        raise invalid_request(
            "thinking: Input tag does not match any of the expected tags: "
            "'enabled', 'disabled', 'adaptive', 'between_tools'"
        )
    kind = thinking["type"]
    if always_on and kind in ("enabled", "disabled", "between_tools"):
        raise invalid_request(f"thinking: type '{kind}' is not supported for this model; use 'adaptive'.")
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise invalid_request("thinking.enabled.budget_tokens: Field required")
        if budget < 1024:
            raise invalid_request(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if not counting and params["max_tokens"] <= budget:
            raise invalid_request("`max_tokens` must be greater than `thinking.budget_tokens`.")
    return kind in ("enabled", "adaptive") or always_on


def _check_tool_choice(choice: Any, tool_names: set[str], model: ModelSpec | None, thinking_on: bool) -> None:
    if choice is None:
        return
    kinds = ("auto", "any", "tool", "none")
    if not isinstance(choice, dict) or choice.get("type") not in kinds:
        raise invalid_request(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    kind = choice["type"]
    if kind in ("any", "tool") and not tool_names:
        raise invalid_request("tool_choice may only be specified while providing tools.")
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str):
            raise invalid_request("tool_choice.tool.name: Field required")
        if name not in tool_names:
            raise invalid_request(f"tool_choice.name: Tool '{name}' was not found in `tools`.")
    if kind in ("any", "tool"):
        if model is not None and not model.accepts_forced_tool:
            raise invalid_request(FORCED_REJECTED)
        if thinking_on:
            raise invalid_request(FORCED_WITH_THINKING)


def _check_output_config(config: Any, model: ModelSpec | None) -> None:
    if not isinstance(config, dict):
        raise invalid_request("output_config: Input should be a valid dictionary")
    _no_extra_keys(config, {"format", "effort"}, "output_config.")
    fmt = config.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise invalid_request("output_config.format.type: Input should be 'json_schema'")
    if "schema" not in fmt:
        raise invalid_request("output_config.format.schema: Field required")
    if model is not None and not model.structured_outputs:
        raise invalid_request("output_config.format: Structured outputs are not supported for this model.")
    problem = output_schema_problem(fmt["schema"])
    if problem is not None:
        raise invalid_request(f"output_config.format.schema: {problem}")


# -- the structured-outputs schema subset [SO] --------------------------------------------------


def output_schema_problem(schema: Any) -> str | None:
    """The first reason `schema` is outside the structured-outputs subset, or None if it fits."""
    if not isinstance(schema, dict):
        return "Schema must be an object"
    for problem in _subset_problems(schema, schema, ()):
        return problem
    return None


def _subset_problems(node: Any, root: dict[str, Any], refs: tuple[str, ...]) -> Iterator[str]:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#"):
            yield f"External $ref {ref!r} is not supported; only local references (#/$defs/...) are."
            return
        if ref in refs:
            yield "Recursive schemas are not supported"
            return
        target = _resolve(root, ref)
        if target is None:
            yield f"$ref {ref!r} could not be resolved"
            return
        yield from _subset_problems(target, root, (*refs, ref))
    kind = node.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if ("object" in kinds or "properties" in node) and node.get("additionalProperties") is not False:
        yield "For 'object' type, 'additionalProperties' must be explicitly set to false"
    for name in kinds & {"number", "integer"}:
        for key in _NUMERIC_BOUNDS:
            if key in node:
                yield f"For '{name}' type, property '{key}' is not supported"
    if "string" in kinds:
        for key in _STRING_BOUNDS:
            if key in node:
                yield f"For 'string' type, property '{key}' is not supported"
        fmt = node.get("format")
        if fmt is not None and fmt not in _SUPPORTED_FORMATS:
            yield f"String format '{fmt}' is not supported"
    if "array" in kinds:
        if node.get("minItems", 0) not in (0, 1):
            yield "For 'array' type, 'minItems' values other than 0 or 1 are not supported"
        for key in _ARRAY_BOUNDS:
            if key in node:
                yield f"For 'array' type, property '{key}' is not supported"
    if "enum" in node and any(isinstance(v, dict | list) for v in node["enum"]):
        yield "Enum values must be strings, numbers, booleans or null"
    if "allOf" in node and any(isinstance(p, dict) and "$ref" in p for p in node["allOf"]):
        yield "'allOf' combined with '$ref' is not supported"
    for key in ("properties", "$defs", "definitions", "patternProperties"):
        sub = node.get(key)
        if isinstance(sub, dict) and key not in ("$defs", "definitions"):
            for child in sub.values():
                yield from _subset_problems(child, root, refs)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for child in node.get(key) or ():
            yield from _subset_problems(child, root, refs)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            yield from _subset_problems(node[key], root, refs)


def _resolve(root: dict[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


# -- helpers shared with the responders -------------------------------------------------------


def text_of(content: Any) -> str:
    """All text in a message `content` (a string, or the text blocks of a block list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""
