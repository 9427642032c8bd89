"""Model or JSON Schema -> `Spec`: the compiled tool, its schemas per mode, and its validator.

A `Spec` is everything structbatch knows about one output shape. It is built once and then used
for millions of requests, so everything costly (schema generation, transforms, the validator)
happens here, at compile time.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import jsonschema
import orjson
import pydantic
import pydantic_core
import referencing
from jsonschema.protocols import Validator as JSONSchemaValidator
from pydantic import BaseModel, TypeAdapter

from . import _jsonschema_walk as jsw
from ._coerce import coerce
from ._docstrings import split_docstring
from ._errors import SchemaError
from ._fastcheck import compile_fast_check

if TYPE_CHECKING:
    from ._modes import Mode
    from ._outcome import Outcome

T = TypeVar("T")
JSONSchema = dict[str, Any]

TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DEFAULT_NAME = "extract"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation error: where (a JSON path like `$.items[2].price`) and what."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Validation:
    """The result of validating one candidate value against a spec's full schema.

    `value` is the typed value (model instance, or the JSON value for schema specs) when `ok`;
    `coercions` lists the lossless coercions applied to make it fit.
    """

    ok: bool
    value: Any
    errors: tuple[FieldError, ...] = ()
    coercions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubsetCheck:
    """Whether a schema fits the API's structured-output subset, and the transformed schema."""

    schema: JSONSchema
    problems: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.problems


class Spec(Generic[T]):
    """A compiled output shape: the forced tool, per-mode schemas, validation and parsing.

    Build one with `structbatch.compile`. Attributes:
        name: the tool name sent to the API (matches `^[a-zA-Z0-9_-]{1,64}$`).
        description: the tool description.
        schema: the full JSON Schema of the tool input (always an object; with `$defs`).
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
    ) -> None:
        self.name = name
        self.description = description
        self.schema = schema
        self.model = model
        self.wrap = wrap
        tool: dict[str, Any] = {"name": name, "input_schema": schema}
        if description:
            tool["description"] = description
        self.tool: dict[str, Any] = tool
        self._json_validator: JSONSchemaValidator | None = None
        self._fast_check: Callable[[Any], bool] | None = None
        if model is None:
            cls = dialect or jsonschema.validators.validator_for(
                schema, default=jsonschema.Draft202012Validator
            )
            # An empty registry cannot retrieve anything: no `$ref` is ever fetched from a URL.
            self._json_validator = cls(
                schema, format_checker=cls.FORMAT_CHECKER, registry=referencing.Registry()
            )
            self._fast_check = compile_fast_check(schema, cls)

    def __repr__(self) -> str:
        source = self.model.__name__ if self.model is not None else "JSON Schema"
        return f"Spec(name={self.name!r}, source={source})"

    @functools.cached_property
    def _line_validator(self) -> Any:
        """The one-pass validator of a clean tool_use result line (see `_parse.result_line_validator`)."""
        return _parse.result_line_validator(self)

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
        """Validate a tool-input-shaped value against the full schema (strict), with lossless coercion.

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
        if self._fast_check is not None and self._fast_check(obj):
            return Validation(True, obj[self.wrap] if self.wrap and isinstance(obj, dict) else obj)
        errors = sorted(self._json_validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            return Validation(False, None, tuple(_jsonschema_error(e) for e in errors))
        return Validation(True, obj[self.wrap] if self.wrap and isinstance(obj, dict) else obj)

    # -- persistence ----------------------------------------------------------------------------

    def dump_value(self, value: Any) -> bytes:
        """A validated value as JSON bytes, for the job store."""
        if self.model is not None:
            return pydantic_core.to_json(value)
        return orjson.dumps(value)

    def load_value(self, data: bytes) -> Any:
        """The inverse of `dump_value`: a typed value again (a dict for JSON Schema specs)."""
        if self.model is None:
            return orjson.loads(data)
        if self.wrap:
            return getattr(self.model.model_validate({self.wrap: orjson.loads(data)}), self.wrap)
        return self.model.model_validate_json(data)

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
    ) -> dict[str, Any]:
        """Messages API params for one request in `mode` (default `Mode.AUTO`), ready for a batch.

        `messages` may be a plain string (one user turn). System-role messages are lifted into
        the top-level `system` and merged with `system=`. Raises `ModeError` up front when the
        model or the request does not allow the mode, naming the mode to use instead.
        """
        from ._modes import Mode, build_params

        return build_params(
            self,
            messages,
            model=model,
            max_tokens=max_tokens,
            mode=Mode(mode) if mode is not None else Mode.AUTO,
            system=system,
            **extra,
        )

    def parse(self, message: Any, *, prefill: str | None = None) -> Outcome[T]:
        """Parse an SDK `Message`, a message dict, or one batch result line into an `Outcome`."""
        if isinstance(message, (bytes, str)) or (isinstance(message, Mapping) and "result" in message):
            return cast("Outcome[T]", _parse.parse_result_line(self, message, prefill=prefill))
        result_obj = getattr(message, "result", None)
        if result_obj is not None and hasattr(message, "custom_id"):
            data = message.model_dump(mode="json") if hasattr(message, "model_dump") else message
            return cast("Outcome[T]", _parse.parse_result_line(self, data, prefill=prefill))
        return cast("Outcome[T]", _parse.parse_message(self, message, prefill=prefill))

    def parse_text(
        self, text: str, *, stop_reason: str | None = None, prefill: str | None = None
    ) -> Outcome[T]:
        """Parse raw model text (a preamble, fences, tags and light syntax noise are handled)."""
        return cast("Outcome[T]", _parse.parse_text(self, text, stop_reason=stop_reason, prefill=prefill))


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


