"""One candidate value against a spec: strict, then lossless coercion, then lossless reshapes.

`fit_value` says whether a value found in an answer (a tool input, a JSON candidate of the text)
is the spec's, and with which repairs. When the value as found does not fit, the reshapes are
tried: the object under a single key (`{"recipe": {...}}`; a scalar or list only under a key
naming the spec or its wrap key), the `input`/`arguments` of a tool call naming our tool written
out as text, the only element of a one-element list, and for wrapped specs the bare value
(`[...]` for `{"items": [...]}`). Exactly one reshape must fit; each is recorded
(`unwrap:recipe`, `unwrap:list`, ...). A bare value for a wrapped spec (`[...]` for
`{"items": [...]}`) is the answer itself: the wrap is our envelope, not a repair.
"""

from __future__ import annotations

import dataclasses
import json
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pydantic

from . import _jsonschema_walk as jsw
from ._coerce import coerce, exact_integers
from ._fastline import json_validator
from ._jsonload import holds_big_float
from ._lenient import BareWord, JSONProblem, same_json
from ._schema import Spec
from ._types import FieldError, Validation
from ._words import enum_words, settle_words

_TOOL_CALL_KEYS = ("input", "arguments", "parameters")


#: Pydantic models whose clean inputs need JSON-mode validation (enums, dates, tuples...): for
#: these, strict Python-mode validation of the parsed dict always fails first, so it is skipped.
_JSON_MODE_MODELS: set[type[Any]] = set()


def validate_strict(spec: Spec[Any], raw: Any, dumped: bytes | None = None) -> tuple[bool, Any]:
    """`Spec.validate`'s strict step for Pydantic specs, specialised for speed.

    Strict Python-mode validation of a parsed dict accepts a subset of what strict JSON mode
    accepts, with the same values, and skips re-serialising; models that need JSON mode
    (enums, dates, tuples) are remembered and go straight to it. `(False, None)` when the value
    does not validate strictly (the caller then asks `spec.validate`, which also coerces).
    """
    model = spec.model
    if model is None or not isinstance(raw, dict):
        return False, None
    try:
        if model in _JSON_MODE_MODELS:
            instance = json_validator(model).validate_json(dumped or orjson.dumps(raw), strict=True)
        else:
            try:
                instance = model.__pydantic_validator__.validate_python(raw, strict=True)
            except pydantic.ValidationError:
                instance = json_validator(model).validate_json(dumped or orjson.dumps(raw), strict=True)
                _JSON_MODE_MODELS.add(model)
    except (TypeError, ValueError):  # ValidationError and orjson errors are ValueErrors
        return False, None
    return True, (getattr(instance, spec.wrap) if spec.wrap else instance)


class Fit:
    """A candidate's validation result, with the repairs that led to it."""

    __slots__ = ("errors", "excerpt", "ok", "region", "repairs", "value")

    def __init__(
        self,
        ok: bool,
        value: Any,
        repairs: tuple[str, ...],
        errors: tuple[FieldError, ...],
        excerpt: str | None,
    ) -> None:
        self.ok = ok
        self.value = value
        self.repairs = repairs
        self.errors = errors
        self.excerpt = excerpt
        self.region: tuple[int, int] | None = None

    @classmethod
    def problem(cls, exc: JSONProblem, excerpt: str | None) -> Fit:
        return cls(False, None, (), (FieldError(exc.path, exc.message),), excerpt)


