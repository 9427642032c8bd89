"""Model or JSON Schema -> `Spec`: the compiled tool, its schemas per mode, and its validator.

A `Spec` is everything structbatch knows about one output shape. It is built once and then used
for millions of requests, so everything costly (schema generation, transforms, the validator)
happens here, at compile time.

Any root compiles. A tool input must be a JSON object, so a value that is not one (`list[Item]`,
`{"type": "array"}`, a scalar, a root union) is wrapped under one key: `items` for an array,
`value` for anything else (`wrap=` names another key, and also wraps an object root). The tool
asks for `{"items": [...]}`; `Outcome.value` is the list itself, and a bare list in a text
answer is recovered too.

This module imports neither `_modes` nor `_parse` at load time (they import it): the methods that
delegate to them import them once per spec, on first use.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast, overload

import jsonschema
import orjson
import pydantic
import pydantic_core
from jsonschema.protocols import Validator as JSONSchemaValidator
from pydantic import BaseModel, TypeAdapter

from . import _shape as shape
from ._coerce import coerce
from ._errors import SchemaError
from ._jsonvalidate import SchemaValidator, dialect_id, json_path
from ._modelschema import model_schema, name_bad_field
from ._refs import RefError, normalize_refs
from ._schemacheck import check_schema
from ._shape import WRAP_ARRAY, WRAP_VALUE
from ._subset import MAX_OPTIONAL_PARAMS, MAX_UNION_PARAMS, to_api_subset
from ._types import FieldError, JSONSchema, Mode, SubsetCheck, Validation

if TYPE_CHECKING:
    from anthropic.types import ToolParam
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

    from ._outcome import Result

__all__ = [
    "MAX_OPTIONAL_PARAMS",
    "MAX_UNION_PARAMS",
    "TOOL_NAME_PATTERN",
    "WRAP_ARRAY",
    "WRAP_VALUE",
    "FieldError",
    "Spec",
    "SubsetCheck",
    "Validation",
    "compile",
    "compile_cached",
    "json_path",
    "sanitize_tool_name",
    "to_api_subset",
]

T = TypeVar("T")

TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DEFAULT_NAME = "extract"


class _Parser(NamedTuple):
    """`_parse`'s entry points, fetched once per spec (see the module docstring)."""

    result_line: Callable[..., Any]
    general_line: Callable[..., Any]
    message: Callable[..., Any]
    text: Callable[..., Any]


