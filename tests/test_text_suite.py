"""The JSON Schema Test Suite (draft 2020-12) through the text path: reshapes never fake validity.

`tests/test_jsts.py` judges the validator. This module gives each suite datum to `parse_text` as a
model answer (`json.dumps(data)`) and holds the parser to one rule: a value the suite calls
invalid is never accepted through a reshape (`unwrap:<key>`, `unwrap:list`, `unwrap_tool_call:`),
whatever the reshape would have made of it. The only accepted invalid values are those the
documented coercions make valid (README: `drop_extra`, `coerce:`, `enum_case`, `wrap_list`...) or
that the validator itself accepts (its own findings are `test_jsts.py`'s business).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

import structbatch as sb

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "jsts" / "tests" / "draft2020-12"
if not SUITE.is_dir():
    pytest.skip(f"JSON Schema Test Suite not found at {SUITE}", allow_module_level=True)

#: files whose schemas need what structbatch never does (remote documents) or cannot (ECMA regexes)
_NOT_RUN = ("refRemote.json", "optional/cross-draft.json", "ecmascript-regex.json")
#: repair kinds (the part before the first `:`) that are reshapes: they change the value's shape
RESHAPES = frozenset({"unwrap", "unwrap_tool_call", "wrap"})


def _kind(repair: str) -> str:
    return repair.split(":", 1)[0]


@functools.cache
def run_text_suite() -> tuple[int, list[str], list[str]]:
    """(tests run, invalid data accepted through a reshape, exceptions)."""
    ran = 0
    faked: list[str] = []
    crashes: list[str] = []
    for path in sorted(SUITE.rglob("*.json")):
        rel = path.relative_to(SUITE).as_posix()
        if rel.endswith(_NOT_RUN):
            continue
        for case in json.loads(path.read_text(encoding="utf-8")):
            try:
                spec = sb.compile(case["schema"])
            except sb.SchemaError:
                continue  # refused up front: test_jsts.py checks that only out-of-scope refs are
            for test in case["tests"]:
                ran += 1
                name = f"{rel}: {case['description']} / {test['description']}"
                try:
                    out = spec.parse_text(json.dumps(test["data"]))
                except Exception as exc:  # parse_text must never raise
                    crashes.append(f"{name}: {exc!r}")
                    continue
                if test["valid"] or not out.ok:
                    continue
                reshaped = [r for r in out.repairs if _kind(r) in RESHAPES]
                # `wrap:<key>` alone is how a wrapped spec reads a bare value: the value itself is
                # what the validator judged, which test_jsts.py holds to the suite
                if reshaped and reshaped != [f"wrap:{spec.wrap}"]:
                    faked.append(f"{name}: {json.dumps(test['data'])[:80]} -> {out.repairs}")
    return ran, faked, crashes


def test_the_whole_suite_runs_through_parse_text() -> None:
    ran, _, crashes = run_text_suite()
    assert ran > 1900
    assert crashes == []


def test_no_reshape_turns_a_suite_invalid_value_valid() -> None:
    _, faked, _ = run_text_suite()
    assert faked == []


def _datum(file: str, case: str, test: str) -> tuple[dict[str, Any], Any]:
    for c in json.loads((SUITE / file).read_text(encoding="utf-8")):
        if c["description"] == case:
            for t in c["tests"]:
                if t["description"] == test:
                    return c["schema"], t["data"]
    raise LookupError((file, case, test))


@pytest.mark.parametrize(
    ("file", "case", "test"),
    [
        # the key is named by dependentSchemas: it is data of the instance, not a wrapper
        ("dependentSchemas.json", "dependencies with escaped characters", "quoted quote"),
        # a map whose key names are constrained: the one entry is data, `{}` is no evidence
        (
            "propertyNames.json",
            "propertyNames validation with pattern",
            "non-matching property name is invalid",
        ),
    ],
)
def test_the_two_unwraps_the_suite_caught_stay_invalid(file: str, case: str, test: str) -> None:
    schema, data = _datum(file, case, test)
    out = sb.parse_text(json.dumps(data), schema)
    assert not out.ok and out.failure is not None
    assert out.failure.kind == sb.FailureKind.INVALID