def fit_value(
    spec: Spec[Any], value: Any, repairs: tuple[str, ...], excerpt: str | None, dumped: bytes | None = None
) -> Fit:
    """Validate `value` as found; when it does not fit, try the lossless reshapes (exactly one)."""
    words = "unquoted_enum_value" in repairs
    settled = True
    if words:  # bare words stand only where their enum applies; `dumped` was never made for them
        settled, plain = settle_words(value, spec.schema, BareWord)
        value = plain if settled else value
    if settled:
        ok, strict_value = validate_strict(spec, value, dumped)
        if ok:
            return Fit(True, strict_value, repairs, (), excerpt)
        first = validate_answer(spec, value, None if words else dumped)
    else:  # not as written; a reshape may put each word where its enum is (a bare root list)
        first = Validation(False, None, (_stray_word_error(),))
    if first.ok and not _emptied(value, first.coercions):
        return Fit(True, first.value, merge(repairs, first.coercions), (), excerpt)
    found: list[tuple[Validation, tuple[str, ...]]] = []
    for shaped, how in _reshapes(spec, value):
        if words:
            settled, shaped = settle_words(shaped, spec.schema, BareWord)
            if not settled:
                continue
        check = validate_answer(spec, shaped)
        if check.ok and not any(same_value(check.value, f.value) for f, _ in found):
            found.append((check, how))
    if len(found) == 1:
        check, how = found[0]
        return Fit(True, check.value, merge(repairs, how, check.coercions), (), excerpt)
    if first.ok:  # no single reshape: the keys dropped were not a wrapper after all
        return Fit(True, first.value, merge(repairs, first.coercions), (), excerpt)
    return Fit(False, None, repairs, first.errors, excerpt)


def validate_answer(spec: Spec[Any], value: Any, dumped: bytes | None = None) -> Validation:
    """`spec.validate`, and for JSON Schema specs a second try with the keys a closed object
    (`additionalProperties: false`) does not name dropped (`drop_extra:$.path`).

    Only for JSON Schema specs: the API requires `additionalProperties: false` for structured
    outputs, so users write it without meaning "reject". A Pydantic model says `extra="forbid"`
    only on purpose, and is held to it (its `spec.model` is set). A valid JSON Schema value
    holding a float of 2**53 or more in an integer place gets the integer written (`1e30` ->
    `10**30`, see `_exact`). `dumped`: `value`'s orjson serialisation, when the caller has it.
    """
    first = spec.validate(value)
    if spec.model is not None:
        return first
    if first.ok:
        return _exact(spec, value, first, dumped)
    dropped, applied = coerce(value, spec.schema, drop_extra=True)
    if not any(a.startswith("drop_extra:") for a in applied):
        return first
    second = spec.validate(dropped)
    if not second.ok:
        return first
    second = _exact(spec, dropped, second)
    return dataclasses.replace(second, coercions=tuple(merge(applied, second.coercions)))


def _exact(spec: Spec[Any], value: Any, check: Validation, dumped: bytes | None = None) -> Validation:
    """`check` (`value` validated) with every float of 2**53 or more in an integer-only place
    as the integer its shortest spelling writes (`_coerce.exact_integers`): JSON Schema counts
    `1e30` an integer, so validation passes it as the float 1000000000000000019884624838656.
    Only a value holding such a float pays for the walk; if the integers do not validate (an
    `enum` listing the float), the value stays as validated."""
    if not spec_facts(spec).integers or not holds_big_float(value, dumped):
        return check
    exact, applied = exact_integers(value, spec.schema)
    if not applied:
        return check
    again = spec.validate(exact)
    if not again.ok:
        return check
    return dataclasses.replace(again, coercions=tuple(merge(check.coercions, applied, again.coercions)))


def _emptied(value: Any, coercions: Sequence[str]) -> bool:
    """Did validation fit an object only by dropping every one of its keys? Then it is more
    likely a wrapper (`{"contact": {...}}`), and a reshape is tried before that reading."""
    if not isinstance(value, dict) or not value:
        return False
    return all(f"drop_extra:$.{key}" in coercions for key in value)


def _stray_word_error() -> FieldError:
    return FieldError("$", "an unquoted word stands where no enum of the schema lists it")