def compile(
    source: type[T] | Mapping[str, Any] | str | Path,
    *,
    name: str | None = None,
    description: str | None = None,
    wrap: str | None = None,
) -> Spec[T]:
    """Compile a Pydantic model class, a JSON Schema dict, or a JSON Schema file into a `Spec`.

    `name` overrides the tool name (sanitised to the API's pattern); `description` overrides the
    docstring or schema description. A non-object root (`list[Item]`, `{"type": "array"}`) must
    name `wrap`, the property it is wrapped under in the tool input. Raises `SchemaError`.
    """
    if isinstance(source, (str, Path)):
        return cast("Spec[T]", _compile_file(Path(source), name=name, description=description, wrap=wrap))
    if isinstance(source, Mapping):
        return cast(
            "Spec[T]",
            _compile_json_schema(
                dict(source), origin="schema", name=name, description=description, wrap=wrap
            ),
        )
    if inspect.isclass(source) and issubclass(source, BaseModel):
        return cast("Spec[T]", _compile_model(source, name=name, description=description, wrap=wrap))
    if wrap is not None:
        return cast("Spec[T]", _compile_wrapped_type(source, name=name, description=description, wrap=wrap))
    raise SchemaError(
        f"cannot compile {source!r}: pass a Pydantic model class, a JSON Schema dict or file path, "
        "or a type such as list[Item] together with wrap='items'"
    )


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
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise SchemaError(f"{origin}: not a valid JSON Schema at {where}: {exc.message}") from exc
    # `$id`s would re-base `#/...` refs onto embedded resources; refs here resolve against the
    # document root only (as checked below), so identifiers are dropped before anything else.
    schema = jsw.map_schema(schema, _drop_id)
    schema.pop("$schema", None)
    schema = _defs_from_definitions(schema, origin)
    for pointer, ref in jsw.local_refs(schema):
        if not ref.startswith("#"):
            raise SchemaError(
                f"{origin}: $ref {ref!r} at {pointer} points outside the document; "
                "only local refs ('#/$defs/...') are resolved, nothing is fetched"
            )
        if jsw.resolve_pointer(schema, ref) is None:
            raise SchemaError(f"{origin}: $ref {ref!r} at {pointer} points to nothing in the document")
    schema = _inline_root_ref(copy.deepcopy(schema))
    tool_name = sanitize_tool_name(name or str(schema.get("title") or _DEFAULT_NAME))
    root_type = schema.get("type")
    if wrap is not None:
        schema = _wrap_schema(schema, wrap)
    elif root_type != "object" and not (root_type is None and "properties" in schema):
        raise SchemaError(
            f"{origin}: the root must be an object (tool inputs are objects), got type {root_type!r}; "
            "pass wrap='items' (or another key) to wrap the value in an object"
        )
    schema = _apply_docstring_fields(schema)
    desc = description or schema.get("description")
    return Spec(name=tool_name, description=desc, schema=schema, model=None, wrap=wrap, dialect=cls)


