"""Modes: the params each sends, AUTO's choice per model, refusals, system merging; SDK type checks."""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any, Literal, Union

import pydantic
import pytest
import typing_extensions
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages.batch_create_params import Request
from pydantic import BaseModel

import structbatch as sb
from structbatch import _modes
from structbatch._modes import PREFILL_TEXT, build_params, capabilities, check_mode

# ---- a strict check against the installed SDK's request types -----------------------------------
# pydantic's TypedDict validation ignores unknown keys and validates `Iterable` fields lazily, so
# on its own it would accept almost anything; `_conforms` also walks the value against the type
# hints and rejects keys outside each TypedDict.

_PARAMS = pydantic.TypeAdapter(MessageCreateParamsNonStreaming)
_REQUEST = pydantic.TypeAdapter(Request)


def _materialise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _materialise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ValidatorIterator":
        return [_materialise(v) for v in value]
    return value


@functools.cache
def _hints(tp: Any) -> dict[str, Any]:
    return typing.get_type_hints(tp)


def _conforms(tp: Any, value: Any, path: str = "$") -> list[str]:
    """Problems found checking `value` against type `tp` (empty when it conforms)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any or tp is object:
        return []
    if origin is typing.Annotated:
        return _conforms(args[0], value, path)
    if origin is Union or (origin is not None and str(origin) == "types.UnionType"):
        results = [_conforms(a, value, path) for a in args]
        return [] if any(not r for r in results) else min(results, key=len)
    if origin is Literal:
        return [] if value in args else [f"{path}: {value!r} not in {args}"]
    if typing_extensions.is_typeddict(tp):
        if not isinstance(value, Mapping):
            return [f"{path}: expected {tp.__name__} object"]
        hints = _hints(tp)
        problems = [f"{path}.{k}: not a key of {tp.__name__}" for k in value if k not in hints]
        problems += [f"{path}.{k}: missing" for k in tp.__required_keys__ if k not in value]
        for k, v in value.items():
            if k in hints:
                problems += _conforms(hints[k], v, f"{path}.{k}")
        return problems
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [] if isinstance(value, tp) else [f"{path}: expected {tp.__name__}"]
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            return [f"{path}: expected an object"]
        return [p for k, v in value.items() for p in (_conforms(args[1], v, f"{path}.{k}") if args else [])]
    if origin in (list, Iterable, typing.Sequence) or (origin is not None and "Sequence" in str(tp)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            return [f"{path}: expected an array"]
        return [
            p for i, v in enumerate(value) for p in (_conforms(args[0], v, f"{path}[{i}]") if args else [])
        ]
    if tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected bool"]
    if tp in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string"]
    if isinstance(tp, type):
        return [] if isinstance(value, tp) else [f"{path}: expected {tp.__name__}"]
    return []


def assert_sdk_valid(params: dict[str, Any]) -> None:
    _materialise(_PARAMS.validate_python(params))
    _materialise(_REQUEST.validate_python({"custom_id": "req-1", "params": params}))
    problems = _conforms(MessageCreateParamsNonStreaming, params)
    assert not problems, problems


def test_the_checker_is_not_lax() -> None:
    good = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}
    assert_sdk_valid(good)
    for bad in (
        {**good, "bogus": 1},
        {**good, "tool_choice": {"type": "tool"}},
        {**good, "system": [{"type": "text", "text": "a", "zz": 1}]},
        {**good, "output_config": {"format": {"type": "json_schema"}}},
        {**good, "messages": [{"role": "user", "content": [{"type": "text", "text": "a", "zz": 1}]}]},
        {**good, "tools": [{"name": "a", "input_schema": {"type": "object"}, "zz": 1}]},
    ):
        with pytest.raises((AssertionError, pydantic.ValidationError)):
            assert_sdk_valid(bad)


# ---- models and specs ----------------------------------------------------------------------------


class Recipe(BaseModel):
    """A recipe."""

    title: str
    servings: int


class Node(BaseModel):
    value: int
    children: list[Node] = []


SPEC = sb.compile(Recipe)
RECURSIVE = sb.compile(Node)
THINKING = {"type": "enabled", "budget_tokens": 2048}

MODELS = [
    "claude-haiku-4-5",
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-6",
    "claude-sonnet-5",
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-fable-5-2",
    "claude-haiku-5-5",
    "claude-nova-9",  # unknown to the table
]

# model -> (forced tools, prefill, structured outputs)
EXPECTED_CAPS = {
    "claude-haiku-4-5": (True, True, True),
    "claude-sonnet-4-5-20250929": (True, True, True),
    "claude-opus-4-6": (True, False, True),
    "claude-sonnet-5": (True, False, True),
    "claude-opus-5-5": (False, False, True),
    "claude-sonnet-5-5": (False, False, True),
    "claude-fable-5-2": (False, False, True),
    "claude-haiku-5-5": (True, False, True),
    "claude-nova-9": (True, True, False),
}

# model -> AUTO's mode: (plain schema, no thinking), (plain, thinking), (recursive, no thinking)
EXPECTED_AUTO = {
    "claude-haiku-4-5": ("tool", "json_schema", "tool"),
    "claude-sonnet-4-5-20250929": ("tool", "json_schema", "tool"),
    "claude-opus-4-6": ("tool", "json_schema", "tool"),
    "claude-sonnet-5": ("tool", "json_schema", "tool"),
    "claude-opus-5-5": ("json_schema", "json_schema", "prompt"),
    "claude-sonnet-5-5": ("json_schema", "json_schema", "prompt"),
    "claude-fable-5-2": ("json_schema", "json_schema", "prompt"),
    "claude-haiku-5-5": ("tool", "json_schema", "tool"),
    "claude-nova-9": ("tool", "prompt", "tool"),
}


@pytest.mark.parametrize("model", MODELS)
def test_capability_table(model: str) -> None:
    caps = capabilities(model)
    assert (caps.forced_tools, caps.prefill, caps.structured_outputs) == EXPECTED_CAPS[model]
    assert caps.known is (model != "claude-nova-9")


def test_capability_lookup_is_by_longest_prefix_and_strips_dates() -> None:
    assert capabilities("claude-opus-4-5-20251101") == capabilities("claude-opus-4-5")
    assert capabilities("claude-opus-5-5").forced_tools is False
    assert capabilities("claude-opus-5").forced_tools is True
    assert capabilities("claude-3-7-sonnet-20250219").prefill is True
    assert sb.CAPABILITIES_CHECKED == "2026-11-25"


@pytest.mark.parametrize("model", MODELS)
def test_auto_choice(model: str) -> None:
    plain, thinking, recursive = EXPECTED_AUTO[model]
    assert sb.resolve_mode(SPEC, model) == plain
    assert sb.resolve_mode(SPEC, model, thinking=THINKING) == thinking
    assert sb.resolve_mode(SPEC, model, thinking={"type": "adaptive"}) == thinking
    assert sb.resolve_mode(SPEC, model, thinking={"type": "disabled"}) == plain
    assert sb.resolve_mode(RECURSIVE, model) == recursive
    p = SPEC.params("text", model=model, max_tokens=100)
    assert_sdk_valid(p)
    assert ("tool_choice" in p) is (plain == "tool")
    assert ("output_config" in p) is (plain == "json_schema")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode", [m for m in sb.Mode if m is not sb.Mode.AUTO])
@pytest.mark.parametrize("thinking", [False, True])
def test_every_mode_every_model(model: str, mode: sb.Mode, thinking: bool) -> None:
    forced, prefill, structured = EXPECTED_CAPS[model]
    always_thinking = model in ("claude-opus-5-5", "claude-fable-5-2")
    think = thinking or always_thinking
    allowed = {
        sb.Mode.TOOL: forced and not think,
        sb.Mode.PREFILL: prefill and not think,
        sb.Mode.JSON_SCHEMA: structured,
        sb.Mode.PROMPT: True,
    }[mode]
    extra = {"thinking": THINKING} if thinking else {}
    if not allowed:
        with pytest.raises(sb.ModeError) as info:
            SPEC.params("text", model=model, max_tokens=4096, mode=mode, **extra)
        msg = str(info.value)
        assert repr(model) in msg
        assert "use Mode." in msg
        alternative = msg.split("use Mode.")[1].split()[0].rstrip(";,")
        assert alternative != mode.name
        assert SPEC.params("text", model=model, max_tokens=4096, mode=alternative.lower(), **extra)
        return
    p = SPEC.params("text", model=model, max_tokens=4096, mode=mode, **extra)
    assert_sdk_valid(p)
    assert p["model"] == model and p["max_tokens"] == 4096
    assert p["messages"][0] == {"role": "user", "content": "text"}
    if mode is sb.Mode.TOOL:
        assert p["tools"] == [SPEC.tool]
        assert p["tool_choice"] == {"type": "tool", "name": "Recipe", "disable_parallel_tool_use": True}
        assert "system" not in p and "output_config" not in p
    elif mode is sb.Mode.JSON_SCHEMA:
        assert p["output_config"] == {"format": {"type": "json_schema", "schema": SPEC.api_subset.schema}}
        assert "tools" not in p and "tool_choice" not in p
    elif mode is sb.Mode.PREFILL:
        assert p["messages"][-1] == {"role": "assistant", "content": "{"} and PREFILL_TEXT == "{"
        assert '"servings"' in p["system"]
    else:
        assert p["messages"] == [{"role": "user", "content": "text"}]
        assert '"servings"' in p["system"] and "tools" not in p


def test_error_messages_name_model_and_alternative() -> None:
    with pytest.raises(sb.ModeError, match=r"'claude-opus-5-5'.*forced tool_choice.*Mode\.JSON_SCHEMA"):
        SPEC.params("x", model="claude-opus-5-5", max_tokens=1, mode="tool")
    with pytest.raises(sb.ModeError, match=r"'claude-opus-4-6' rejects assistant prefill.*Mode\.TOOL"):
        SPEC.params("x", model="claude-opus-4-6", max_tokens=1, mode="prefill")
    with pytest.raises(sb.ModeError, match=r"Thinking may not be enabled.*Mode\.JSON_SCHEMA"):
        SPEC.params("x", model="claude-haiku-4-5", max_tokens=3000, mode="tool", thinking=THINKING)
    with pytest.raises(sb.ModeError, match=r"recursive.*'claude-opus-4-6'|'claude-opus-4-6'.*recursive"):
        RECURSIVE.params("x", model="claude-opus-4-6", max_tokens=1, mode="json_schema")
    with pytest.raises(sb.ModeError, match=r"Mode\.PROMPT"):
        RECURSIVE.params("x", model="claude-sonnet-5-5", max_tokens=1, mode="json_schema")
    with pytest.raises(sb.ModeError, match=r"not in the capability table.*refresh_capabilities"):
        SPEC.params("x", model="claude-nova-9", max_tokens=1, mode="json_schema")


def test_json_schema_sends_the_subset_and_keeps_the_original() -> None:
    spec = sb.compile(
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 1},
                "inner": {"type": "object", "properties": {"s": {"type": "string", "maxLength": 3}}},
            },
            "required": ["n"],
        }
    )
    p = spec.params("x", model="claude-sonnet-5-5", max_tokens=10, mode="json_schema")
    assert_sdk_valid(p)
    sent = p["output_config"]["format"]["schema"]
    assert sent["additionalProperties"] is False
    assert sent["properties"]["inner"]["additionalProperties"] is False
    assert (
        "minimum" not in sent["properties"]["n"] and '"minimum": 1' in sent["properties"]["n"]["description"]
    )
    assert "maxLength" not in sent["properties"]["inner"]["properties"]["s"]
    assert spec.schema["properties"]["n"]["minimum"] == 1  # the original is untouched
    assert "additionalProperties" not in spec.schema
    assert not spec.validate({"n": 0}).ok  # and enforced when validating


def test_json_schema_keeps_other_output_config_keys() -> None:
    p = SPEC.params("x", model="claude-opus-5-5", max_tokens=10, output_config={"effort": "low"})
    assert_sdk_valid(p)
    assert p["output_config"]["effort"] == "low" and p["output_config"]["format"]["type"] == "json_schema"


def _wide(n: int, *, union: bool) -> sb.Spec[Any]:
    sub: dict[str, Any] = {"type": ["integer", "null"]} if union else {"type": "integer"}
    props = {f"f{i}": sub for i in range(n)}
    return sb.compile({"type": "object", "properties": props, "required": list(props) if union else []})


def test_optional_and_union_limits_refuse_json_schema_and_auto_avoids_it() -> None:
    for spec, word in ((_wide(25, union=False), "optional"), (_wide(17, union=True), "union")):
        with pytest.raises(sb.ModeError, match=word):
            spec.params("x", model="claude-opus-5-5", max_tokens=1, mode="json_schema")
        assert sb.resolve_mode(spec, "claude-opus-5-5") == "prompt"
        assert sb.resolve_mode(spec, "claude-haiku-4-5") == "tool"
    assert sb.resolve_mode(_wide(24, union=False), "claude-opus-5-5") == "json_schema"
    assert sb.resolve_mode(_wide(16, union=True), "claude-opus-5-5") == "json_schema"


# ---- system lifting and merging ------------------------------------------------------------------


def test_system_messages_are_lifted_in_order() -> None:
    msgs = [
        {"role": "system", "content": "S1"},
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "system", "content": "S2"},
        {"role": "user", "content": "u2"},
    ]
    p = SPEC.params(msgs, model="claude-haiku-4-5", max_tokens=5, mode="tool", system="U")
    assert_sdk_valid(p)
    assert p["system"] == "U\n\nS1\n\nS2"
    assert [m["role"] for m in p["messages"]] == ["user", "assistant", "user"]
    assert msgs[0] == {"role": "system", "content": "S1"}  # input untouched


def test_block_systems_keep_their_blocks_and_cache_control() -> None:
    cached = {"type": "text", "text": "S2", "cache_control": {"type": "ephemeral"}}
    msgs = [
        {"role": "system", "content": "S1"},
        {"role": "user", "content": "u"},
        {"role": "system", "content": [cached]},
    ]
    p = SPEC.params(
        msgs, model="claude-haiku-4-5", max_tokens=5, mode="prompt", system=[{"type": "text", "text": "U"}]
    )
    assert_sdk_valid(p)
    texts = [b["text"] for b in p["system"]]
    assert texts[:3] == ["U", "S1", "S2"] and '"servings"' in texts[3]
    assert p["system"][2] == cached


def test_string_system_with_block_system_message_becomes_blocks() -> None:
    msgs = [{"role": "system", "content": [{"type": "text", "text": "S"}]}, {"role": "user", "content": "u"}]
    p = SPEC.params(msgs, model="claude-haiku-4-5", max_tokens=5, mode="tool", system="U")
    assert_sdk_valid(p)
    assert p["system"] == [{"type": "text", "text": "U"}, {"type": "text", "text": "S"}]


def test_no_system_at_all_sends_no_system_key() -> None:
    p = SPEC.params([{"role": "user", "content": "u"}], model="claude-haiku-4-5", max_tokens=5, mode="tool")
    assert "system" not in p


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ([{"role": "system", "content": "only"}], "no user turn"),
        ([{"role": "assistant", "content": "a"}], "no user turn"),
        ([{"role": "tool", "content": "x"}], "role 'tool'"),
        (["not a dict"], r"messages\[0\]"),
        ([{"role": "system", "content": [{"type": "image"}]}, {"role": "user", "content": "u"}], "not text"),
        ({"role": "user", "content": "u"}, "list of messages"),
    ],
)
def test_bad_messages(messages: Any, match: str) -> None:
    with pytest.raises(sb.InputError, match=match):
        SPEC.params(messages, model="claude-haiku-4-5", max_tokens=5)


def test_prefill_refuses_a_conversation_ending_with_assistant() -> None:
    msgs = [{"role": "user", "content": "u"}, {"role": "assistant", "content": "{"}]
    with pytest.raises(sb.InputError, match="end with a user turn"):
        SPEC.params(msgs, model="claude-haiku-4-5", max_tokens=5, mode="prefill")


def test_bad_max_tokens_and_model() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(sb.InputError, match="max_tokens"):
            SPEC.params("x", model="claude-haiku-4-5", max_tokens=bad)  # type: ignore[arg-type]
    with pytest.raises(sb.InputError, match="model"):
        SPEC.params("x", model="", max_tokens=5)


def test_user_tools_are_kept_and_name_clash_is_refused() -> None:
    other = {"name": "lookup", "description": "d", "input_schema": {"type": "object", "properties": {}}}
    p = SPEC.params("x", model="claude-haiku-4-5", max_tokens=5, mode="tool", tools=[other])
    assert_sdk_valid(p)
    assert [t["name"] for t in p["tools"]] == ["lookup", "Recipe"] and p["tool_choice"]["name"] == "Recipe"
    with pytest.raises(sb.InputError, match="already in tools"):
        SPEC.params(
            "x", model="claude-haiku-4-5", max_tokens=5, mode="tool", tools=[{**other, "name": "Recipe"}]
        )


def test_extra_params_pass_through() -> None:
    p = SPEC.params(
        "x", model="claude-haiku-4-5", max_tokens=5, metadata={"user_id": "u"}, stop_sequences=["END"]
    )
    assert_sdk_valid(p)
    assert p["metadata"] == {"user_id": "u"} and p["stop_sequences"] == ["END"]


def test_params_the_sdk_does_not_know_are_refused() -> None:
    # SDK 2.14's MessageCreateParams has no temperature/top_p/top_k; a typo is caught too.
    for key in ("temperature", "max_token", "tool_choise"):
        with pytest.raises(sb.InputError, match=repr(key)):
            SPEC.params("x", model="claude-haiku-4-5", max_tokens=5, **{key: 1})


def test_bad_mode_name() -> None:
    with pytest.raises(ValueError):
        SPEC.params("x", model="claude-haiku-4-5", max_tokens=5, mode="nope")


def test_check_mode_returns_concrete_modes() -> None:
    assert check_mode(SPEC, sb.Mode.AUTO, "claude-opus-5-5", {}) is sb.Mode.JSON_SCHEMA
    assert check_mode(SPEC, sb.Mode.PROMPT, "claude-opus-5-5", {}) is sb.Mode.PROMPT


def test_build_params_matches_spec_params() -> None:
    assert build_params(SPEC, "x", model="claude-haiku-4-5", max_tokens=5) == SPEC.params(
        "x", model="claude-haiku-4-5", max_tokens=5
    )


# ---- refresh -------------------------------------------------------------------------------------


class _FakeModels:
    def __init__(self, supported: bool | None) -> None:
        self.supported = supported
        self.asked: list[str] = []

    def retrieve(self, model: str) -> Any:
        self.asked.append(model)
        if self.supported is None:
            return SimpleNamespace(id=model, capabilities=None)
        support = SimpleNamespace(supported=self.supported)
        return SimpleNamespace(id=model, capabilities=SimpleNamespace(structured_outputs=support))


@pytest.fixture
def clean_overrides() -> Iterable[None]:
    saved = dict(_modes._overrides)
    _modes._overrides.clear()
    yield
    _modes._overrides.clear()
    _modes._overrides.update(saved)


@pytest.mark.usefixtures("clean_overrides")
def test_refresh_capabilities_updates_structured_outputs() -> None:
    models = _FakeModels(True)
    client: Any = SimpleNamespace(models=models)
    assert sb.resolve_mode(SPEC, "claude-nova-9", thinking=THINKING) == "prompt"
    caps = sb.refresh_capabilities(client, "claude-nova-9")
    assert models.asked == ["claude-nova-9"]
    assert caps.structured_outputs and caps.known
    assert capabilities("claude-nova-9") == caps
    assert sb.resolve_mode(SPEC, "claude-nova-9", thinking=THINKING) == "json_schema"
    # the table entry the refresh started from is unchanged for other ids
    assert not capabilities("claude-nova-8").structured_outputs


@pytest.mark.usefixtures("clean_overrides")
def test_refresh_can_turn_structured_outputs_off_and_tolerates_missing_capabilities() -> None:
    off = sb.refresh_capabilities(SimpleNamespace(models=_FakeModels(False)), "claude-opus-5-5")  # type: ignore[arg-type]
    assert off.structured_outputs is False and off.forced_tools is False
    assert sb.resolve_mode(SPEC, "claude-opus-5-5") == "prompt"
    same = sb.refresh_capabilities(SimpleNamespace(models=_FakeModels(None)), "claude-haiku-4-5")  # type: ignore[arg-type]
    assert same == capabilities("claude-haiku-4-5") and same.structured_outputs


# ---- the ModeDef table -----------------------------------------------------------------------------


def test_every_concrete_mode_has_one_table_entry() -> None:
    assert set(_modes.MODES) == set(sb.Mode) - {sb.Mode.AUTO}
    for mode, definition in _modes.MODES.items():
        assert definition.mode is mode
    assert _modes.MODES[sb.Mode.PREFILL].prefill == PREFILL_TEXT
    assert [m for m, d in _modes.MODES.items() if d.prefill is not None] == [sb.Mode.PREFILL]
    ranked = sorted((d.auto_rank, m) for m, d in _modes.MODES.items() if d.auto_rank is not None)
    assert [m for _, m in ranked] == [sb.Mode.TOOL, sb.Mode.JSON_SCHEMA, sb.Mode.PROMPT]


def test_auto_follows_the_table_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    # PROMPT ranked first: AUTO picks it on a model that would otherwise get TOOL
    table = dict(_modes.MODES)
    table[sb.Mode.PROMPT] = _modes.ModeDef(sb.Mode.PROMPT, table[sb.Mode.PROMPT].refusal,
                                           table[sb.Mode.PROMPT].shape, auto_rank=-1)  # fmt: skip
    ranked = sorted((d for d in table.values() if d.auto_rank is not None), key=lambda d: d.auto_rank or 0)
    monkeypatch.setattr(_modes, "MODES", table)
    monkeypatch.setattr(_modes, "_RANKED", ranked)
    assert check_mode(SPEC, sb.Mode.AUTO, "claude-haiku-4-5", {}) is sb.Mode.PROMPT


def test_no_module_branches_on_a_mode() -> None:
    """Modes are data: the modules that read them ask the table, never `mode is Mode.X`."""
    import pathlib
    import re

    root = pathlib.Path(sb.__file__).parent
    pattern = re.compile(
        r"mode\s*(?:is|==|!=)\s*Mode\.|Mode\.\w+\.value\s*(?:==|!=)|(?:==|!=)\s*Mode\.\w+\.value"
    )
    offenders = [
        f"{p.name}:{i}"
        for p in ("_schema.py", "_modes.py", "_reask.py", "_parse.py")
        for i, line in enumerate((root / p).read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("source", [list[Recipe], {"type": "array", "items": {"type": "integer"}}, int])
def test_wrapped_specs_build_valid_params_in_every_mode(source: Any) -> None:
    spec = sb.compile(source)
    for mode in (sb.Mode.TOOL, sb.Mode.PROMPT, sb.Mode.PREFILL):
        assert_sdk_valid(dict(spec.params("x", model="claude-haiku-4-5", max_tokens=5, mode=mode)))
    p = spec.params("x", model="claude-opus-4-6", max_tokens=5, mode=sb.Mode.JSON_SCHEMA)
    schema = p["output_config"]["format"]["schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == [spec.wrap]
    assert spec.api_subset.fits


def test_the_schema_module_imports_neither_modes_nor_parse_at_load() -> None:
    import ast
    import pathlib

    source = (pathlib.Path(sb.__file__).parent / "_schema.py").read_text(encoding="utf-8")
    top = [n for n in ast.parse(source).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top for a in n.names} | {
        n.module or "" for n in top if isinstance(n, ast.ImportFrom)
    }
    assert not names & {"_modes", "_parse"}
