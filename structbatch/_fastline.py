"""Reading one clean tool_use result line faster than the raw orjson + pydantic loop, on any model.

The raw loop (`orjson.loads(line)`, then `Model.model_validate(...["input"])`) builds the whole
envelope as Python objects: the result, the message, its ids and model name, the content list,
the block. None of it is needed. A line the API wrote is laid out the same way every time:

    {"custom_id":"…","result":{"type":"succeeded","message":{"id":"…","type":"message",
    "role":"assistant","model":"…","content":[{"type":"tool_use","id":"…","name":"<tool>",
    "input":<INPUT>}],"stop_reason":"tool_use","stop_sequence":null,"usage":<USAGE>}}}}

so `LineReader` matches the part before the input with one anchored regex (the tool name, the
`succeeded` type and the lone `tool_use` block are literals of it, every string in it plain
printable ASCII without escapes), checks the part after it against a second one (the content list
closes after the one block, the stop reason is a clean one, the other message keys are ones the
outcome does not depend on), and has pydantic-core validate the input text in strict JSON mode
and read the usage text straight into a `Usage`: the only objects built are the model instance,
the usage and the custom_id. Strict JSON mode is the general path's own strict step (which first
tries strict Python mode on the parsed dict; that accepts a subset, with the same values), and it
keeps integers beyond 64 bits exact.

Why this is exact: the line is the concatenation of the matched head, the input text, the matched
middle, the usage text and `}}}` (then only whitespace). Each piece is checked to be exactly what
its grammar allows (the input and the usage by a JSON parser that must consume them whole), so
the line is valid JSON and reads as that envelope and nothing else; no key the outcome depends on
can appear twice, and whatever the input's strings hold (even text that looks like the tail)
cannot change that. What pydantic-core's JSON parser accepts but strict JSON (orjson, the general
path) refuses is screened on the input text first: NaN and Infinity, and a three-digit exponent
(`1e400`, infinity) unless orjson reads the text. Text that may be an elision placeholder is
screened the same way. Such a line goes to the general path; a line laid out otherwise goes to the
layout-free reader (one pydantic-core pass over the whole line), and what that refuses to the
general path. One difference is left unscreened, as no API writes it: a number of 309 or more
digits is read by pydantic-core (exactly, or as infinity for a float written with a fraction)
where orjson refuses the whole line.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pydantic
from pydantic_core import CoreConfig, SchemaValidator

from ._jsonload import ELISION_SUSPECT, suspect_finder
from ._outcome import Usage

_may_elide = suspect_finder(ELISION_SUSPECT + "|NaN|Infinity")
#: a number with a three-digit exponent: pydantic-core's JSON parser reads `1e400` as infinity
#: where strict JSON (orjson, the general path) refuses the line; such text is checked by orjson.
#: (A separate search: in one pattern with the others it costs ten times as much.)
_big_exponent = suspect_finder("[0-9][eE][+-]?[0-9]{3}")


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
_OTHER = rb'(?:,"(?:id|type|role|model|container|diagnostics|stop_details)":(?:"' + _PLAIN + rb'"|null))*+'
#: from the end of the tool input to the usage object: one block, a clean stop reason
_MIDDLE = re.compile(
    rb"\}\]"
    + _OTHER
    + rb',"stop_reason":"(?:tool_use|end_turn|stop_sequence)"'
    + _OTHER
    + rb',"stop_sequence":(?:null|"'
    + _PLAIN
    + rb'")'
    + _OTHER
    + rb',"usage":'
).match
#: where `_MIDDLE` starts: the content list closing after the block (searched from the end)
_MIDDLE_START = b'}],"'
#: `_MIDDLE` as the API writes it after a forced tool call (one comparison instead of a match)
_TOOL_USE_MIDDLE = b'}],"stop_reason":"tool_use","stop_sequence":null,"usage":'
_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_WHITESPACE = b" \t\r\n"
#: pydantic-core caches the Python strings it builds (up to 16k of them, by default every string):
#: a batch's keys repeat but its values rarely do, and caching them cost ~10% of a clean line
_CONFIG = CoreConfig(cache_strings="keys")
#: a usage object's JSON text -> `Usage` (counts strict integers, missing ones zero, other keys
#: ignored), built by pydantic-core: half the cost of orjson and a dict
_read_usage = pydantic.TypeAdapter(Usage).validator.validate_json


def _validator(model: type[pydantic.BaseModel]) -> SchemaValidator:
    """The model's own validator with string caching for keys only (same instances, same errors)."""
    try:
        return SchemaValidator(model.__pydantic_core_schema__, config=_CONFIG)
    except (TypeError, ValueError, pydantic.PydanticUserError):  # a schema not built yet: as it is
        return model.__pydantic_validator__  # type: ignore[return-value]