def _reshapes(spec: Spec[Any], value: Any) -> list[tuple[Any, tuple[str, ...]]]:
    """The lossless ways a value may wrap (or be) ours, each with the repairs it stands for.

    A single-key object (`{"recipe": {...}}`), a tool call naming our tool written out as text,
    a one-element list; for a wrapped spec also the bare value (`[...]` for `{"items": [...]}`).
    The rule is that a reshape never turns an invalid instance into a valid one by guessing:
    `{k: sub}` is unwrapped only when both readings are clear. `k` is a label, not data: the
    schema names it nowhere for its instance (`properties`, `patternProperties`, `required`,
    `dependentRequired`, `dependentSchemas`, a `propertyNames` const or enum, in the root or any
    subschema applying to it). And `sub` is the instance: an object using a key the schema
    describes its instance with (`properties`, `required`; the wrap key of a wrapped spec), or
    a scalar or list under a key naming the spec. So `{"toString": {"length": 37}}` stays
    invalid for a schema whose `toString` property it violates, and `{"aaA": {}}` for a map
    whose key names must match `^a+$` (one entry of the map, not a wrapper around `{}`). The
    one exception to "a named key is never reshaped" is a tool call naming our tool
    (`{"name": "contact", "input": {...}}`): its `name` is the envelope's.
    """
    facts = spec_facts(spec)
    if isinstance(value, dict) and facts.names_any(value):
        rest = {k: v for k, v in value.items() if k != "name"}
        if value.get("name") != spec.name or facts.names_any(rest):
            return []
    inner: list[tuple[Any, tuple[str, ...]]] = []
    if isinstance(value, dict):
        if len(value) == 1 and not facts.names_any(value):
            ((key, sub),) = value.items()
            # The key must be a label, the value the instance: an object that uses a key the
            # schema describes its instance with, or a scalar or list under a key naming the
            # spec (`{"year": 1999}` is not a `count`; `{"aaA": {}}` is one entry of a map).
            named = _norm(key) in {_norm(spec.name), _norm(spec.wrap or "")}
            evident = (
                isinstance(sub, dict) and (spec.wrap in sub or any(k in facts.evidence for k in sub))
            ) or (isinstance(sub, list) and _items_evident(sub, facts.item_evidence))
            if key != spec.wrap and (evident or named):
                inner.append((sub, (f"unwrap:{key}",)))
        if value.get("name") == spec.name:
            for key in _TOOL_CALL_KEYS:
                if isinstance(value.get(key), dict) and set(value) <= {"name", "type", "id", key}:
                    inner.append((value[key], (f"unwrap_tool_call:{key}",)))
    elif isinstance(value, list) and len(value) == 1 and spec.wrap is None:
        inner.append((value[0], ("unwrap:list",)))
    wrap = spec.wrap
    if wrap is None:
        return inner
    out: list[tuple[Any, tuple[str, ...]]] = []
    if not (isinstance(value, dict) and facts.names_any(value)):
        out.append(({wrap: value}, ()))  # the bare value is the answer: our envelope is no repair
    for sub, how in inner:
        if isinstance(sub, dict) and wrap in sub:
            out.append((sub, how))
        else:
            out.append(({wrap: sub}, how))
    return out


class _SpecFacts:
    """What the text parser reads off a spec's schema once (kept per spec, see `spec_facts`)."""

    __slots__ = ("evidence", "integers", "item_evidence", "names", "patterns", "words")

    def __init__(self, spec: Spec[Any]) -> None:
        schema = spec.schema
        #: may the schema have an integer place (`_exact`)? The word anywhere in it says maybe
        self.integers = '"integer"' in json.dumps(schema, default=str)  # once a spec; any int size
        #: one-word enum members: the bare words the tolerant parser may read as strings
        self.words = frozenset(w for w in enum_words(schema) if _WORD.fullmatch(w))
        names: set[str] = set()
        patterns: set[str] = set()
        _instance_keys(schema, schema, names, patterns, set(), evidence=None)
        #: keys the root names in any way: an object using one is never reshaped
        self.names = frozenset(names)
        self.patterns = tuple(_pattern(p) for p in sorted(patterns))
        #: keys that say an object is the instance (`properties`, `required`): an object under
        #: a wrapper key must use one of them to be unwrapped
        found: set[str] = set()
        target: Any = schema
        if spec.wrap is not None:  # the value's own schema, under the wrap key
            props = schema.get("properties")
            target = props.get(spec.wrap) if isinstance(props, dict) else None
        items: set[str] = set()
        if isinstance(target, dict):
            _instance_keys(schema, target, set(), set(), set(), evidence=found)
            if isinstance(target.get("items"), dict):
                _instance_keys(schema, target["items"], set(), set(), set(), evidence=items)
        self.evidence = frozenset(found)
        #: for a wrapped array spec, the keys its items are described with: a list of objects
        #: each using one is the instance, under whatever key (`{"people": [{...}, ...]}`)
        self.item_evidence = frozenset(items)

    def names_any(self, value: Mapping[str, Any]) -> bool:
        if any(key in self.names for key in value):
            return True
        return any(p.search(key) for p in self.patterns for key in value)


