"""Schema-guided, lossless coercions: the few ways a model's value can be wrong yet unambiguous.

`Spec.validate` calls `coerce` only after strict validation failed. Every rule here must map a
value to the one value the model evidently meant, with nothing invented and nothing lost:

- a numeric string where the schema wants a number and no string is allowed: `"5"` -> `5`,
  `"2.5"` -> `2.5`, `" 42 "` -> `42` (surrounding whitespace only), `"3.0"` -> `3` for an
  integer (the string is an integral number); never `"5.5"` -> `5`, never `"five"`, `"5kg"`,
  `"007"`, `"1 000"` or `"1e999"` (not finite);
- an integral float for an integer-only field: `5.0` -> `5` (never `5.5`); from 2**53 on, the
  integer the float's shortest spelling writes: `1e30` -> `10**30`, not the float's own value
  1000000000000000019884624838656. Strict loading leaves such a float only where the text was
  that spelling (any other integral spelling, `9007199254740993.0`, is read as the exact
  integer: `_lenient.written_integer`), so it is the number written. For a value that is
  already valid (JSON Schema counts `1e30` an integer) `exact_integers` does this one coercion;
- `"true"`/`"false"` (or Python's `"True"`/`"False"`) -> bool where the schema wants a boolean
  and no string is allowed; never `"yes"`, `1` or `"1"`;
- an enum (or const) string in the wrong case and/or with surrounding whitespace, when exactly
  one member matches, or whitespace alone differs from one member (the API documents that
  enum capitalization is not guaranteed). Letters
  match only through a simple case mapping that goes both ways (`a`/`A`, `σ`/`Σ`): never
  through case folding or compatibility normalisation, which merge distinct letters (the micro
  sign `µ` and the Greek `μ`, `ſ` and `s`, the Kelvin sign and `K`);
- one value where the schema wants an array and nothing else: `"math"` -> `["math"]`,
  `{...}` -> `[{...}]` (never `null`, never a string holding `,`, `;` or a line break, which
  may list several items, and never a string that says there are none or stands in for the
  list: blank, `None`, `N/A`, `-`, `[list of cons]`); once per position (never `[["1"]]`);
- a string that is exactly a JSON array, strictly parsed, where only an array is allowed:
  `"[\"Light\", \"Bright\"]"` -> `["Light", "Bright"]`, `"[]"` -> `[]` (`decode_json:$.pros`);
- with `drop_extra=True` (JSON Schema specs, decided by `_parse`): a key outside an object
  that says `additionalProperties: false`, named by no part of the schema at that position,
  is dropped, unless it would drop every key of the object (`{"error": "not found"}` is an
  answer about something else, not an empty object). A Pydantic model with `extra="forbid"`
  keeps rejecting such keys.

Local `$ref`s are followed; `allOf` branches all apply; for `anyOf`/`oneOf` a value is coerced
only when it fits no branch as it is and fits exactly one branch after coercion. Each applied
coercion is named, e.g. `"coerce:$.qty:str->int"`, `"enum_case:$.status"`,
`"wrap_list:$.tags"`, `"drop_extra:$.notes"`.

The bare words the tolerant parser reads (`"size": medium`) are checked by `_words`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator, Iterable
from decimal import Decimal
from typing import Any

import referencing.exceptions

from ._jsonload import loads_json
from ._jsonschema_walk import resolve_pointer
from ._lenient import JSONProblem, same_json
from ._subcheck import fit_checker

JSONSchema = dict[str, Any]

_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
#: an integral number written with a fraction or an exponent: `3.0`, `3.00`, `3e2`, `1.5e1`
_INTEGRAL_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,30})(?:\.[0-9]{1,30})?(?:[eE]\+?[0-9]{1,2})?")
_BOOL_WORDS = {"true": True, "false": False, "True": True, "False": False}
#: what may separate several items inside one string (so it is not wrapped as one)
_LIST_SEPARATORS = re.compile(r"[,;\n\r]")
#: strings that mean "no items": never wrapped into a list of one
_NO_ITEMS = re.compile(
    r"|[-–—]+|none|null|nil|n/?a|n\.a\.|empty|unknown|tb[ad]|to be (?:determined|announced|confirmed)"
    r"|(?:none|nothing|no(?: \w+){0,2}) (?:mentioned|listed|given|found|specified|provided|stated|noted|reported)"
    r"|not (?:applicable|specified|mentioned|listed|given|found|provided|stated|available|known)"
    r"|no(?:ne)? (?:items?|values?)",
    re.I,
)
#: a bracketed placeholder or an encoded list (`[]`, `[list of cons]`, `<tags>`, `(none)`)
_PLACEHOLDER = re.compile(r"\[.*\]|<.*>|\(.*\)|\{.*\}", re.S)
#: integers a float holds exactly: beyond, a float is read as its shortest spelling (`5e+20`)
_EXACT_FLOAT_INT = 2**53


def coerce(obj: Any, schema: JSONSchema, *, drop_extra: bool = False) -> tuple[Any, list[str]]:
    """Return `obj` with every lossless coercion `schema` calls for, and the coercions applied.

    Never mutates `obj`, and goes as deep as the value does: the walk keeps its own stack (see
    `_Coercer`), so no nesting the validators accept is too deep for it. A union whose check
    exhausts the stack (jsonschema recurses), a walk longer than `_MAX_STEPS` (unions whose
    branches all recurse multiply the work), or a schema whose refs jsonschema cannot resolve
    gives the value back unchanged with no coercions (validation then reports the original
    errors); any other exception is a bug and propagates.
    """
    return _run(_Coercer(schema, [], drop_extra), obj)


def exact_integers(obj: Any, schema: JSONSchema) -> tuple[Any, list[str]]:
    """`obj` with every float of 2**53 or more in an integer-only place turned into the integer
    its shortest spelling writes (`1e30` -> `10**30`), and those coercions; nothing else changes.

    For a value that is valid as it is (JSON Schema counts `1e30` an integer), where `coerce`,
    which runs only after validation fails, never looks: the float would otherwise come back as
    1000000000000000019884624838656, another integer than the one written. A union converts only
    when no branch takes the float as it is (`anyOf: [integer, string]`, not `[integer, number]`).
    """
    return _run(_Coercer(schema, [], big_only=True), obj)


def _run(coercer: _Coercer, obj: Any) -> tuple[Any, list[str]]:
    try:
        out = _walk(coercer, obj, coercer.root, "$", frozenset())
    except (RecursionError, _TooLong, referencing.exceptions.Unresolvable):
        return obj, []
    return out, coercer.applied


#: one step of the walk asks for a child: (the coercer that walks it, value, schema, path, names,
#: whether the value may not be wrapped into a list there)
_Call = tuple["_Coercer", Any, Any, str, frozenset[str], bool]
#: a node being walked: yields the children it needs, receives each child's result, returns its own
_Step = Generator[_Call, Any, Any]
#: the most nodes one coercion visits before giving up (a 5,000-deep value is ~15,000)
_MAX_STEPS = 1_000_000


class _TooLong(Exception):
    """The walk exceeded `_MAX_STEPS` (internal to `coerce`)."""


def _walk(coercer: _Coercer, obj: Any, schema: Any, path: str, names: frozenset[str]) -> Any:
    """Drive `coercer.node` with an explicit stack instead of recursion.

    Every node is a generator that yields `(coercer, child, schema, path, names, no_wrap)` for
    each child it needs and gets the child's coerced value back, so the walk's depth is the
    stack list's length, not Python's call depth. A child already walked at the same position
    against the same schema (union branches that share a `$ref` meet it again) is not walked
    again: its value and coercions are replayed, so shared branches cost once, not once per
    path through them.
    """
    root = _Frame(coercer.node(obj, schema, path, names, False), None, obj, coercer.applied)
    stack = [root]
    #: (id(value), id(schema), path, names, no_wrap) -> (value, coerced, coercions); the value is
    #: kept so that its id is not reused while the entry exists
    done: dict[_Key, tuple[Any, Any, tuple[str, ...]]] = {}
    result: Any = None
    steps = 0
    while True:
        frame = stack[-1]
        try:
            call = frame.step.send(result)
        except StopIteration as finished:
            stack.pop()
            result = finished.value
            if frame.key is None:
                return result
            done[frame.key] = (frame.value, result, tuple(frame.applied[frame.mark :]))
            continue
        steps += 1
        if steps > _MAX_STEPS:
            raise _TooLong
        who, child, sub, child_path, child_names, no_wrap = call
        key = (id(child), id(sub), child_path, child_names, no_wrap)
        hit = done.get(key)
        if hit is not None and hit[0] is child:
            who.applied.extend(hit[2])
            result = hit[1]
            continue
        stack.append(_Frame(who.node(child, sub, child_path, child_names, no_wrap), key, child, who.applied))
        result = None


_Key = tuple[int, int, str, frozenset[str], bool]


class _Frame:
    """One node being walked: its generator, its memo key (None for the root), the value it
    walks, and where its coercions start in the list they are appended to."""

    __slots__ = ("applied", "key", "mark", "step", "value")

    def __init__(self, step: _Step, key: _Key | None, value: Any, applied: list[str]) -> None:
        self.step = step
        self.key = key
        self.value = value
        self.applied = applied
        self.mark = len(applied)


class _Coercer:
    """One pass over a value, guided by the schema, collecting the coercions it applies.

    `node` and the methods it delegates to are generators driven by `_walk`: `yield (coercer,
    value, schema, path, names)` stands for the recursive call `coercer.node(...)`.
    """

    def __init__(
        self, root: JSONSchema, applied: list[str], drop_extra: bool = False, big_only: bool = False
    ) -> None:
        self.root = root
        self.applied = applied
        self.drop_extra = drop_extra
        #: only floats of 2**53 or more in integer places are coerced (`exact_integers`)
        self.big_only = big_only

    def node(self, obj: Any, schema: Any, path: str, names: frozenset[str], no_wrap: bool) -> _Step:
        """`names`: the keys named at this position by enclosing parts of the schema (an
        `allOf` sibling, a union's other branches), which a closed part must not drop.
        `no_wrap`: `obj` is not wrapped into a list at this position: it is the one item of a
        list this walk made (`"1"` is one value where an array is wanted, never `[["1"]]`), or
        a union is trying its branches without wrapping first (see `union`)."""
        if not isinstance(schema, dict):
            return obj
        if self.drop_extra and isinstance(obj, dict):
            names = names | _named(self.root, schema, 0)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = resolve_pointer(self.root, ref)
            if target is not None:
                obj = yield (self, obj, target, path, names, no_wrap)
        for sub in schema.get("allOf") or ():
            obj = yield (self, obj, sub, path, names, no_wrap)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                obj = yield from self.union(obj, branches, path, names, no_wrap)
        return (yield from self.typed(obj, schema, path, names, no_wrap))

    def union(self, obj: Any, branches: list[Any], path: str, names: frozenset[str], no_wrap: bool) -> _Step:
        """Coerce into a union only when the value fits no branch now and exactly one after.

        Wrapping into a list is the last resort: the branches are first tried without it here,
        so `"7"` under `anyOf: [integer, array of ...]` is `7`, not also `[7]` (which would make
        two readings); only when no branch fits that way is wrapping tried.
        """
        fits = fit_checker(self.root)
        for wrap in (False,) if no_wrap else (False, True):
            results: list[tuple[Any, list[str]]] = []
            for branch in branches:
                trial: list[str] = []
                walker = _Coercer(self.root, trial, self.drop_extra, self.big_only)
                value = yield (walker, obj, branch, path, names, not wrap)
                if fits(value, branch):
                    if not trial:
                        return obj
                    results.append((value, trial))
            distinct: list[tuple[Any, list[str]]] = []
            for value, trial in results:
                if not any(same_json(value, seen) for seen, _ in distinct):
                    distinct.append((value, trial))
            if len(distinct) == 1:
                value, trial = distinct[0]
                self.applied.extend(trial)
                return value
            if distinct:  # several readings: none is chosen
                return obj
        return obj

    def typed(self, obj: Any, schema: JSONSchema, path: str, names: frozenset[str], no_wrap: bool) -> _Step:
        types = _types(schema)
        decoded = _json_list(obj) if types == {"array"} and not self.big_only else None
        if decoded is not None:  # `"[\"Light\", \"Bright\"]"`: the list, written as a JSON string
            self.applied.append(f"decode_json:{path}")
            return (yield (self, decoded, schema, path, names, True))
        wrap = types == {"array"} and not isinstance(obj, list) and not no_wrap and not self.big_only
        if wrap and _wrappable(obj):
            inner = yield (self, obj, schema.get("items"), f"{path}[0]", frozenset(), True)
            self.applied.append(f"wrap_list:{path}")
            return [inner]
        if isinstance(obj, dict):
            return (yield from self.object(obj, schema, path, names))
        if isinstance(obj, list):
            return (yield from self.array(obj, schema, path))
        if isinstance(obj, str):
            return obj if self.big_only else self.string(obj, schema, types, path)
        if isinstance(obj, float) and "integer" in types and "number" not in types:
            return self.integral(obj, path)
        return obj

    def integral(self, obj: float, path: str) -> Any:
        """An integral float for an integer-only place: the integer it writes (see the module
        docstring); below 2**53 only when the value is not already valid (`coerce`)."""
        if not math.isfinite(obj) or not obj.is_integer():
            return obj
        if abs(obj) < _EXACT_FLOAT_INT:
            if self.big_only:
                return obj
            exact = int(obj)
        else:
            exact = int(Decimal(repr(obj)))
        self.applied.append(f"coerce:{path}:float->int")
        return exact

    def object(self, obj: dict[str, Any], schema: JSONSchema, path: str, names: frozenset[str]) -> _Step:
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        closed = self.drop_extra and extra is False
        if not isinstance(props, dict) and not isinstance(extra, dict) and not closed:
            return obj
        patterns = _patterns(schema)
        mark = len(self.applied)
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if isinstance(props, dict) and key in props:
                sub = props[key]
            elif closed and key not in names and not any(p.search(key) for p in patterns):
                self.applied.append(f"drop_extra:{_child(path, key)}")
                continue
            else:
                sub = extra
            out[key] = yield (self, value, sub, _child(path, key), frozenset(), False)
        if obj and not out:  # every key dropped: the object is about something else, not emptied
            del self.applied[mark:]
            return obj
        return out

    def array(self, obj: list[Any], schema: JSONSchema, path: str) -> _Step:
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        out: list[Any] = []
        for i, value in enumerate(obj):
            sub: Any = None
            if isinstance(prefix, list) and i < len(prefix):
                sub = prefix[i]
            elif isinstance(items, dict):
                sub = items
            out.append((yield (self, value, sub, f"{path}[{i}]", frozenset(), False)))
        return out

    def string(self, obj: str, schema: JSONSchema, types: set[str], path: str) -> Any:
        members = enum_members(schema)
        if members is not None and obj not in members:
            fixed = _enum_match(obj, members)
            if fixed is not None:
                if fixed != obj.strip():
                    self.applied.append(f"enum_case:{path}")
                if obj != obj.strip():
                    self.applied.append(f"enum_whitespace:{path}")
                return fixed
        if "string" in types or not types:
            return obj
        text = obj.strip()
        padded = "padded_" if text != obj else ""
        if "integer" in types and _INT_RE.fullmatch(text):
            self.applied.append(f"coerce:{path}:{padded}str->int")
            return int(text)
        if "number" in types and _NUMBER_RE.fullmatch(text):
            number = _number(text)
            if number is not None:
                self.applied.append(f"coerce:{path}:{padded}str->number")
                return number
        if "integer" in types and _INTEGRAL_RE.fullmatch(text):
            exact = Decimal(text)
            if exact == exact.to_integral_value():
                self.applied.append(f"coerce:{path}:{padded}str->int")
                return int(exact)
        if "boolean" in types and text in _BOOL_WORDS:
            self.applied.append(f"coerce:{path}:{padded}str->bool")
            return _BOOL_WORDS[text]
        return obj


def _json_list(obj: Any) -> list[Any] | None:
    """The list a string holds as strict JSON (`"[]"`, `"[1, 2]"`), else None. Strict loading
    refuses what would lie (an elision, a duplicate key), so a placeholder never decodes."""
    if not isinstance(obj, str):
        return None
    text = obj.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = loads_json(text)
    except JSONProblem:
        return None
    return value if isinstance(value, list) else None


def _wrappable(obj: Any) -> bool:
    """Is `obj` one item of the array the schema wants (rather than none or several)?

    Not `null`, not a string that may list several items (`,`, `;`, a line break), and not a
    string that says there are none or stands in for the list: blank, `None`/`null`/`N/A`/`-`,
    or a bracketed placeholder or encoding (`[]`, `[list of cons]`, `<tags>`).
    """
    if obj is None:
        return False
    if not isinstance(obj, str):
        return True
    text = obj.strip()
    if text.startswith(("[", "{")):  # an encoded value (decoded when it is exactly one), not an item
        return False
    return not (_LIST_SEPARATORS.search(obj) or _NO_ITEMS.fullmatch(text) or _PLACEHOLDER.fullmatch(text))


def _enum_match(obj: str, members: Iterable[Any]) -> str | None:
    """The one string member equal to `obj` up to surrounding whitespace and letter case."""
    text = obj.strip()
    if text in members:  # whitespace alone: the exact member, whatever others differ in case only
        return text
    found = [m for m in members if isinstance(m, str) and _same_letters(m, text)]
    return found[0] if len(found) == 1 else None


def _same_letters(a: str, b: str) -> bool:
    """Equal up to simple case mappings that go both ways (`a`/`A`; not `µ`/`μ`, not `ß`/`SS`)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x != y and not ((x.lower() == y and y.upper() == x) or (x.upper() == y and y.lower() == x)):
            return False
    return True


def _number(text: str) -> int | float | None:
    """A JSON-number string as the value a JSON parser would give (None when not finite)."""
    if _INT_RE.fullmatch(text):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def _types(schema: JSONSchema) -> set[str]:
    raw = schema.get("type")
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return {t for t in raw if isinstance(t, str)}
    return set()


def enum_members(schema: JSONSchema) -> list[Any] | None:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _patterns(schema: JSONSchema) -> list[re.Pattern[str]]:
    raw = schema.get("patternProperties")
    out: list[re.Pattern[str]] = []
    if isinstance(raw, dict):
        for pattern in raw:
            try:
                out.append(re.compile(pattern))
            except re.error:  # an ECMA-only pattern: treat every key as possibly matching it
                out.append(re.compile(""))
    return out


def _named(root: JSONSchema, schema: Any, hops: int) -> frozenset[str]:
    """Every property name any part of `schema` gives at this position (through refs, `allOf`,
    `anyOf`, `oneOf`, conditionals): keys a closed part must not drop as extra."""
    if not isinstance(schema, dict) or hops > 32:
        return frozenset()
    names: set[str] = set()
    props = schema.get("properties")
    if isinstance(props, dict):
        names.update(props)
    required = schema.get("required")
    if isinstance(required, list):
        names.update(k for k in required if isinstance(k, str))
    for key in ("dependentSchemas", "dependentRequired"):  # their keys name properties too
        deps = schema.get(key)
        if isinstance(deps, dict):
            names.update(deps)
    listed = schema.get("dependentRequired")
    for keys in listed.values() if isinstance(listed, dict) else ():
        if isinstance(keys, list):
            names.update(k for k in keys if isinstance(k, str))
    ref = schema.get("$ref")
    if isinstance(ref, str):
        names |= _named(root, resolve_pointer(root, ref), hops + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            names |= _named(root, sub, hops + 1)
    for key in ("if", "then", "else", "dependentSchemas"):
        sub = schema.get(key)
        subs = sub.values() if key == "dependentSchemas" and isinstance(sub, dict) else [sub]
        for s in subs:
            names |= _named(root, s, hops + 1)
    return frozenset(names)


def _child(path: str, key: str) -> str:
    """The JSON path of `key` under `path`, in the same style as validation errors."""
    return f"{path}.{key}"