class LineReader:
    """`read(line)` -> `(custom_id, value, usage)` for a clean tool_use line of `name`, else None.

    `line_validator` is the layout-free reader (`_parse.result_line_validator`), used for a line
    whose envelope is laid out otherwise (other key order, spaces, escaped strings, no usage).
    """

    __slots__ = ("_api_head", "_head", "_input", "_line", "_usages")

    def __init__(self, name: str, model: type[pydantic.BaseModel], line_validator: Any) -> None:
        tool = re.escape(orjson.dumps(name))
        self._api_head = re.compile(_API_HEAD % tool).match
        self._head = re.compile(_HEAD % tool).match
        self._input = _validator(model).validate_json
        self._line = line_validator.validate_json
        #: `Usage` by its JSON text (immutable, and the same counts often repeat in a batch)
        self._usages: dict[bytes, Usage] = {}

    def read(self, line: bytes | str) -> tuple[str, Any, Usage] | None:
        if type(line) is not bytes:
            try:
                line = line.encode() if isinstance(line, str) else bytes(line)
            except UnicodeEncodeError:  # a lone surrogate: not JSON text
                return None
        head = self._api_head(line) or self._head(line)
        if head is None:
            return self._layout_free(line)
        start = head.end()
        cut = line.rfind(_MIDDLE_START, start)
        if line.startswith(_TOOL_USE_MIDDLE, cut):
            usage_start = cut + len(_TOOL_USE_MIDDLE)
        else:
            middle = _MIDDLE(line, cut) if cut > 0 else None
            if middle is None:
                return self._layout_free(line)
            usage_start = middle.end()
        end = len(line)
        if line[-1] == 10:  # b"\n"
            end -= 1
        while end and line[end - 1] in _WHITESPACE:
            end -= 1
        if line[end - 3 : end] != b"}}}":
            return self._layout_free(line)
        text = line[start:cut]
        if needs_care(text):
            return None
        usage_text = line[usage_start : end - 3]
        usage = self._usages.get(usage_text)
        if usage is None:
            try:
                usage = _read_usage(usage_text, strict=True)
            except ValueError:  # null or non-integer counts: the layout-free reader decides
                return self._layout_free(line)
            if len(self._usages) >= 4096:
                self._usages.clear()
            self._usages[usage_text] = usage
        try:
            value = self._input(text, strict=True)
        except ValueError:  # pydantic.ValidationError: the general path explains it
            return None
        return head[1].decode(), value, usage

    def _layout_free(self, line: bytes) -> tuple[str, Any, Usage] | None:
        """The whole line validated by pydantic-core in one pass (its envelope is a flat TypedDict
        read through alias paths), for a line this reader's layout does not match."""
        if needs_care(line) or b"tool_use" not in line:
            return None
        try:
            parsed = self._line(line.rstrip(), strict=True)  # it pays more for whitespace than a strip
        except ValueError:
            return None
        counts = parsed.get("usage") or {}  # integers or null (`_LineUsage`); null counts as zero
        usage = Usage(*(counts.get(key) or 0 for key in _USAGE_KEYS))
        return parsed["custom_id"], parsed["value"], usage