def _drop_id(node: JSONSchema) -> JSONSchema:
    node.pop("$id", None)
    return node


def _defs_from_definitions(schema: JSONSchema, origin: str) -> JSONSchema:
    """Move a root `definitions` (drafts 4-7) to `$defs`, the only spelling the API's subset has.

    Refs are plain JSON pointers in every draft, so validation is unchanged by the move.
    """
    old = schema.get("definitions")
    if not isinstance(old, dict):
        return schema
    defs = schema.get("$defs") or {}
    clash = sorted(set(old) & set(defs))
    if clash:
        raise SchemaError(f"{origin}: {clash[0]!r} is defined in both definitions and $defs")
    out = {k: v for k, v in schema.items() if k != "definitions"}
    out["$defs"] = {**defs, **old}

    def rebase(node: JSONSchema) -> JSONSchema:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            node["$ref"] = "#/$defs/" + ref.removeprefix("#/definitions/")
        return node

    return jsw.map_schema(out, rebase)


def _wrap_schema(schema: JSONSchema, wrap: str) -> JSONSchema:
    defs: dict[str, Any] = {"$defs": schema.pop("$defs")} if "$defs" in schema else {}
    for _, ref in jsw.local_refs(schema):
        if ref == "#":
            raise SchemaError(
                "a wrapped schema cannot refer to its own root ('$ref': '#'); "
                "move the recursive part into $defs"
            )
    wrapper: JSONSchema = {
        "type": "object",
        "properties": {wrap: schema},
        "required": [wrap],
        "additionalProperties": False,
        **defs,
    }
    for key in ("title", "description"):
        if key in schema:
            wrapper[key] = schema[key]
    return wrapper


def _compile_model(
    model: type[BaseModel], *, name: str | None, description: str | None, wrap: str | None
) -> Spec[Any]:
    target: type[BaseModel] = model
    if wrap is not None:
        target = pydantic.create_model(model.__name__ + "Wrapper", **{wrap: (model, ...)})  # type: ignore[call-overload]
    schema = _model_schema(target, model)
    tool_name = sanitize_tool_name(name or model.__name__)
    desc = description or schema.get("description") or None
    return Spec(name=tool_name, description=desc, schema=schema, model=target, wrap=wrap)


def _compile_wrapped_type(tp: Any, *, name: str | None, description: str | None, wrap: str) -> Spec[Any]:
    try:
        TypeAdapter(tp)
    except pydantic.PydanticSchemaGenerationError as exc:
        raise SchemaError(f"cannot compile {tp!r}: {exc}") from exc
    wrapper = pydantic.create_model("Wrapped", **{wrap: (tp, ...)})  # type: ignore[call-overload]
    schema = _model_schema(wrapper, wrapper)
    schema.pop("description", None)
    raw_name = name or getattr(tp, "__name__", None) or _type_name(tp)
    return Spec(
        name=sanitize_tool_name(raw_name), description=description, schema=schema, model=wrapper, wrap=wrap
    )


def _type_name(tp: Any) -> str:
    args = getattr(tp, "__args__", ())
    inner = [getattr(a, "__name__", "value") for a in args]
    origin = getattr(getattr(tp, "__origin__", None), "__name__", "value")
    return "_".join([origin, *inner])


