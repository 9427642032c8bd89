"""The official JSON Schema Test Suite (draft 2020-12), every file, against compiled specs.

The suite lives beside the repository in `../shared/jsts/` (a copy of
json-schema-org/JSON-Schema-Test-Suite `tests/draft2020-12/`); without it this module is skipped.
Each case's schema is compiled with `sb.compile` (no option: non-object roots are wrapped) and
each test's data validated as the tool input (`{wrap: data}` for wrapped specs).

What is out of scope, and why, is listed below (`OUT_OF_SCOPE`, `_out_of_scope`) and in the
README; everything else must agree with the suite: at least 99% overall, no false accept except
through a reported lossless coercion, no exception, no refusal of a schema whose refs are local,
and every compiled tool's `input_schema` typed `object` at the root. The fast validator is held
to the reference: it never vouches for a value the suite says is invalid.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import structbatch as sb

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "jsts" / "tests" / "draft2020-12"
if not SUITE.is_dir():
    pytest.skip(
        f"JSON Schema Test Suite not found at {SUITE} (expected ../shared/jsts beside the repository)",
        allow_module_level=True,
    )

_PYTHON_RE = "patterns run with Python's `re` (as jsonschema does), not ECMA 262 regexes"
_NOT_ASSERTED = "no checker for this format is installed, so it is not asserted (README: formats)"
_LENIENT = "jsonschema's own check of this format is more lenient than the suite"
#: files not run at all
OUT_OF_SCOPE: dict[str, str] = {
    "refRemote.json": "remote refs: nothing in a schema is ever fetched",
    "optional/cross-draft.json": "refs to other drafts' documents at remote URLs",
    "optional/ecmascript-regex.json": _PYTHON_RE,
    "optional/format/ecmascript-regex.json": _PYTHON_RE,
}
#: files run in full, where one direction of disagreement is expected: "accept" (the suite says
#: invalid, structbatch accepts) or "reject" (the other way); the other direction must agree
ONE_SIDED: dict[str, tuple[str, str]] = {
    "vocabulary.json": ("reject", "`$vocabulary` is ignored, as jsonschema ignores it"),
    "optional/dependencies-compatibility.json": (
        "accept",
        "draft-7 `dependencies` is no 2020-12 keyword (jsonschema ignores it)",
    ),
    "optional/format/iri.json": ("accept", _NOT_ASSERTED),
    "optional/format/iri-reference.json": ("accept", _NOT_ASSERTED),
    "optional/format/json-pointer.json": ("accept", _NOT_ASSERTED),
    "optional/format/relative-json-pointer.json": ("accept", _NOT_ASSERTED),
    "optional/format/uri.json": ("accept", _NOT_ASSERTED),
    "optional/format/uri-reference.json": ("accept", _NOT_ASSERTED),
    "optional/format/uri-template.json": ("accept", _NOT_ASSERTED),
    "optional/format/email.json": ("accept", _LENIENT),
    "optional/format/idn-hostname.json": ("accept", _LENIENT),
    "optional/format/uuid.json": ("accept", _LENIENT),
}


def _out_of_scope(test: dict[str, Any]) -> str | None:
    """Single tests of in-scope files whose expectation structbatch deliberately does not share."""
    if "only an annotation by default" in test["description"]:
        return "structbatch asserts `format` (README), where 2020-12 makes it an annotation by default"
    return None


@dataclass
class Results:
    files: int = 0
    cases: int = 0
    agree: int = 0
    checked: int = 0
    core_checked: int = 0
    core_agree: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    false_accepts: list[str] = field(default_factory=list)
    coerced_accepts: list[str] = field(default_factory=list)
    false_rejects: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    untyped_tools: list[str] = field(default_factory=list)
    fast_false_accepts: list[str] = field(default_factory=list)
    text_false_accepts: list[str] = field(default_factory=list)


def _skip(results: Results, reason: str, n: int) -> None:
    results.skipped[reason] = results.skipped.get(reason, 0) + n


@functools.cache
def run_suite() -> Results:
    results = Results()
    for path in sorted(SUITE.rglob("*.json")):
        rel = path.relative_to(SUITE).as_posix()
        results.files += 1
        for case in json.loads(path.read_text(encoding="utf-8")):
            results.cases += 1
            if rel in OUT_OF_SCOPE:
                _skip(results, OUT_OF_SCOPE[rel], len(case["tests"]))
                continue
            _run_case(results, rel, case)
    return results


def _run_case(results: Results, rel: str, case: dict[str, Any]) -> None:
    where = f"{rel}: {case['description']}"
    try:
        spec = sb.compile(case["schema"])
    except sb.SchemaError as exc:
        message = str(exc)
        if "points outside the document" in message and "$ref '#" not in message:
            _skip(results, "refs to documents outside the schema (the metaschema, URLs)", len(case["tests"]))
        elif "is not a 'regex'" in message:
            _skip(results, _PYTHON_RE, len(case["tests"]))
        else:
            results.refused.append(f"{where}: {message}")
        return
    except Exception as exc:  # the suite is judging exactly this: a crash is a finding
        results.crashes.append(f"{where}: compile: {exc!r}")
        return
    if spec.tool["input_schema"].get("type") != "object":
        results.untyped_tools.append(where)
    validator = spec._json_validator
    assert validator is not None
    for test in case["tests"]:
        reason = _out_of_scope(test)
        if reason:
            _skip(results, reason, 1)
            continue
        name = f"{where} / {test['description']}"
        data, valid = test["data"], test["valid"]
        obj = {spec.wrap: data} if spec.wrap else data
        try:
            check = spec.validate(obj)
            fast = validator.fast_ok(obj)
            text = spec.parse_text(json.dumps(data))
        except Exception as exc:  # validate and parse_text must never raise
            results.crashes.append(f"{name}: {exc!r}")
            continue
        strict_ok = check.ok and not check.coercions
        side = ONE_SIDED.get(rel)
        if side is not None and strict_ok != valid and side[0] == ("accept" if strict_ok else "reject"):
            _skip(results, side[1], 1)
            continue
        results.checked += 1
        core = not rel.startswith("optional/")
        results.core_checked += core
        if strict_ok == valid:
            results.agree += 1
            results.core_agree += core
        elif strict_ok:
            results.false_accepts.append(name)
        else:
            results.false_rejects.append(name)
        if check.ok and check.coercions and not valid:
            results.coerced_accepts.append(f"{name}: {check.coercions}")
        if fast and not valid:
            results.fast_false_accepts.append(name)
        wrapped_only = set(text.repairs) <= {f"wrap:{spec.wrap}"}
        if text.ok and wrapped_only and not valid:
            results.text_false_accepts.append(name)


def test_every_draft_2020_12_file_is_run() -> None:
    results = run_suite()
    assert results.files >= 60 and results.checked > 1500, results
    print(
        f"\nJSTS draft 2020-12: {results.files} files, {results.cases} cases, {results.checked} tests checked, "
        f"{results.agree / results.checked:.2%} agree (core, without optional/: {results.core_agree} of "
        f"{results.core_checked}); skipped {sum(results.skipped.values())}: {results.skipped}"
    )


def test_agreement_is_at_least_99_percent() -> None:
    results = run_suite()
    assert results.agree / results.checked >= 0.99, (results.false_rejects, results.false_accepts)


def test_no_false_accept_except_through_a_reported_coercion() -> None:
    results = run_suite()
    assert results.false_accepts == []
    assert results.text_false_accepts == []


def test_the_fast_check_never_vouches_for_an_invalid_value() -> None:
    assert run_suite().fast_false_accepts == []


def test_no_crash_and_no_refusal_of_a_schema_with_local_refs() -> None:
    results = run_suite()
    assert results.crashes == []
    assert results.refused == []


def test_every_tool_root_is_typed_object() -> None:
    assert run_suite().untyped_tools == []
