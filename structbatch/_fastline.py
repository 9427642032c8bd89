"""Reading one clean tool_use result line faster than the raw orjson + pydantic loop, on any model.

The raw loop (`orjson.loads(line)`, then `Model.model_validate(...["input"])`) builds the whole
envelope as Python objects: the result, the message, its ids and model name, the content list,
the block. None of it is needed. A line the API wrote is laid out the same way every time:

    {"custom_id":"…","result":{"type":"succeeded","message":{"id":"…","type":"message",
    "role":"assistant","model":"…","content":[{"type":"tool_use","id":"…","name":"<tool>",
    "input":<INPUT>}],"stop_reason":"tool_use","stop_sequence":null,"usage":<USAGE>}}}}

so `LineReader` matches the part before the input with one anchored regex (the tool name, the
`succeeded` type and the lone `tool_use` block are literals of it, every string in it plain
printable ASCII without escapes), checks the part after it (the tail: the content list closes
after the one block, the stop reason is a clean one, the other message keys are ones the outcome
does not depend on, the usage holds known members whose counts are integers or null), and has
pydantic-core validate the input text in strict JSON mode: the only objects built are the model
instance, the outcome and the custom_id. The usage counts are read from their text when asked
(`_TextUsage`). The tail is checked by a `re` pattern of a usage layout already met (a batch's
lines share one or two; `learn_usage`), else by one Rust regex of any member order, whose
acceptance teaches the layout. Strict JSON mode is the general path's own strict step (which first
tries strict Python mode on the parsed dict; that accepts a subset, with the same values), and it
keeps integers beyond 64 bits exact.

Where the time goes (`make bench`, a clean line of a nested order model): validating the input
is ~0.7 of the raw loop; the head ~0.05, the tail ~0.06, the two screens ~0.05, the outcome
~0.1. Each pydantic-core call costs about twice inside a line's work what it costs alone, so a
check done with `re` or a byte comparison instead of one more call is usually the cheaper one.

Why this is exact: the line is the concatenation of the matched head, the input text and the
matched tail (the middle, the usage object and `}}}`, then only whitespace). Each piece is
checked to be exactly what its grammar allows (the input by a JSON parser that must consume it
whole), so
the line is valid JSON and reads as that envelope and nothing else; no key the outcome depends on
can appear twice, and whatever the input's strings hold (even text that looks like the tail)
cannot change that. What pydantic-core's JSON parser accepts but strict JSON (orjson, the general
path) refuses is screened on the input text first: NaN and Infinity, and a three-digit exponent
(`1e400`, infinity) unless orjson reads the text. Text that may be an elision placeholder is
screened the same way. Such a line goes to the general path; a line laid out otherwise goes to the
layout-free reader (one pydantic-core pass over the whole line), and what that refuses to the
general path. One difference is left unscreened, as no API writes it and no screen for it is
cheap (a regex for a 309-digit run costs ten times the line's other screens on digit-heavy
text): a float written with 309 or more digits before its point (`111…1.5`) is read by
pydantic-core as infinity, where the general path refuses it as not finite. An integer that
long is read exactly on both paths.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
import pydantic
from pydantic_core import CoreConfig, SchemaValidator

from ._jsonload import ELISION_SUSPECT, suspect_finder
from ._outcome import FAST_OUTCOME, Outcome, Usage, fast_success

_may_elide = suspect_finder(ELISION_SUSPECT + "|NaN|Infinity")
#: a number with a three-digit exponent: pydantic-core's JSON parser reads `1e400` as infinity
#: where strict JSON (orjson, the general path) refuses the line; such text is checked by orjson.
#: The number must end there (a UUID's `…1e234…` is no number: 14% of a UUID-bearing model's
#: lines paid for orjson when any such run counted). A separate search: in one pattern with the
#: elision screen it costs ten times as much, losing that screen's literal prefilter.
_big_exponent = suspect_finder(r"[0-9][eE][+-]?[0-9]{3,}(?:[,\]} \t\r\n]|\z)")


def needs_care(text: bytes) -> bool:
    """Whether JSON text must be left to the general path: it may hold an elision placeholder,
    or a number pydantic-core's JSON parser reads where strict JSON refuses it (`NaN`,
    `Infinity`, `1e400`)."""
    if _may_elide(text):
        return True
    if _big_exponent(text):
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError:
            return True
    return False


#: printable ASCII but `"` and `\`: a JSON string written with no escape means exactly these bytes
_PLAIN = rb"[ !#-\[\]-~]*+"
#: the line up to the tool input, with `name` (the tool's JSON string) in it; group 1: custom_id
_HEAD = (
    rb'\{"custom_id":"(' + _PLAIN + rb')","result":\{"type":"succeeded","message":\{'
    rb'(?:"(?:id|type|role|model|container)":(?:"' + _PLAIN + rb'"|null),)*+'
    rb'"content":\[\{"type":"tool_use","id":"' + _PLAIN + rb'","name":%s,"input":'
)
#: `_HEAD` as the API writes it (a shorter match: no alternation)
_API_HEAD = (
    rb'\{"custom_id":"('
    + _PLAIN
    + rb')","result":\{"type":"succeeded","message":\{"id":"'
    + _PLAIN
    + rb'","type":"message","role":"assistant","model":"'
    + _PLAIN
    + rb'","content":\[\{"type":"tool_use","id":"'
    + _PLAIN
    + rb'","name":%s,"input":'
)
#: message keys the outcome does not depend on, with a plain string or null value
_OTHER = r'(?:,"(?:id|type|role|model|container|diagnostics|stop_details)":(?:"[ !#-\[\]-~]*"|null))*'
#: from the end of the tool input to the usage: the content list closes after the one block, a
#: clean stop reason, other message keys the outcome does not depend on
_MIDDLE = (
    r"\}\]"
    + _OTHER
    + r',"stop_reason":"(?:tool_use|end_turn|stop_sequence)"'
    + _OTHER
    + r',"stop_sequence":(?:null|"[ !#-\[\]-~]*")'
    + _OTHER
    + r',"usage":'
)
_COUNT = r"(?:0|[1-9][0-9]{0,17}|null)"
_COUNTS = r'\{(?:"[a-z0-9_]+":' + _COUNT + r'(?:,"[a-z0-9_]+":' + _COUNT + r")*)?\}"
_STRING = r'(?:null|"[a-z0-9_-]*")'
#: the usage members a clean line may hold, and their values: token counts are integers or
#: null (zero), what `_TextUsage` reads when asked
_USAGE_VALUES = {
    "input_tokens": _COUNT,
    "output_tokens": _COUNT,
    "cache_creation_input_tokens": _COUNT,
    "cache_read_input_tokens": _COUNT,
    "cache_creation": rf"(?:null|{_COUNTS})",
    "server_tool_use": rf"(?:null|{_COUNTS})",
    "output_tokens_details": rf"(?:null|{_COUNTS})",
    "service_tier": _STRING,
    "inference_geo": _STRING,
    "speed": _STRING,
}
_MEMBER = "|".join(f'"{key}":{value}' for key, value in _USAGE_VALUES.items())
#: from the end of the tool input on: the middle, the usage (its members in any order), then the
#: message, the result and the line closing, then only whitespace. pydantic-core's Rust regex,
#: anchored at both ends: one call, for a usage layout the reader has not learned yet.
_ANY_USAGE = rf"\{{(?:(?:{_MEMBER})(?:,(?:{_MEMBER}))*)?\}}"
_any_tail = suspect_finder(rf"\A{_MIDDLE}{_ANY_USAGE}\}}\}}\}}[ \t\r\n]*\z")
#: `_MIDDLE` as the API writes it after a forced tool call (one comparison)
_TOOL_USE_MIDDLE = b'}],"stop_reason":"tool_use","stop_sequence":null,"usage":'
#: how many usage layouts a reader learns (a batch's lines share one or two)
_MAX_LAYOUTS = 4
#: a learned layout: `re` fullmatch from the tail's position (group 1: the usage object)
UsageMatch = Callable[[bytes, int], "re.Match[bytes] | None"]


def learn_usage(usage: dict[str, Any]) -> UsageMatch:
    """A `re` fullmatch of a forced tool call's tail: `_TOOL_USE_MIDDLE`, the usage (group 1), the
    closing braces and whitespace, for usage objects laid out as `usage` is (one `_any_tail`
    accepted): the same members in the same order, objects with the same keys, any counts.
    `re` checks a fixed layout member by member for a third of what it pays for a grammar of
    any order, and for less than the any-order Rust regex costs inside a line's work (where each
    pydantic-core call costs about twice what it costs alone)."""
    parts = []
    for key, value in usage.items():
        if key in _USAGE_KEYS or _USAGE_VALUES[key] == _STRING:
            pattern = _USAGE_VALUES[key]
        elif isinstance(value, dict):
            inner = ",".join(f'"{re.escape(k)}":{_COUNT}' for k in value)
            pattern = rf"(?:null|\{{{inner}\}})"
        else:  # null: any object of counts next time
            pattern = _USAGE_VALUES[key]
        parts.append(f'"{key}":{pattern}')
    usage_pattern = rf"(\{{{','.join(parts)}\}})\}}\}}\}}[ \t\r\n]*".encode()
    return re.compile(re.escape(_TOOL_USE_MIDDLE) + usage_pattern).fullmatch


#: where the tail starts: the content list closing after the block (searched from the end)
_TAIL_START = b'}],"'
_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
#: pydantic-core caches the Python strings it builds (up to 16k of them, by default every string):
#: a batch's keys repeat but its values rarely do, and caching them cost ~10% of a clean line
_CONFIG = CoreConfig(cache_strings="keys")


class _TextUsage(Usage):
    """The `Usage` of a clean line's usage object (its JSON text), read on first access.

    Most callers of `Spec.parse` never look at the counts, and building a frozen dataclass from
    parsed text was a third of a small model's line; the text's grammar was checked with the
    line. It behaves as a `Usage` everywhere (equality and hash with plain ones, repr, pickling,
    `dataclasses.replace`, `+`); only `type(u) is Usage` tells them apart.
    """

    __slots__ = ("_text",)

    if not TYPE_CHECKING:  # a type checker sees only the four fields

        def __getattr__(self, name: str) -> int:
            """An unset count: read all four from the text (the same whoever reads them first)."""
            if name not in _USAGE_KEYS:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            counts = orjson.loads(self._text)
            for key in _USAGE_KEYS:
                object.__setattr__(self, key, counts.get(key) or 0)
            return int(getattr(self, name))

    def _plain(self) -> Usage:
        return Usage(*(getattr(self, key) for key in _USAGE_KEYS))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Usage):
            return all(getattr(self, key) == getattr(other, key) for key in _USAGE_KEYS)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._plain())

    def __repr__(self) -> str:
        return repr(self._plain())

    def __reduce__(self) -> tuple[type[Usage], tuple[int, ...]]:
        return Usage, tuple(getattr(self, key) for key in _USAGE_KEYS)


_new = object.__new__
_set_text = _TextUsage._text.__set__  # type: ignore[attr-defined]  # the slot's descriptor


_VALIDATORS: weakref.WeakKeyDictionary[type[pydantic.BaseModel], SchemaValidator] = (
    weakref.WeakKeyDictionary()
)


def json_validator(model: type[pydantic.BaseModel]) -> SchemaValidator:
    """The model's own validator with string caching for keys only (same instances, same errors),
    built once per model: strict JSON-mode validation of a clean input, here and in `_fit`."""
    known = _VALIDATORS.get(model)
    if known is not None:
        return known
    try:
        validator = SchemaValidator(model.__pydantic_core_schema__, config=_CONFIG)
    except (TypeError, ValueError, pydantic.PydanticUserError):  # a schema not built yet: as it is
        validator = model.__pydantic_validator__  # type: ignore[assignment]
    _VALIDATORS[model] = validator
    return validator


class LineReader:
    """`outcome(line)` -> the success of a clean tool_use line of `name`, else None.

    `line_validator` is the layout-free reader (`_parse.result_line_validator`), used for a line
    whose envelope is laid out otherwise (other key order, spaces, escaped strings, other usage
    keys). `wrap`: the spec's wrapping key, whose attribute of the validated model is the value.
    """

    __slots__ = ("_api_head", "_head", "_input", "_layouts", "_line", "_wrap")

    def __init__(
        self, name: str, model: type[pydantic.BaseModel], line_validator: Any, wrap: str | None = None
    ) -> None:
        tool = re.escape(orjson.dumps(name))
        self._api_head = re.compile(_API_HEAD % tool).match
        self._head = re.compile(_HEAD % tool).match
        self._input = json_validator(model).validate_json
        self._line = line_validator.validate_json
        self._wrap = wrap
        #: the usage layouts met so far, newest last (`learn_usage`)
        self._layouts: list[UsageMatch] = []

    def outcome(self, line: bytes | str | bytearray | memoryview) -> Outcome[Any] | None:
        if type(line) is not bytes:
            try:
                line = line.encode() if isinstance(line, str) else bytes(line)
            except UnicodeEncodeError:  # a lone surrogate: not JSON text
                return None
        head = self._api_head(line)
        if head is None:
            if b'"tool_use"' not in line:  # a text answer: no second regex to fail
                return None
            head = self._head(line)
            if head is None:
                return self._layout_free(line)
        start = head.end()
        cut = line.rfind(_TAIL_START, start)
        if cut < 0:
            return self._layout_free(line)
        for layout in self._layouts:  # inline: a call costs a tenth of a small model's line
            found = layout(line, cut)
            if found is not None:
                usage_text = found[1]
                break
        else:
            usage_text = self._learn_tail(line, cut)
            if usage_text is None:
                return self._layout_free(line)
        text = line[start:cut]
        if _may_elide(text) or (_big_exponent(text) and needs_care(text)):
            return None
        try:
            value = self._input(text, strict=True)
        except ValueError:  # pydantic.ValidationError: the general path explains it
            return None
        if self._wrap:
            value = getattr(value, self._wrap)
        usage = _new(_TextUsage)
        _set_text(usage, usage_text)
        if not FAST_OUTCOME:
            return fast_success(value, usage, head[1].decode())
        out: Outcome[Any] = _new(Outcome)  # `fast_success`, inline: its call was 4% of a small line
        fields = out.__dict__
        fields["ok"] = True
        fields["value"] = value
        fields["usage"] = usage
        fields["custom_id"] = head[1].decode()
        return out

    def _learn_tail(self, line: bytes, cut: int) -> bytes | None:
        """The usage object's text if the line's tail (from `cut`) is clean, else None; a tail as
        a forced tool call ends teaches its usage layout (up to `_MAX_LAYOUTS`)."""
        if not _any_tail(line[cut:]):
            return None
        end = len(line.rstrip())
        usage_text = line[line.index(b'"usage":', cut) + 8 : end - 3]  # no string before it holds `"`
        if line.startswith(_TOOL_USE_MIDDLE, cut) and len(self._layouts) < _MAX_LAYOUTS:
            self._layouts.append(learn_usage(orjson.loads(usage_text)))
        return usage_text

    def _layout_free(self, line: bytes) -> Outcome[Any] | None:
        """The whole line validated by pydantic-core in one pass (its envelope is a flat TypedDict
        read through alias paths), for a line this reader's layout does not match."""
        if b"tool_use" not in line or needs_care(line):  # a text answer leaves at the first test
            return None
        try:
            parsed = self._line(line.rstrip(), strict=True)  # it pays more for whitespace than a strip
        except ValueError:
            return None
        counts = parsed.get("usage") or {}  # integers or null (`_LineUsage`); null counts as zero
        value = parsed["value"]
        if self._wrap:
            value = getattr(value, self._wrap)
        return fast_success(value, Usage(*(counts.get(key) or 0 for key in _USAGE_KEYS)), parsed["custom_id"])