def _model_schema(target: type[BaseModel], source: type[BaseModel]) -> JSONSchema:
    try:
        schema = target.model_json_schema(mode="validation")
    except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError) as exc:
        raise SchemaError(_name_bad_field(source, exc)) from exc
    schema = _inline_root_ref(schema)
    schema = _strip_titles(schema)
    schema = _apply_docstring_fields(schema)
    if schema.get("type") != "object":
        raise SchemaError(
            f"{source.__name__}: the model's schema is not an object (type "
            f"{schema.get('type')!r}); pass wrap='value' to wrap it"
        )
    return schema


def _name_bad_field(model: type[BaseModel], exc: Exception, prefix: str = "") -> str:
    """Find which field has no JSON Schema, so the error can name it (Pydantic does not)."""
    for field_name, info in model.model_fields.items():
        ann: Any = info.annotation
        for nested in _models_in(ann):
            try:
                nested.model_json_schema()
            except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError) as inner:
                return _name_bad_field(nested, inner, f"{prefix}{field_name}.")
        try:
            TypeAdapter(ann).json_schema()
        except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError):
            return (
                f"{model.__name__}.{field_name} (field {prefix}{field_name}): type {ann!r} has no JSON "
                f"Schema, so the API cannot be told its shape; use a JSON-compatible type"
            )
        except Exception:
            continue
    return f"{model.__name__}: cannot generate a JSON Schema: {exc}"


def _models_in(ann: Any) -> list[type[BaseModel]]:
    """The model classes in an annotation: `Item`, `list[Item]`, `dict[str, Item] | None`..."""
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        return [ann]
    return [m for arg in typing.get_args(ann) for m in _models_in(arg)]


def _inline_root_ref(schema: JSONSchema) -> JSONSchema:
    """Pydantic emits `{"$ref": "#/$defs/Node", "$defs": ...}` for recursive roots: inline it.

    A root `title`/`description` next to the `$ref` is kept (it describes the same value).
    """
    ref = schema.get("$ref")
    if not isinstance(ref, str) or set(schema) - {"$ref", "$defs", "title", "description"}:
        return schema
    target = jsw.resolve_pointer(schema, ref)
    if target is None or target is schema:
        return schema
    notes: dict[str, Any] = {k: schema[k] for k in ("title", "description") if k in schema}
    return {**copy.deepcopy(target), **notes, "$defs": schema.get("$defs", {})}


def _strip_titles(schema: JSONSchema) -> JSONSchema:
    """Drop Pydantic's generated `title` keywords: noise the API bills in every request."""

    def drop(node: JSONSchema) -> JSONSchema:
        node.pop("title", None)
        return node

    return jsw.map_schema(schema, drop)


def _apply_docstring_fields(schema: JSONSchema) -> JSONSchema:
    """Move `Args:`/`Attributes:` entries of object descriptions onto their properties."""

    def apply(node: JSONSchema) -> JSONSchema:
        desc = node.get("description")
        props = node.get("properties")
        if not isinstance(desc, str) or not isinstance(props, dict):
            return node
        prose, fields = split_docstring(desc)
        if not fields:
            return node
        if prose:
            node["description"] = prose
        else:
            node.pop("description", None)
        new_props = {}
        for key, sub in props.items():
            if key in fields and isinstance(sub, dict) and not sub.get("description"):
                sub = {**sub, "description": fields[key]}
            new_props[key] = sub
        node["properties"] = new_props
        return node

    return jsw.map_schema(schema, apply)


# ---- the API's structured-output subset ---------------------------------------------------------

# The structured-output subset (reference/anthropic-api.md section 2, [SO] 2026-09-26): these
# keywords are accepted; any other is moved into the description so the model still sees it, and
# the full original schema is enforced when parsing.
_SUBSET_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "allOf",
        "$ref",
        "$defs",
        "description",
        "title",
        "default",
        "format",
        "minItems",
        "pattern",
    }
)
_SUBSET_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
MAX_OPTIONAL_PARAMS = 24  # [SO] complexity caps per request
MAX_UNION_PARAMS = 16


