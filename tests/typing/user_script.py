"""A user's script as the issue's judge writes one: types must flow with no annotation needed.

Never run, only type-checked: `test_user_code.py` copies it outside the checkout and runs
`mypy --strict` on it against the dev install. `assert_type` fails the check when a type is
wider (`Any`, `Person | None`) or different from the one promised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, assert_type

import anthropic
from anthropic.types import ToolParam
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from pydantic import BaseModel

import structbatch as sb


class Person(BaseModel):
    name: str
    age: int


def spec_and_job_carry_the_model() -> None:
    spec = sb.compile(Person)
    assert_type(spec, sb.Spec[Person])
    job = sb.Job(Person, model="claude-haiku-4-5", store="people.db")
    assert_type(job, sb.Job[Person])
    assert_type(sb.Job(spec, model="claude-haiku-4-5", store="people.db"), sb.Job[Person])


def outcomes_narrow_on_ok(job: sb.Job[Person]) -> list[str]:
    names = []
    for o in job.outcomes():
        if o.ok:
            assert_type(o.value, Person)
            names.append(o.value.name)
        else:
            assert_type(o.failure, sb.Failure)
            assert_type(o.failure.kind, sb.FailureKind)
            print(o.key, o.failure.kind, o.failure.message, dict(o.failure.details))
    return names


def parsing_narrows_too() -> int:
    spec = sb.compile(Person)
    o = spec.parse_text('{"name": "Ada", "age": 36}')
    assert_type(o, sb.Result[Person])
    p = sb.parse_text('{"name": "Ada", "age": 36}', Person)
    assert_type(p, sb.Result[Person])
    if not p.ok:
        return 0
    assert_type(p.value, Person)
    line = spec.parse(b'{"custom_id": "a", "result": {"type": "expired"}}')
    return line.value.age if line.ok else p.value.age


def a_schema_file_gives_dicts(tmp: Path) -> None:
    schema = tmp / "person.json"
    assert_type(sb.compile(schema), sb.Spec[dict[str, Any]])
    assert_type(sb.compile(str(schema)), sb.Spec[dict[str, Any]])
    assert_type(sb.compile({"type": "object"}), sb.Spec[dict[str, Any]])
    job = sb.Job(str(schema), model="claude-haiku-4-5", store="people.db")
    assert_type(job, sb.Job[dict[str, Any]])
    assert_type(sb.Job(schema, model="claude-haiku-4-5", store="people.db"), sb.Job[dict[str, Any]])
    for o in job.outcomes():
        if o.ok:
            assert_type(o.value, dict[str, Any])
    d = sb.parse_text("{}", {"type": "object"})
    assert_type(d, sb.Result[dict[str, Any]])


def reopening_keeps_the_type(store: Path) -> None:
    """`Job.open` carries the spec like `Job(...)`; without one the stored schema decides: Any."""
    job = sb.Job.open(store, spec=Person)
    assert_type(job, sb.Job[Person])
    assert_type(sb.Job.open(store, spec=sb.compile(Person)), sb.Job[Person])
    assert_type(sb.Job.open(str(store), spec="person.json"), sb.Job[dict[str, Any]])
    assert_type(sb.Job.open(store, spec={"type": "object"}), sb.Job[dict[str, Any]])
    assert_type(sb.Job.open(store), sb.Job[Any])
    with sb.Job.open(store, spec=Person, client=None) as reopened:
        assert_type(reopened, sb.Job[Person])
        for o in reopened.outcomes(failed=True):
            print(o.failure.kind if not o.ok else o.value.name)
    assert_type(job.plan(), sb.Plan)
    assert_type(job.batches(), list[sb.BatchInfo])


def route(o: sb.Result[Person]) -> str:
    """A user's own function over one outcome, annotated with the narrowing type."""
    if o.ok:
        return o.value.name
    return o.failure.kind.value


def route_any(o: sb.Outcome[Person]) -> str:
    """The runtime class as an annotation does not narrow; `narrow()` gives the union back."""
    n = o.narrow()
    return n.value.name if n.ok else n.failure.message


def params_go_to_the_sdk_unchanged(client: anthropic.Anthropic) -> None:
    spec = sb.compile(Person)
    params = spec.params("Extract the person: Ada, 36.", model="claude-haiku-4-5", max_tokens=256)
    assert_type(params, MessageCreateParamsNonStreaming)
    tool: ToolParam = spec.tool
    client.messages.create(**params)
    client.messages.batches.create(requests=[{"custom_id": "ada", "params": params}])
    print(tool["name"])


def outcomes_a_user_builds_in_tests() -> None:
    good = sb.Outcome.success(Person(name="Ada", age=36), key="a")
    bad = sb.Outcome[Person].fail(sb.FailureKind.TRUNCATED, "cut at max_tokens", key="b")
    assert route(good) == "Ada" and route(bad) == "truncated"
    assert isinstance(good, sb.Outcome) and isinstance(good, sb.Success)
    print(good.as_dict(), bad.replace(attempts=2).as_dict())