class Spec(Generic[T]):
    """A compiled output shape: the forced tool, per-mode schemas, validation and parsing.

    Build one with `structbatch.compile`. Attributes:
        name: the tool name sent to the API (matches `^[a-zA-Z0-9_-]{1,64}$`).
        description: the tool description.
        schema: the full JSON Schema of the tool input (always `"type": "object"`; with `$defs`;
            every `$ref` a plain local pointer).
        model: the Pydantic model validated into, or None for JSON Schema specs (values are dicts).
        wrap: for a non-object value, the key it is wrapped under in the tool input.
        dialect: the jsonschema validator class of a JSON Schema source (from its `$schema`,
            default draft 2020-12); the validator keeps the source's dialect after compiling.
        tool: the Anthropic tool definition (`name`, `description`, `input_schema`).
    """

    def __init__(
        self,
        *,
        name: str,
        description: str | None,
        schema: JSONSchema,
        model: type[BaseModel] | None,
        wrap: str | None = None,
        dialect: type[JSONSchemaValidator] | None = None,
        source: JSONSchema | None = None,
        value_schema: JSONSchema | None = None,
    ) -> None:
        """`source` (JSON Schema specs): the schema of the value exactly as written, which decides
        validity; `value_schema`: the same with plain pointer refs. Without them the value is
        validated as the tool input against `schema` (a spec rebuilt from a stored tool)."""
        self.name = name
        self.description = description
        self.schema = schema
        self.model = model
        self.wrap = wrap
        tool: dict[str, Any] = {"name": name, "input_schema": schema}
        if description:
            tool["description"] = description
        self.tool: ToolParam = cast("ToolParam", tool)
        self._json_validator: SchemaValidator | None = None
        if model is None:
            cls = dialect or jsonschema.validators.validator_for(
                source if source is not None else schema, default=jsonschema.Draft202012Validator
            )
            self._json_validator = SchemaValidator(
                tool_schema=schema, dialect=cls, wrap=wrap, source=source, value_schema=value_schema
            )

    def __repr__(self) -> str:
        source = self.model.__name__ if self.model is not None else "JSON Schema"
        return f"Spec(name={self.name!r}, source={source})"

    @functools.cached_property
    def _parser(self) -> _Parser:
        from . import _parse

        return _Parser(
            _parse.parse_result_line,
            _parse.parse_result_line_general,
            _parse.parse_message,
            _parse.parse_text,
        )

    @functools.cached_property
    def _line_validator(self) -> Any:
        """The reader of a clean tool_use result line (`_fastline`; None for JSON Schema specs)."""
        from . import _parse
        from ._fastline import LineReader

        envelope = _parse.result_line_validator(self)
        if envelope is None or self.model is None:
            return None
        return LineReader(self.name, self.model, envelope, self.wrap)

    # -- identity -------------------------------------------------------------------------------

    @functools.cached_property
    def fingerprint(self) -> str:
        """A stable hash of the tool definition: a job store refuses to reopen with another spec."""
        return hashlib.sha256(orjson.dumps(self.tool, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

    # -- per-mode schemas -----------------------------------------------------------------------

    @functools.cached_property
    def api_subset(self) -> SubsetCheck:
        """The schema transformed for `Mode.JSON_SCHEMA`, and why it does not fit, if it does not."""
        return to_api_subset(self.schema)

    @functools.cached_property
    def schema_json(self) -> str:
        """The schema as indented JSON, as shown to the model in PROMPT and PREFILL modes."""
        return json.dumps(self.schema, indent=2, ensure_ascii=False)

    # -- validation -----------------------------------------------------------------------------

    def validate(self, obj: Any) -> Validation:
        """Validate a tool-input-shaped value (`{wrap: value}` for a wrapped spec) against the full
        schema (strict), with lossless coercion. Never raises.

        Strict first, so a clean value costs one validator call. Only when that fails is the
        schema-guided coercion pass (`_coerce`) tried, and every coercion it applies is reported.
        """
        first = self._validate_strict(obj)
        if first.ok:
            return first
        coerced, applied = coerce(obj, self.schema)
        if not applied:
            return first
        second = self._validate_strict(coerced)
        if not second.ok:
            return first
        return Validation(True, second.value, (), tuple(applied))

    def _validate_strict(self, obj: Any) -> Validation:
        if self.model is not None:
            try:
                data = _json_bytes(obj)
            except (TypeError, ValueError) as exc:
                return Validation(False, None, (FieldError("$", f"not JSON-serialisable: {exc}"),))
            try:
                instance = self.model.model_validate_json(data, strict=True)
            except pydantic.ValidationError as exc:
                return Validation(False, None, tuple(_pydantic_errors(exc)))
            value = getattr(instance, self.wrap) if self.wrap else instance
            return Validation(True, value)
        assert self._json_validator is not None
        errors = self._json_validator.errors(obj)
        if errors:
            return Validation(False, None, errors)
        return Validation(True, obj[self.wrap] if self.wrap and isinstance(obj, dict) else obj)

    # -- persistence ----------------------------------------------------------------------------

    def dump_value(self, value: Any) -> bytes:
        """A validated value as JSON bytes, for the job store."""
        if self.model is not None:
            return pydantic_core.to_json(value)
        return _json_bytes(value)  # an integer beyond 64 bits too (`1e30` in an integer place)

    def load_value(self, data: bytes) -> T:
        """The inverse of `dump_value`: a typed value again (a dict for JSON Schema specs), every
        integer exact (orjson alone reads one beyond 64 bits as a float)."""
        from ._jsonload import loads_document

        if self.model is None:
            return cast("T", loads_document(data))
        if self.wrap:
            return cast("T", getattr(self.model.model_validate({self.wrap: loads_document(data)}), self.wrap))
        return cast("T", self.model.model_validate_json(data))

    # -- requests and answers -------------------------------------------------------------------

    def params(
        self,
        messages: str | Sequence[Mapping[str, Any]],
        *,
        model: str,
        max_tokens: int,
        mode: Mode | str | None = None,
        system: str | Sequence[Mapping[str, Any]] | None = None,
        **extra: Any,
    ) -> MessageCreateParamsNonStreaming:
        """Messages API params for one request in `mode` (default `Mode.AUTO`), ready for a batch.

        `messages` may be a plain string (one user turn). System-role messages are lifted into
        the top-level `system` and merged with `system=`. Raises `ModeError` up front when the
        model or the request does not allow the mode, naming the mode to use instead. The
        result is typed as the SDK's `MessageCreateParamsNonStreaming` (a plain dict at runtime).
        """
        return cast(
            "MessageCreateParamsNonStreaming",
            _build_params()(
                self,
                messages,
                model=model,
                max_tokens=max_tokens,
                mode=Mode(mode) if mode is not None else Mode.AUTO,
                system=system,
                **extra,
            ),
        )

    def parse(self, message: Any, *, prefill: str | None = None) -> Result[T]:
        """Parse an SDK `Message`, a message dict, or one batch result line into an `Outcome`."""
        if type(message) is bytes:  # the hot path: a clean tool_use line, read before any dispatch
            reader = self._line_validator
            if reader is not None:
                try:
                    fast: Result[T] | None = reader.outcome(message)  # no `cast`: a call on the hot path
                except Exception:  # a user validator's own error: the general path reports it as `internal`
                    return cast("Result[T]", self._parser.result_line(self, message, prefill=prefill))
                if fast is not None:
                    return fast
                return cast("Result[T]", self._parser.general_line(self, message, prefill=prefill))
        parser = self._parser
        if (
            type(message) is bytes
            or isinstance(message, str)
            or (isinstance(message, Mapping) and "result" in message)
        ):
            return cast("Result[T]", parser.result_line(self, message, prefill=prefill))
        result_obj = getattr(message, "result", None)
        if result_obj is not None and hasattr(message, "custom_id"):
            data = message.model_dump(mode="json") if hasattr(message, "model_dump") else message
            return cast("Result[T]", parser.result_line(self, data, prefill=prefill))
        return cast("Result[T]", parser.message(self, message, prefill=prefill))

    def parse_text(
        self, text: str, *, stop_reason: str | None = None, prefill: str | None = None
    ) -> Result[T]:
        """Parse raw model text (a preamble, fences, tags and light syntax noise are handled)."""
        return cast("Result[T]", self._parser.text(self, text, stop_reason=stop_reason, prefill=prefill))


@functools.cache
def _build_params() -> Callable[..., dict[str, Any]]:
    from ._modes import build_params

    return build_params


def _json_bytes(obj: Any) -> bytes:
    """`obj` as JSON for pydantic's JSON mode; integers beyond 64 bits (valid JSON numbers, which
    orjson refuses to write) through the standard library. Raises TypeError or ValueError."""
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
        return json.dumps(obj, ensure_ascii=False, allow_nan=False).encode()


# ---- compile -----------------------------------------------------------------------------------


@overload
def compile(
    source: type[T], *, name: str | None = None, description: str | None = None, wrap: str | None = None
) -> Spec[T]: ...
@overload
def compile(
    source: Mapping[str, Any] | str | Path | bool,
    *,
    name: str | None = None,
    description: str | None = None,
    wrap: str | None = None,
) -> Spec[dict[str, Any]]: ...
@overload
def compile(
    source: object, *, name: str | None = None, description: str | None = None, wrap: str | None = None
) -> Spec[Any]: ...
def compile(
    source: object, *, name: str | None = None, description: str | None = None, wrap: str | None = None
) -> Spec[Any]:
    """Compile a Pydantic model class, any type pydantic knows (`list[Item]`, `int | None`), a JSON
    Schema dict (or boolean schema), or a JSON Schema file into a `Spec`.

    `name` overrides the tool name (sanitised to the API's pattern); `description` overrides the
    docstring or schema description. A root that is not an object is wrapped under `items`
    (arrays) or `value` (anything else); `wrap` names the key instead, and wraps any root.
    Raises `SchemaError`.
    """
    if isinstance(source, bool):  # `true` accepts everything, `false` nothing
        source = {} if source else {"not": {}}
    if isinstance(source, (str, Path)):
        return _compile_file(Path(source), name=name, description=description, wrap=wrap)
    if isinstance(source, Mapping):
        return _compile_json_schema(
            dict(source), origin="schema", name=name, description=description, wrap=wrap
        )
    if inspect.isclass(source) and issubclass(source, BaseModel):
        return _compile_model(source, name=name, description=description, wrap=wrap)
    return _compile_type(source, name=name, description=description, wrap=wrap)


@functools.lru_cache(maxsize=256)
def compile_cached(source: Any) -> Spec[Any]:
    """`compile` with a cache, for the `sb.parse_text` convenience (models and paths are hashable)."""
    return compile(source)


def sanitize_tool_name(raw: str) -> str:
    """Map any string to a tool name the API accepts: `[a-zA-Z0-9_-]`, 1 to 64 characters."""
    cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "_", raw.strip()).strip("_")
    return cleaned[:64] or _DEFAULT_NAME


def _compile_file(path: Path, *, name: str | None, description: str | None, wrap: str | None) -> Spec[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read schema file: {exc.strerror or exc}") from exc
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if isinstance(schema, bool):
        schema = {} if schema else {"not": {}}
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a JSON Schema must be a JSON object, got {type(schema).__name__}")
    return _compile_json_schema(
        schema,
        origin=str(path),
        name=name or schema.get("title") or path.stem,
        description=description,
        wrap=wrap,
    )


def _compile_json_schema(
    schema: JSONSchema, *, origin: str, name: str | None, description: str | None, wrap: str | None
) -> Spec[Any]:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        return _build_json_schema(cls, schema, origin=origin, name=name, description=description, wrap=wrap)
    except RecursionError:  # deeper than the schema walkers go: a clear refusal, never a crash
        raise SchemaError(f"{origin}: the schema is nested too deep to compile") from None


def _build_json_schema(
    cls: type[JSONSchemaValidator],
    schema: JSONSchema,
    *,
    origin: str,
    name: str | None,
    description: str | None,
    wrap: str | None,
) -> Spec[Any]:
    # what validates values: the schema exactly as written (copied first: a copy too deep to
    # make fails at once, before the metaschema check walks it level by level)
    source = copy.deepcopy(schema)
    check_schema(cls, source, origin)
    try:
        value_schema = normalize_refs(source, dialect_id(cls))
    except RefError as exc:
        raise SchemaError(f"{origin}: {exc}") from exc
    value_schema = shape.defs_from_definitions(value_schema, origin)
    value_schema = shape.inline_root_ref(value_schema)
    tool_name = sanitize_tool_name(name or str(value_schema.get("title") or _DEFAULT_NAME))
    key = wrap if wrap is not None else shape.default_wrap(value_schema)
    if key is not None:
        tool_schema = shape.wrap_schema(value_schema, key)
    elif value_schema.get("type") == "object":
        tool_schema = copy.deepcopy(value_schema)
    else:  # object keywords without a `type`: the tool input says what the API requires
        tool_schema = {"type": "object", **copy.deepcopy(value_schema)}
    tool_schema = shape.apply_docstring_fields(tool_schema)
    desc = description or tool_schema.get("description")
    return Spec(
        name=tool_name,
        description=desc,
        schema=tool_schema,
        model=None,
        wrap=key,
        dialect=cls,
        source=source,
        value_schema=value_schema,
    )


def _compile_model(
    model: type[BaseModel], *, name: str | None, description: str | None, wrap: str | None
) -> Spec[Any]:
    if wrap is None:
        try:
            probe = model.model_json_schema(mode="validation")
        except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError) as exc:
            raise SchemaError(name_bad_field(model, exc)) from exc
        wrap = shape.default_wrap(shape.inline_root_ref(probe))  # a RootModel of a list or a scalar
    target: type[BaseModel] = model
    if wrap is not None:
        target = pydantic.create_model(model.__name__ + "Wrapper", **{wrap: (model, ...)})  # type: ignore[call-overload]
    schema = model_schema(target, model)
    tool_name = sanitize_tool_name(name or model.__name__)
    desc = description or schema.get("description") or None
    return Spec(name=tool_name, description=desc, schema=schema, model=target, wrap=wrap)


def _compile_type(tp: Any, *, name: str | None, description: str | None, wrap: str | None) -> Spec[Any]:
    """Any type pydantic can validate (`list[Item]`, `int`, `A | B`), wrapped in a model."""
    try:
        bare = TypeAdapter(tp).json_schema(mode="validation")
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticInvalidForJsonSchema, TypeError) as exc:
        raise SchemaError(
            f"cannot compile {tp!r}: pass a Pydantic model class, a JSON Schema dict or file path, "
            f"or a type pydantic can validate such as list[Item] ({exc})"
        ) from exc
    key = wrap or shape.default_wrap(shape.inline_root_ref(bare)) or WRAP_VALUE
    wrapper = pydantic.create_model("Wrapped", **{key: (tp, ...)})  # type: ignore[call-overload]
    schema = model_schema(wrapper, wrapper)
    schema.pop("description", None)
    raw_name = name or getattr(tp, "__name__", None) or _type_name(tp)
    return Spec(
        name=sanitize_tool_name(raw_name), description=description, schema=schema, model=wrapper, wrap=key
    )


def _type_name(tp: Any) -> str:
    args = getattr(tp, "__args__", ())
    inner = [getattr(a, "__name__", "value") for a in args]
    origin = getattr(getattr(tp, "__origin__", None), "__name__", "value")
    return "_".join([origin, *inner])


# ---- error formatting ---------------------------------------------------------------------------


def _pydantic_errors(exc: pydantic.ValidationError) -> list[FieldError]:
    return [FieldError(json_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]