#: keywords whose subschemas apply to the same instance as the schema holding them
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE = ("not", "if", "then", "else")


def _instance_keys(
    root: Any, node: Any, names: set[str], patterns: set[str], seen: set[int], *, evidence: set[str] | None
) -> None:
    """Collect the keys a schema names for its instance object, through every subschema that
    applies to that same instance (`allOf`/`anyOf`/`oneOf`/`not`/`if`/`then`/`else`, the values of
    `dependentSchemas`, local `$ref`s).

    `names`: every way of naming a key (`properties`, `required`, `dependentRequired`,
    `dependentSchemas`, the strings of a `propertyNames` `const`/`enum`), and `patterns` from
    `patternProperties`. `evidence`, when given, gets only `properties` and `required`: the keys
    that describe what the instance holds (a key `dependentSchemas` names is a trigger, not content).
    """
    if not isinstance(node, dict) or id(node) in seen:
        return
    seen.add(id(node))
    props = node.get("properties")
    required = node.get("required")
    described = [*(props if isinstance(props, dict) else ())]
    described += [k for k in required if isinstance(k, str)] if isinstance(required, list) else []
    names.update(described)
    if evidence is not None:
        evidence.update(described)
    pattern_props = node.get("patternProperties")
    if isinstance(pattern_props, dict):
        patterns.update(pattern_props)
    dep_required = node.get("dependentRequired")
    if isinstance(dep_required, dict):
        names.update(dep_required)
        for keys in dep_required.values():
            if isinstance(keys, list):
                names.update(k for k in keys if isinstance(k, str))
    key_names = node.get("propertyNames")
    if isinstance(key_names, dict):
        listed = [key_names.get("const"), *(key_names.get("enum") or ())]
        names.update(k for k in listed if isinstance(k, str))
    subs: list[Any] = [node.get(k) for k in _IN_PLACE]
    for k in _IN_PLACE_LISTS:
        branches = node.get(k)
        subs += branches if isinstance(branches, list) else []
    dep_schemas = node.get("dependentSchemas")
    if isinstance(dep_schemas, dict):
        names.update(dep_schemas)
        subs += dep_schemas.values()
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        subs.append(jsw.resolve_pointer(root, ref))
    for sub in subs:
        _instance_keys(root, sub, names, patterns, seen, evidence=evidence)


def _pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:  # an ECMA-only pattern: any key may match it
        return re.compile("")


_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_FACTS: weakref.WeakKeyDictionary[Spec[Any], _SpecFacts] = weakref.WeakKeyDictionary()


def spec_facts(spec: Spec[Any]) -> _SpecFacts:
    facts = _FACTS.get(spec)
    if facts is None:
        facts = _FACTS[spec] = _SpecFacts(spec)
    return facts


def _items_evident(items: list[Any], keys: frozenset[str]) -> bool:
    """A non-empty list of objects, each using a key the schema describes its items with."""
    return bool(items) and all(isinstance(i, dict) and any(k in keys for k in i) for i in items)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def same_value(a: Any, b: Any) -> bool:
    """Validated values compare with `==` (models); JSON values by `same_json` (`1` is not `true`)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        return same_json(a, b)
    return bool(a == b)


def merge(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for g in groups for r in g))
