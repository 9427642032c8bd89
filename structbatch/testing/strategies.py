"""Hypothesis strategies for property-based tests of structured-output pipelines.

Everything here produces what Claude and the Message Batches API really send, together with what
it must become::

    from hypothesis import given
    from structbatch.testing import strategies as sbst

    spec = sb.compile(Recipe)

    @given(sbst.model_outputs(spec))
    def test_my_parser_recovers_every_answer(pair):
        sent, value = pair
        assert sent.parse(spec).value == value

Strategies (each documented below with an example):

- `instances(spec_or_model)`: valid values of a spec;
- `model_outputs(spec, styles=...)`: `(Sent, value)` — an answer the model may give, and its value;
- `broken_outputs(spec, kinds=...)`: `(Sent, FailureKind)` — an answer that must be rejected;
- `result_lines(spec, types=...)`: `ResultLine(line, kind, value)` — batch result lines;
- `batch_requests(spec, ...)`: request lists the batch API accepts;
- `object_schemas()`: random JSON Schemas that `structbatch.compile` accepts.

This module imports `hypothesis` (the `structbatch[testing]` extra); `import structbatch` never does.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jsonschema
from hypothesis import assume
from hypothesis import strategies as st

from .._jsonschema_walk import merge_all_of
from .._modes import PREFILL_TEXT, Mode
from .._outcome import FailureKind, Outcome
from .._parse import validate_answer
from .._schema import Spec, compile

__all__ = [
    "BROKEN_KINDS",
    "ERROR_TYPES",
    "RESULT_TYPES",
    "STYLES",
    "BrokenOutput",
    "ModelOutput",
    "ResultLine",
    "Sent",
    "as_spec",
    "batch_requests",
    "broken_outputs",
    "instances",
    "json_values",
    "model_outputs",
    "object_schemas",
    "result_lines",
    "valid",
]

JSON = Any
INT64 = 2**63 - 1

# ---- what the model sent ------------------------------------------------------------------------


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


class ModelOutput(NamedTuple):
    """A good answer and the value it means (a model instance, or a dict for JSON Schema specs)."""

    sent: Sent
    value: Any


class BrokenOutput(NamedTuple):
    """An answer that must be rejected, and the `FailureKind` it must get."""

    sent: Sent
    kind: FailureKind


class ResultLine(NamedTuple):
    """One line of a batch's results (a dict; `json.dumps` it for JSONL), the expected `Outcome.kind`
    (None for success) and the expected value (None unless success)."""

    line: dict[str, Any]
    kind: FailureKind | None
    value: Any


# ---- specs and the validity oracle -------------------------------------------------------------

_SPECS: dict[int, tuple[Any, Spec[Any]]] = {}


def as_spec(spec_or_model: Any) -> Spec[Any]:
    """A `Spec` from a `Spec`, a Pydantic model class, a JSON Schema dict or a schema file path."""
    if isinstance(spec_or_model, Spec):
        return spec_or_model
    cached = _SPECS.get(id(spec_or_model))
    if cached is not None and cached[0] is spec_or_model:
        return cached[1]
    spec: Spec[Any] = compile(spec_or_model)
    _SPECS[id(spec_or_model)] = (spec_or_model, spec)
    return spec


_VALIDATORS: dict[int, tuple[Spec[Any], Any]] = {}


def valid(spec: Spec[Any], tool_input: JSON) -> tuple[bool, Any]:
    """An oracle independent of `Spec.validate`: is `tool_input` valid as it is (no coercion)?

    Pydantic specs: strict JSON-mode validation of the input serialised by the standard library
    (which, unlike orjson, keeps integers of any size). JSON Schema specs: jsonschema with format
    checking, no remote `$ref`s. Returns `(ok, value)` with the value `spec.parse` should return.
    """
    if spec.model is not None:
        import pydantic

        try:
            instance = spec.model.model_validate_json(json.dumps(tool_input), strict=True)
        except (pydantic.ValidationError, ValueError, TypeError):
            return False, None
        return True, getattr(instance, spec.wrap) if spec.wrap else instance
    entry = _VALIDATORS.get(id(spec))
    if entry is None or entry[0] is not spec:
        import referencing

        cls = jsonschema.validators.validator_for(spec.schema, default=jsonschema.Draft202012Validator)
        entry = (spec, cls(spec.schema, format_checker=cls.FORMAT_CHECKER, registry=referencing.Registry()))
        _VALIDATORS[id(spec)] = entry
    try:
        ok = bool(entry[1].is_valid(tool_input))
    except Exception:
        return False, None
    if not ok:
        return False, None
    return True, tool_input[spec.wrap] if spec.wrap and isinstance(tool_input, dict) else tool_input


# ---- JSON values from a schema ------------------------------------------------------------------


def json_values(*, max_leaves: int = 6, big_integers: bool = False) -> st.SearchStrategy[JSON]:
    """Any JSON value (finite numbers; integers within 64 bits unless `big_integers`).

    Example: `json_values().example()` -> `{"k": [1, null, "x"]}`.
    """
    ints = st.integers() if big_integers else st.integers(-INT64 - 1, INT64)
    scalars = st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=max_leaves,
    )


class _Gen:
    """Builds a strategy for a JSON Schema node; `$ref`s resolve inside the root only."""

    def __init__(
        self, root: Mapping[str, Any], *, max_depth: int, max_items: int, big_integers: bool
    ) -> None:
        self.root = root
        self.max_depth = max_depth
        self.max_items = max_items
        self.big_integers = big_integers

    def resolve(self, ref: str) -> Any:
        node: Any = self.root
        for part in ref.lstrip("#").split("/"):
            if part:
                part = part.replace("~1", "/").replace("~0", "~")
                node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def recursive(self, node: Any) -> bool:
        """Does `node` (transitively) contain a `$ref`? (cheap check for the depth cut-off)"""
        return '"$ref"' in json.dumps(node, default=str)

    def of(self, node: Any, depth: int) -> st.SearchStrategy[JSON]:
        if node is True or node == {}:
            return json_values(max_leaves=3, big_integers=self.big_integers)
        if node is False or not isinstance(node, Mapping):
            return st.nothing()
        if "$ref" in node:
            target = self.resolve(node["$ref"])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            merged = {**target, **rest} if rest and isinstance(target, Mapping) else target
            # depth counts objects only: a `$ref` cycle always passes through an object or a union
            return st.deferred(lambda: self.of(merged, depth))
        if "const" in node:
            return st.just(node["const"])
        if isinstance(node.get("enum"), list):
            return st.sampled_from(node["enum"]) if node["enum"] else st.nothing()
        if "allOf" in node:
            return self.all_of(node, depth)
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list) and branches:
                if depth >= self.max_depth:
                    flat = [b for b in branches if not self.recursive(b)]
                    branches = flat or branches
                rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf", "description", "title")}
                return st.one_of(*(self.of({**rest, **b} if rest else b, depth) for b in branches))
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of(*(self.of({**node, "type": k}, depth) for k in kind)) if kind else st.nothing()
        if kind is None:
            if "properties" in node or "required" in node:
                kind = "object"
            elif "items" in node or "prefixItems" in node:
                kind = "array"
            else:
                return json_values(max_leaves=3, big_integers=self.big_integers)
        maker = {
            "object": self.object,
            "array": self.array,
            "string": self.string,
            "integer": self.integer,
            "number": self.number,
        }.get(kind)
        if maker is not None:
            return maker(node, depth)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return st.nothing()

    def all_of(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        return self.of(merge_all_of(node, self.resolve), depth)

    def object(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        props: Mapping[str, Any] = node.get("properties") or {}
        required = [k for k in dict.fromkeys(node.get("required") or [])]
        extra = node.get("additionalProperties", True)
        req = {
            k: self.of(props.get(k, extra if isinstance(extra, Mapping) else True), depth + 1)
            for k in required
        }
        optional: dict[str, st.SearchStrategy[JSON]] = {}
        if depth < self.max_depth:
            optional = {k: self.of(v, depth + 1) for k, v in props.items() if k not in req}
        base = st.fixed_dictionaries(req, optional=optional)
        if extra is False or "patternProperties" in node or depth >= self.max_depth:
            return base
        extra_schema = extra if isinstance(extra, Mapping) else True
        names = st.text(min_size=1, max_size=8).filter(lambda k: k not in props)
        extras = st.dictionaries(names, self.of(extra_schema, depth + 1), max_size=2)
        return st.tuples(base, extras).map(lambda pair: {**pair[1], **pair[0]})

    def array(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        prefix = node.get("prefixItems") or []
        items = node.get("items", True)
        low = int(node.get("minItems", 0))
        high = node.get("maxItems")
        cap = low if depth >= self.max_depth else max(low, self.max_items)
        high = cap if high is None else min(int(high), max(cap, low))
        head = st.tuples(*(self.of(p, depth) for p in prefix)).map(list)
        if items is False:
            return head if low <= len(prefix) else st.nothing()
        rest_low = max(0, low - len(prefix))
        rest_high = max(rest_low, high - len(prefix))
        unique = bool(node.get("uniqueItems"))
        tail = st.lists(
            self.of(items, depth),
            min_size=rest_low,
            max_size=rest_high,
            unique_by=(lambda v: json.dumps(v, sort_keys=True)) if unique else None,
        )
        return st.tuples(head, tail).map(lambda pair: pair[0] + pair[1])

    def string(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        if any(k in node for k in ("format", "pattern", "minLength", "maxLength")):
            return _leaf(node)
        return st.text(max_size=20)

    def integer(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        if any(
            k in node for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        ):
            return _leaf(node).filter(lambda v: isinstance(v, int) and not isinstance(v, bool))
        return st.integers() if self.big_integers else st.integers(-INT64 - 1, INT64)

    def number(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        if any(
            k in node for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        ):
            return _leaf(node)
        ints = st.integers() if self.big_integers else st.integers(-INT64 - 1, INT64)
        return st.floats(allow_nan=False, allow_infinity=False) | ints


_LEAF_KEYS = (
    "type",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
)
_LEAVES: dict[str, st.SearchStrategy[JSON]] = {}


def _leaf(node: Mapping[str, Any]) -> st.SearchStrategy[JSON]:
    """A constrained scalar through `hypothesis_jsonschema.from_schema` (formats, patterns, bounds)."""
    small = {k: node[k] for k in _LEAF_KEYS if k in node}
    key = json.dumps(small, sort_keys=True)
    strategy = _LEAVES.get(key)
    if strategy is None:
        from hypothesis_jsonschema import from_schema

        strategy = from_schema(small)
        _LEAVES[key] = strategy
    return strategy


def _tool_inputs(
    spec: Spec[Any], *, max_depth: int, max_items: int, big_integers: bool
) -> st.SearchStrategy[JSON]:
    gen = _Gen(spec.schema, max_depth=max_depth, max_items=max_items, big_integers=big_integers)
    return gen.of(spec.schema, 0).filter(lambda v: valid(spec, v)[0])


def instances(
    spec_or_model: Any,
    *,
    json: bool = False,
    max_depth: int = 3,
    max_items: int = 4,
    big_integers: bool = False,
) -> st.SearchStrategy[Any]:
    """Valid values of a spec: model instances for a Pydantic spec, JSON values for a JSON Schema spec.

    With `json=True` the strategy gives the tool input instead (the JSON object the model sends;
    for a wrapped spec such as `compile(list[Item], wrap="items")` that is `{"items": [...]}`).

    Example::

        @given(instances(Recipe))
        def test_roundtrip(recipe):
            assert Recipe.model_validate_json(recipe.model_dump_json()) == recipe

    How values are made: one walk over the compiled `spec.schema` (objects, required and optional
    properties, `additionalProperties`, arrays with `prefixItems`/`minItems`/`maxItems`/`uniqueItems`,
    `enum`/`const`, `anyOf`/`oneOf`/`allOf`, type lists, local `$ref`s), with constrained scalars
    (`format`, `pattern`, lengths, bounds, `multipleOf`) delegated to `hypothesis_jsonschema.from_schema`,
    and every value checked by an oracle independent of the parser (`valid`). Where
    hypothesis-jsonschema does not do the job, and why it is not used for the whole schema:

    - objects: `from_schema` fails on every object schema with the installed hypothesis
      (`AttributeError: 'many' object has no attribute 'more'`: it uses a private hypothesis API
      that changed);
    - recursion (`$ref` cycles, i.e. recursive Pydantic models): `from_schema` refuses recursive
      references; here depth is bounded by `max_depth` (optional properties dropped, empty arrays,
      non-recursive union branches taken);
    - formats: `from_schema` knows the standard formats; Pydantic validates a few differently
      (e.g. `date-time` offsets), so such values are filtered out by the oracle, never sent;
    - Pydantic models: pydantic v2 registers no hypothesis strategies, and `st.builds`/`st.from_type`
      ignore field constraints (`Field(ge=...)`, `StringConstraints`) and aliases, so models go
      through their JSON Schema like any other spec;
    - integers stay within 64 bits unless `big_integers=True` (real answers rarely exceed them).
    """
    spec = as_spec(spec_or_model)
    inputs = _tool_inputs(spec, max_depth=max_depth, max_items=max_items, big_integers=big_integers)
    if json:
        return inputs
    return inputs.map(lambda v: valid(spec, v)[1])


# ---- messages -----------------------------------------------------------------------------------

_ids = st.text(string.ascii_letters + string.digits, min_size=24, max_size=24)


def _message(
    content: list[dict[str, Any]], stop_reason: str | None, model: str = "claude-haiku-4-5"
) -> dict[str, Any]:
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


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "citations": None}


def _tool_block(name: str, tool_input: Any, n: int = 0) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_01{n:022d}", "name": name, "input": tool_input}


# ---- rendering JSON as a model writes it --------------------------------------------------------

_PREAMBLES = (
    "Here's the {noun} you asked for:",
    "Here is the extracted {noun}:",
    "Sure! Here's the data in JSON format:",
    "Certainly. Based on the text, the {noun} is:",
    "I've extracted the information from the text below.",
    "Below is the structured output.",
    "Here you go:",
)
_POSTAMBLES = (
    "Let me know if you need anything else.",
    "Hope this helps!",
    "Note: quantities were normalised to numbers where the text allowed it.",
    "All values come straight from the text (nothing was guessed).",
    "If you want, I can also add notes for each field.",
)
_COMMENTS = ("// from the text", "/* as written */", "// normalised", "/* checked */", "// see paragraph two")
_TAGS = ("json", "output", "answer", "result", "data")
_FENCES = ("```json", "```", "~~~", "~~~json", "```JSON", "````json")

#: the strings the parser reads as elision placeholders (`"..."`, `"etc."`): a value holding one
#: cannot be told from an elided answer, so it is never a "recoverable" output
_ELISION_LIKE = re.compile(r"\s*(?:\.{3,}|…+|\.\s\.\s\.|etc\.?|\[\.\.\.\]|\.\.\.etc\.?)\s*", re.I)
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SQ_UNSAFE = frozenset("'\"\\{}[]`<>~/*")


def _has_elision_like(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= 9 and _ELISION_LIKE.fullmatch(value) is not None
    if isinstance(value, dict):
        return any(_has_elision_like(k) or _has_elision_like(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_elision_like(v) for v in value)
    return False


def _plain(value: Any, pretty: bool, ascii_only: bool) -> str:
    return json.dumps(value, indent=2 if pretty else None, ensure_ascii=ascii_only)


@dataclass
class _Noise:
    """Lossless syntax noise, decided per node from a stream of draws."""

    draw: Callable[[st.SearchStrategy[Any]], Any]
    kinds: frozenset[str]
    applied: set[str] = field(default_factory=set)

    def want(self, kind: str) -> bool:
        if kind in self.kinds and self.draw(st.booleans()):
            self.applied.add(kind)
            return True
        return False

    def dumps(self, value: Any) -> str:
        if isinstance(value, dict):
            parts = []
            for k, v in value.items():
                key = k if _IDENT.fullmatch(k) and self.want("unquoted_key") else self.string(k)
                comment = f"{self.draw(st.sampled_from(_COMMENTS))}\n" if self.want("comment") else ""
                parts.append(f"{comment}{key}: {self.dumps(v)}")
            tail = "," if parts and self.want("trailing_comma") else ""
            return "{" + ", ".join(parts) + tail + "}"
        if isinstance(value, list):
            items = [self.dumps(v) for v in value]
            tail = "," if items and self.want("trailing_comma") else ""
            return "[" + ", ".join(items) + tail + "]"
        if isinstance(value, str):
            return self.string(value)
        if (value is True or value is False or value is None) and self.want("python_literal"):
            return {True: "True", False: "False", None: "None"}[value]
        return json.dumps(value)

    def string(self, s: str) -> str:
        printable = all(c >= " " for c in s)
        if printable and self.want("single_quotes"):
            # any content: brackets, double quotes and fence/tag lookalikes stay raw; ' and \ escaped
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
        plain = s and not (_SQ_UNSAFE & set(s)) and printable
        if plain and "“" not in s and "”" not in s and self.want("smart_quotes"):
            return "“" + s + "”"
        if ("\n" in s or "\t" in s) and self.want("raw_newline_in_string"):
            return (
                '"' + "".join(c if c in "\n\t" else json.dumps(c, ensure_ascii=False)[1:-1] for c in s) + '"'
            )
        return json.dumps(s, ensure_ascii=False)


NOISE_KINDS = frozenset(
    {
        "trailing_comma",
        "comment",
        "single_quotes",
        "smart_quotes",
        "unquoted_key",
        "python_literal",
        "raw_newline_in_string",
    }
)

#: the styles `model_outputs` draws from (see its docstring)
STYLES: tuple[str, ...] = (
    "tool_use",
    "bare",
    "prefill",
    "prose",
    "fence",
    "tag",
    "noise",
)


class _Rendered(NamedTuple):
    text: str
    start: int  # where the JSON value starts in `text`
    end: int  # where it ends (exclusive)
    prefill: str | None
    style: str


@st.composite
def _render(
    draw: st.DrawFn, spec: Spec[Any], tool_input: Any, style: str, noun: str, unwrap: bool = True
) -> _Rendered:
    """Text carrying `tool_input` (or, for wrapped specs, possibly the bare wrapped value)."""
    value = tool_input
    if unwrap and spec.wrap and spec.wrap in tool_input and style != "prefill" and draw(st.booleans()):
        value = tool_input[spec.wrap]
    pretty = draw(st.booleans())
    body = _plain(value, pretty, draw(st.booleans()))
    label = style
    if style == "noise":
        noise = _Noise(draw, NOISE_KINDS)
        body = noise.dumps(value)
        label = "noise:" + ",".join(sorted(noise.applied))
        style = draw(st.sampled_from(("bare", "prose", "fence", "tag")))
        label += f"+{style}"
    if style == "prefill":
        assert body.startswith("{")
        rest = body[len(PREFILL_TEXT) :]
        post = "\n\n" + draw(st.sampled_from(_POSTAMBLES)) if draw(st.booleans()) else ""
        return _Rendered(rest + post, 0, len(rest), PREFILL_TEXT, label)
    before, after = "", ""
    if style == "prose":
        which = draw(st.sampled_from(("pre", "post", "both")))
        if which != "post":
            before = draw(st.sampled_from(_PREAMBLES)).format(noun=noun) + draw(
                st.sampled_from(("\n\n", "\n", " "))
            )
        if which != "pre":
            after = draw(st.sampled_from(("\n\n", "\n", " "))) + draw(st.sampled_from(_POSTAMBLES))
    elif style == "fence":
        fence = draw(st.sampled_from(_FENCES))
        close = fence.rstrip("jsonJSON")
        before, after = f"{fence}\n", f"\n{close}"
        if draw(st.booleans()):
            before = draw(st.sampled_from(_PREAMBLES)).format(noun=noun) + "\n\n" + before
        if draw(st.booleans()):
            after += "\n\n" + draw(st.sampled_from(_POSTAMBLES))
    elif style == "tag":
        tag = draw(st.sampled_from(_TAGS))
        sep = draw(st.sampled_from(("\n", "")))
        before, after = f"<{tag}>{sep}", f"{sep}</{tag}>"
        if draw(st.booleans()):
            before = draw(st.sampled_from(_PREAMBLES)).format(noun=noun) + "\n" + before
    return _Rendered(before + body + after, len(before), len(before) + len(body), None, label)


def _noun(spec: Spec[Any]) -> str:
    return re.sub(r"[_-]+", " ", spec.name).strip().lower() or "data"


@st.composite
def _model_output(
    draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any], styles: Sequence[str]
) -> ModelOutput:
    tool_input = draw(inputs)
    ok, value = valid(spec, tool_input)
    assert ok
    style = draw(st.sampled_from(list(styles)))
    if style == "tool_use":
        content = [_tool_block(spec.name, tool_input)]
        if draw(st.booleans()):
            content.insert(0, _text_block(f"I'll extract the {_noun(spec)} with the {spec.name} tool."))
        return ModelOutput(Sent(_message(content, "tool_use"), None, "tool_use"), value)
    r = draw(_render(spec, tool_input, style, _noun(spec)))
    return ModelOutput(Sent(_message([_text_block(r.text)], "end_turn"), r.prefill, r.style), value)


def model_outputs(
    spec_or_model: Any,
    *,
    styles: Collection[str] = STYLES,
    values: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[ModelOutput]:
    """Pairs `(sent, value)`: an answer the model may give, and the value it means.

    `sent` is a `Sent` (an API-shaped message dict, and the prefill it continues); `value` is what
    `spec.parse` must return (`sent.parse(spec).value == value`). `styles` (default: all of
    `STYLES`):

    - `tool_use`: a `tool_use` block of the spec's tool (sometimes after a short text block);
    - `bare`: the JSON alone, compact or indented (native JSON-schema output);
    - `prefill`: the continuation after a `{` prefill (PREFILL mode), sometimes with a postamble;
    - `prose`: a preamble ("Here's the recipe you asked for:") and/or a postamble;
    - `fence`: ```` ```json ````, ```` ``` ````, `~~~`, ... code fences, with or without prose;
    - `tag`: `<json>`, `<output>`, `<answer>`, ... tags;
    - `noise`: lossless syntax noise inside one of the text styles (`NOISE_KINDS`): trailing
      commas, `//` and `/* */` comments, single quotes (any content, `'` and `\\` escaped), smart
      quotes (around strings without quotes, backslashes or brackets), unquoted keys, Python `True`/`False`/`None`, raw newlines
      and tabs inside strings.

    Values come from `instances(spec, json=True)` unless `values` (a strategy of tool inputs) is
    given. Values holding a string the parser must read as an elision (`"..."`, `"etc."`) are
    left out: those are not recoverable by design. For a wrapped spec the text styles sometimes
    carry the bare wrapped value (`[...]` for `{"items": [...]}`).

    Example::

        @given(model_outputs(Recipe, styles=["prose", "fence"]))
        def test_parse(pair):
            sent, recipe = pair
            assert sent.parse(spec).value == recipe
    """
    spec = as_spec(spec_or_model)
    unknown = set(styles) - set(STYLES)
    if unknown or not styles:
        raise ValueError(f"styles must be a non-empty subset of {STYLES}, not {sorted(unknown)}")
    inputs = (values if values is not None else instances(spec, json=True)).filter(
        lambda v: not _has_elision_like(v)
    )
    return _model_output(spec, inputs, tuple(styles))


# ---- broken outputs -----------------------------------------------------------------------------

#: the failure kinds `broken_outputs` produces
BROKEN_KINDS: tuple[FailureKind, ...] = (
    FailureKind.TRUNCATED,
    FailureKind.REFUSAL,
    FailureKind.INVALID,
    FailureKind.AMBIGUOUS,
    FailureKind.WRONG_TOOL,
    FailureKind.NO_JSON,
)
_REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I can't help with extracting information from this document.",
    "I cannot assist with this request.",
    "I’m not able to provide that information.",
    "I won't extract personal data from this text.",
    "Unfortunately, I'm unable to help with this request.",
    "I apologize, but I must decline this request.",
    "I'm afraid I can't do that.",
    "Sorry, I'm not comfortable providing that.",
)
_NO_JSON = (
    "",
    "The provided text does not contain a {noun}.",
    "There is no {noun} in this document; it is a table of contents.",
    "The text mentions 3 eggs and 200 g of flour, but not what to make with them.",
    "Could you share the full text? Only the title came through.",
    "This looks like a shipping label, not a {noun}.",
    "Nothing to extract here: the page is blank apart from a page number (12).",
)
_ELISIONS = ("...", "…", '"..."', "/* ... */", "// rest omitted\n", "// and 12 more items\n", "etc")


@st.composite
def _truncated(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    tool_input = draw(inputs)
    stop = draw(st.sampled_from(("max_tokens", "max_tokens", "model_context_window_exceeded")))
    if draw(st.integers(0, 4)) == 0:
        # a tool_use block cut at max_tokens: its input is whatever had arrived (maybe all of it)
        keys = list(tool_input)
        partial = {k: tool_input[k] for k in keys[: draw(st.integers(0, len(keys)))]}
        content = [_tool_block(spec.name, partial)]
        return BrokenOutput(Sent(_message(content, stop), None, "truncated:tool_use"), FailureKind.TRUNCATED)
    style = draw(st.sampled_from(STYLES[1:]))
    r = draw(_render(spec, tool_input, style, _noun(spec)))
    cut = draw(st.integers(0, r.end - 1))
    sent = Sent(_message([_text_block(r.text[:cut])], stop), r.prefill, f"truncated@{cut}:{r.style}")
    return BrokenOutput(sent, FailureKind.TRUNCATED)


@st.composite
def _refusal(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    prose = draw(st.sampled_from(_REFUSALS))
    if draw(st.booleans()):
        # stop_reason refusal: whatever came before the stop does not count, even a whole value
        text = prose
        if draw(st.booleans()):
            r = draw(_render(spec, draw(inputs), draw(st.sampled_from(STYLES[1:])), _noun(spec)))
            text = r.text[: draw(st.integers(0, len(r.text)))]
        content = [_text_block(text)] if text or draw(st.booleans()) else []
        message = _message(content, "refusal")
        message["stop_details"] = {"type": "refusal", "category": "cyber", "explanation": None}
        return BrokenOutput(Sent(message, None, "refusal:stop_reason"), FailureKind.REFUSAL)
    return BrokenOutput(
        Sent(_message([_text_block(prose)], "end_turn"), None, "refusal:prose"), FailureKind.REFUSAL
    )


def _arrays_in(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, list):
        out.append(path)
        for i, v in enumerate(value):
            out += _arrays_in(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            out += _arrays_in(v, (*path, k))
    return out


_MARK = "\u0000ELISION\u0000"


@st.composite
def _elided(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    """The value with an elision marker standing for items the model left out."""
    tool_input = draw(inputs)
    arrays = _arrays_in(tool_input)
    marker = draw(st.sampled_from(_ELISIONS))
    doc: Any = json.loads(json.dumps(tool_input))
    if arrays:
        path = draw(st.sampled_from(arrays))
        node = doc
        for step in path:
            node = node[step]
        node.insert(draw(st.integers(0, len(node))), _MARK)
        if marker.startswith("//"):
            # a line comment runs to the end of its line: indented JSON, the comment on its own line
            text = json.dumps(doc, indent=2, ensure_ascii=False)
            text = re.sub(re.escape(json.dumps(_MARK)) + ",?", marker.strip(), text)
        else:
            text = json.dumps(doc, indent=2 if draw(st.booleans()) else None, ensure_ascii=False)
            text = text.replace(json.dumps(_MARK), marker)
    else:
        assume(bool(doc))
        body = json.dumps(doc, ensure_ascii=False)
        text = body[:-1] + ", " + ("..." if marker.startswith(("/", '"')) else marker) + "}"
    wrapper = draw(st.sampled_from(("", "prose", "fence", "tag")))
    noun = _noun(spec)
    if wrapper == "prose":
        text = f"{draw(st.sampled_from(_PREAMBLES)).format(noun=noun)}\n\n{text}"
    elif wrapper == "fence":
        text = f"```json\n{text}\n```"
    elif wrapper == "tag":
        text = f"<json>\n{text}\n</json>"
    return BrokenOutput(
        Sent(_message([_text_block(text)], "end_turn"), None, f"elision:{marker!r}"), FailureKind.INVALID
    )


def _distinct_pairs(inputs: st.SearchStrategy[Any], spec: Spec[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    return st.tuples(inputs, inputs).filter(lambda p: valid(spec, p[0])[1] != valid(spec, p[1])[1])


@st.composite
def _ambiguous(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    a, b = draw(_distinct_pairs(inputs, spec))
    if draw(st.integers(0, 3)) == 0:
        content = [_tool_block(spec.name, a, 1), _tool_block(spec.name, b, 2)]
        return BrokenOutput(
            Sent(_message(content, "tool_use"), None, "ambiguous:tool_use"), FailureKind.AMBIGUOUS
        )
    noun = _noun(spec)
    form = draw(st.sampled_from(("options", "fences", "tags")))
    ja, jb = json.dumps(a, ensure_ascii=False), json.dumps(b, indent=2, ensure_ascii=False)
    if form == "options":
        text = f"The text is unclear, so here are two readings.\n\nOption 1:\n{ja}\n\nOption 2:\n{jb}"
    elif form == "fences":
        text = f"First attempt:\n```json\n{ja}\n```\nCorrected {noun}:\n```json\n{jb}\n```"
    else:
        text = f"<json>{ja}</json>\n<json>{jb}</json>"
    return BrokenOutput(
        Sent(_message([_text_block(text)], "end_turn"), None, f"ambiguous:{form}"), FailureKind.AMBIGUOUS
    )


_TOOL_NAMES = st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True)


@st.composite
def _wrong_tool(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    name = draw(_TOOL_NAMES.filter(lambda n: n != spec.name))
    content = [_tool_block(name, draw(inputs))]
    if draw(st.booleans()):
        content.insert(0, _text_block("Let me look that up first."))
    return BrokenOutput(
        Sent(_message(content, "tool_use"), None, f"wrong_tool:{name}"), FailureKind.WRONG_TOOL
    )


@st.composite
def _no_json(draw: st.DrawFn, spec: Spec[Any]) -> BrokenOutput:
    text = draw(st.sampled_from(_NO_JSON)).format(noun=_noun(spec))
    content = [_text_block(text)] if text or draw(st.booleans()) else []
    return BrokenOutput(Sent(_message(content, "end_turn"), None, "no_json"), FailureKind.NO_JSON)


def _unfit(spec: Spec[Any], value: Any) -> bool:
    """Invalid as it is, after lossless coercion, and under every lossless reshape the parser tries."""
    trials = [value]
    if isinstance(value, dict) and len(value) == 1:
        trials.append(next(iter(value.values())))
    if isinstance(value, list) and len(value) == 1:
        trials.append(value[0])
    if spec.wrap:
        trials += [{spec.wrap: t} for t in list(trials)]
    # the parser's validation: `spec.validate` and, for JSON Schema specs, closed objects' extra keys dropped
    return not any(valid(spec, t)[0] or validate_answer(spec, t).ok for t in trials)


_WRONG = st.sampled_from([[["not", "valid"]], {"__bad__": [1, 2]}, "??", -1.5, True, None, "twelve"])


@st.composite
def _invalid(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    tool_input = dict(draw(inputs))
    how = draw(st.sampled_from(("drop", "retype", "extra", "emulator")))
    if how == "drop" and tool_input:
        del tool_input[draw(st.sampled_from(sorted(tool_input)))]
    elif how == "retype" and tool_input:
        tool_input[draw(st.sampled_from(sorted(tool_input)))] = draw(_WRONG)
    elif how == "extra":
        tool_input["__unexpected__"] = draw(_WRONG)
    else:
        from ..emulator import invalid_value

        bad = invalid_value(spec.schema, str(draw(st.integers(0, 10**6))))
        tool_input = bad if isinstance(bad, dict) else {"value": bad}
    assume(_unfit(spec, tool_input) and not _has_elision_like(tool_input))
    if draw(st.booleans()):
        return BrokenOutput(
            Sent(_message([_tool_block(spec.name, tool_input)], "tool_use"), None, f"invalid:{how}:tool_use"),
            FailureKind.INVALID,
        )
    style = draw(st.sampled_from(("bare", "prose", "fence", "tag", "noise")))
    r = draw(_render(spec, tool_input, style, _noun(spec), unwrap=False))
    return BrokenOutput(
        Sent(_message([_text_block(r.text)], "end_turn"), None, f"invalid:{how}:{r.style}"),
        FailureKind.INVALID,
    )


def broken_outputs(
    spec_or_model: Any,
    *,
    kinds: Collection[FailureKind | str] = BROKEN_KINDS,
    values: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[BrokenOutput]:
    """Pairs `(sent, kind)`: an answer that must never be accepted, and the `FailureKind` it must get.

    - `truncated`: a good answer (any text style, or a tool_use block) cut at any position before
      its value closes, with stop_reason `max_tokens` or `model_context_window_exceeded`;
    - `refusal`: stop_reason `refusal` (whatever text came before the stop, even a whole value), or
      a refusal in prose ("I'm sorry, but I can't help with that.") with no JSON;
    - `invalid`: an elision (`...`, `…`, `"..."`, `// rest omitted`) inside an array (or, with no
      array, among an object's members); or a schema-invalid value (a key dropped, a value of the
      wrong type, an unknown key, the emulator's `invalid_value`) that no lossless coercion or
      reshape can fix, in a tool_use block or any text style;
    - `ambiguous`: two different valid values (two tool_use blocks, two fences, two tags, or
      "Option 1 / Option 2" prose);
    - `wrong_tool`: a tool_use block naming another tool;
    - `no_json`: prose with no JSON and no refusal (or no content at all).

    Example::

        @given(broken_outputs(Recipe, kinds=["truncated", "ambiguous"]))
        def test_never_accepted(pair):
            sent, kind = pair
            outcome = sent.parse(spec)
            assert not outcome.ok and outcome.kind == kind
    """
    spec = as_spec(spec_or_model)
    wanted = [FailureKind(k) for k in kinds]
    unknown = set(wanted) - set(BROKEN_KINDS)
    if unknown or not wanted:
        raise ValueError(f"kinds must be a non-empty subset of {[k.value for k in BROKEN_KINDS]}")
    inputs = (values if values is not None else instances(spec, json=True)).filter(
        lambda v: not _has_elision_like(v)
    )
    makers: dict[FailureKind, st.SearchStrategy[BrokenOutput]] = {
        FailureKind.TRUNCATED: _truncated(spec, inputs),
        FailureKind.REFUSAL: _refusal(spec, inputs),
        FailureKind.INVALID: _elided(spec, inputs) | _invalid(spec, inputs),
        FailureKind.AMBIGUOUS: _ambiguous(spec, inputs),
        FailureKind.WRONG_TOOL: _wrong_tool(spec, inputs),
        FailureKind.NO_JSON: _no_json(spec),
    }
    return st.one_of(*(makers[k] for k in dict.fromkeys(wanted)))


# ---- batch result lines -------------------------------------------------------------------------

#: the API error types an `errored` result may carry (reference/anthropic-api.md, errors)
ERROR_TYPES: tuple[str, ...] = (
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
)
RESULT_TYPES: tuple[str, ...] = ("succeeded", "errored", "expired", "canceled")
CUSTOM_IDS = st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True)


@st.composite
def _result_line(draw: st.DrawFn, spec: Spec[Any], types: Sequence[str], broken: bool) -> ResultLine:
    custom_id = draw(CUSTOM_IDS)
    kind = draw(st.sampled_from(list(types)))
    if kind == "succeeded":
        if broken and draw(st.booleans()):
            # a result line carries no prefill: prefilled answers are parsed with `prefill=`, not here
            sent, failure = draw(broken_outputs(spec).filter(lambda b: b.sent.prefill is None))
            value = None
        else:
            styles = [s for s in STYLES if s != "prefill"]
            sent, value = draw(model_outputs(spec, styles=styles))
            failure = None
        line = {"custom_id": custom_id, "result": {"type": "succeeded", "message": sent.message}}
        return ResultLine(line, failure, value)
    if kind == "errored":
        error: dict[str, Any] = {
            "type": draw(st.sampled_from(ERROR_TYPES)),
            "message": draw(st.text(max_size=60)),
        }
        if draw(st.booleans()):
            error["details"] = {"error_code": "enforced_spend_limit_reached"}
        response = {"type": "error", "error": error, "request_id": "req_011" + draw(_ids)}
        line = {"custom_id": custom_id, "result": {"type": "errored", "error": response}}
        return ResultLine(line, FailureKind.API_ERROR, None)
    if kind in ("expired", "canceled"):
        line = {"custom_id": custom_id, "result": {"type": kind}}
        return ResultLine(line, FailureKind(kind), None)
    raise ValueError(f"unknown result type {kind!r}")


def result_lines(
    spec_or_model: Any, *, types: Collection[str] = RESULT_TYPES, broken: bool = True
) -> st.SearchStrategy[ResultLine]:
    """`ResultLine(line, kind, value)`: one line of a batch's results and what parsing it must give.

    `line` is the parsed JSONL object `{"custom_id": ..., "result": {...}}`; `types` (default all
    of `RESULT_TYPES`):

    - `succeeded`: `{"type": "succeeded", "message": {...}}` with a good answer (`kind` None,
      `value` its value) or, with `broken=True`, a broken one (`kind` from `broken_outputs`);
    - `errored`: the real double-nested shape `{"type": "errored", "error": {"type": "error",
      "error": {"type": "overloaded_error", "message": ...}, "request_id": "req_..."}}` -> `api_error`;
    - `expired` -> `expired`; `canceled` -> `canceled`.

    Example::

        @given(result_lines(Recipe))
        def test_lines(rl):
            outcome = spec.parse(json.dumps(rl.line))
            assert outcome.kind == rl.kind and outcome.custom_id == rl.line["custom_id"]
    """
    spec = as_spec(spec_or_model)
    unknown = set(types) - set(RESULT_TYPES)
    if unknown or not types:
        raise ValueError(f"types must be a non-empty subset of {RESULT_TYPES}")
    return _result_line(spec, tuple(types), broken)


# ---- batch requests -----------------------------------------------------------------------------

_PROMPTS = st.text(min_size=1, max_size=200).filter(lambda s: s.strip() != "")


def _body_size(requests: Sequence[Mapping[str, Any]]) -> int:
    return len(json.dumps({"requests": list(requests)}, separators=(",", ":"), ensure_ascii=False).encode())


@st.composite
def _batch(
    draw: st.DrawFn,
    spec: Spec[Any],
    model: str,
    modes: Sequence[Mode],
    prompts: st.SearchStrategy[str],
    min_size: int,
    max_size: int,
    max_bytes: int | None,
) -> list[dict[str, Any]]:
    ids = draw(st.lists(CUSTOM_IDS, min_size=min_size, max_size=max_size, unique=True))
    out: list[dict[str, Any]] = []
    for custom_id in ids:
        params = spec.params(
            draw(prompts),
            model=model,
            max_tokens=draw(st.integers(1, 8192)),
            mode=draw(st.sampled_from(list(modes))),
        )
        out.append({"custom_id": custom_id, "params": params})
    if max_bytes is not None:
        while out and _body_size(out) > max_bytes:
            out.pop()
        assume(len(out) >= min_size)
    return out


def batch_requests(
    spec_or_model: Any,
    *,
    model: str = "claude-haiku-4-5",
    modes: Iterable[Mode | str] | None = None,
    prompts: st.SearchStrategy[str] = _PROMPTS,
    min_size: int = 1,
    max_size: int = 20,
    max_bytes: int | None = None,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Request lists for `client.messages.batches.create(requests=...)`.

    Each request is `{"custom_id": ..., "params": spec.params(prompt, model=model, max_tokens=...,
    mode=...)}`; custom_ids match `^[a-zA-Z0-9_-]{1,64}$` and are unique within the list; modes
    are drawn from `modes` (default: every mode `model` allows for this spec). With `max_bytes`,
    the JSON body `{"requests": [...]}` (compact, UTF-8) is at most that many bytes.

    Example::

        @given(batch_requests(Recipe, max_size=5, max_bytes=64_000))
        def test_submit(requests):
            batch = client.messages.batches.create(requests=requests)
            assert batch.request_counts.processing == len(requests)
    """
    from .._errors import ModeError

    spec = as_spec(spec_or_model)
    allowed: list[Mode] = []
    for mode in [Mode(m) for m in modes] if modes is not None else list(Mode):
        try:
            spec.params("x", model=model, max_tokens=16, mode=mode)
        except ModeError:
            if modes is not None:
                raise
            continue
        allowed.append(mode)
    if min_size < 1 or max_size < min_size:
        raise ValueError("need 1 <= min_size <= max_size")
    return _batch(spec, model, tuple(allowed), prompts, min_size, max_size, max_bytes)


# ---- random schemas -----------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "name", "title", "items", "type", "x_1", "quantity", "ünï", "with space"])
_SCALAR_SCHEMAS = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "integer"}),
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({"type": "string", "format": "date"}),
    st.just({"type": "integer", "minimum": 0, "maximum": 100}),
    st.lists(
        st.sampled_from(["red", "green", "blue", "Red", "dark-blue"]), min_size=1, max_size=3, unique=True
    ).map(lambda xs: {"type": "string", "enum": xs}),
)


def _object_of(
    children: st.SearchStrategy[dict[str, Any]], closed: bool | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_NAMES, children, max_size=4))
        required = [k for k in props if draw(st.booleans())]
        schema: dict[str, Any] = {"type": "object", "properties": props, "required": required}
        if closed if closed is not None else draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


def object_schemas(*, max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """Random JSON Schemas with an object root that `structbatch.compile` accepts and every mode can send.

    Nested objects, arrays, nullable unions (`anyOf` with null), enums, a date format, bounds.

    Example: `object_schemas().example()` ->
    `{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}`.
    """
    tree = st.recursive(
        _SCALAR_SCHEMAS,
        lambda inner: st.one_of(
            _object_of(inner),
            inner.map(lambda s: {"type": "array", "items": s, "maxItems": 4}),
            inner.map(lambda s: {"anyOf": [s, {"type": "null"}]}),
        ),
        max_leaves=max_leaves,
    )
    return _object_of(tree, closed=None)