def to_api_subset(schema: JSONSchema) -> SubsetCheck:
    """Transform a schema to the API's structured-output subset and list what cannot be expressed.

    Every object gets `additionalProperties: false`; `oneOf` becomes `anyOf`; unsupported keywords
    are folded into `description` as `{keyword: value}`. Problems (recursion, free-form dicts,
    complex enums, too many optional or union-typed properties) make the schema unusable there.
    """
    problems: list[str] = []
    cyclic = jsw.recursive_refs(schema)
    if cyclic:
        where = ", ".join(cyclic)
        problems.append(f"recursive schema ({where}); the API's structured outputs reject recursion")

    def transform(node: JSONSchema) -> JSONSchema:
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if "allOf" in node and any("$ref" in s for s in node["allOf"] if isinstance(s, dict)):
            problems.append("allOf combined with $ref is not supported by structured outputs")
        enum = node.get("enum")
        if isinstance(enum, list) and any(isinstance(v, (dict, list)) for v in enum):
            problems.append(f"complex enum {enum!r}: only primitive enum values are supported")
        if isinstance(node.get("const"), (dict, list)):
            problems.append(f"complex const {node['const']!r}: only primitive values are supported")
        types = node.get("type")
        is_object = types == "object" or (isinstance(types, list) and "object" in types)
        if is_object or "properties" in node:
            extra = node.get("additionalProperties")
            # Forcing additionalProperties false on an object that allows other keys (a dict
            # field, `{"type": "object"}`, patternProperties) would make the model emit `{}`.
            free = extra is not None or "properties" not in node or "patternProperties" in node
            if extra is not False and not node.get("properties") and free:
                problems.append(
                    "a free-form object (dict field) cannot be expressed: structured "
                    "outputs require additionalProperties: false"
                )
            node["additionalProperties"] = False
        moved: dict[str, Any] = {}
        for key in list(node):
            if key in _SUBSET_KEYWORDS or key.startswith("x-"):
                continue
            moved[key] = node.pop(key)
        if node.get("format") not in (None, *_SUBSET_FORMATS):
            moved["format"] = node.pop("format")
        if isinstance(node.get("items"), list):  # drafts 4-7 tuple form: not in the subset
            moved["items"] = node.pop("items")
        min_items = node.get("minItems")
        if isinstance(min_items, int) and min_items > 1:
            moved["minItems"] = node.pop("minItems")
        if moved:
            note = json.dumps(moved, ensure_ascii=False)
            node["description"] = f"{node['description']}\n{note}" if node.get("description") else note
        return node

    out = jsw.map_schema(schema, transform)
    optional = unions = 0
    for _, node in jsw.walk(out):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        required = set(node.get("required") or ())
        optional += sum(1 for k in props if k not in required)
        unions += sum(
            1
            for p in props.values()
            if isinstance(p, dict) and ("anyOf" in p or isinstance(p.get("type"), list))
        )
    if optional > MAX_OPTIONAL_PARAMS:
        problems.append(f"{optional} optional properties (the API allows {MAX_OPTIONAL_PARAMS} per request)")
    if unions > MAX_UNION_PARAMS:
        problems.append(f"{unions} union-typed properties (the API allows {MAX_UNION_PARAMS} per request)")
    return SubsetCheck(out, tuple(dict.fromkeys(problems)))


# ---- error formatting ---------------------------------------------------------------------------


def json_path(parts: Sequence[Any]) -> str:
    """`["items", 2, "price"]` -> `$.items[2].price`."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _pydantic_errors(exc: pydantic.ValidationError) -> list[FieldError]:
    return [FieldError(json_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]


def _jsonschema_error(err: jsonschema.ValidationError) -> FieldError:
    return FieldError(json_path(list(err.absolute_path)), err.message)


# Imported last: `_parse` needs `Spec` from this module (a module-level import keeps the
# per-line cost of `Spec.parse` down; an import inside the method costs ~2 µs a call).
from . import _parse  # noqa: E402
