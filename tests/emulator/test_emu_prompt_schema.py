"""Schema-following whatever the channel, and answers that keep the original constraints."""

from __future__ import annotations

import json
import random
import re
from typing import Annotated, Any

import anthropic
import jsonschema
import pytest
from anthropic.lib._parse._transform import transform_schema
from emulator_helpers import RECIPE_SCHEMA, params
from pydantic import BaseModel, Field

from structbatch.emulator import SchemaResponder, example_value
from structbatch.emulator._constraints import described, pattern_string
from structbatch.emulator._prompt_schema import find_schema, schema_score

PRETTY = json.dumps(RECIPE_SCHEMA, indent=2)
COMPACT = json.dumps(RECIPE_SCHEMA, separators=(",", ":"))
EXAMPLE = '{"title": "Pancakes", "servings": 4, "ingredients": []}'
CHANNELS = {
    "instructor wording, pretty": {
        "system": "As a genius expert, your task is to understand the content and provide the parsed "
        f"objects in json that match the following json_schema:\n\n{PRETTY}\n\nMake sure to return an "
        "instance of the JSON, not the schema itself"
    },
    "prompted output wording, compact": {
        "system": f"Always respond with a JSON object that's compatible with this schema:\n\n{COMPACT}\n\n"
        "Don't include any text or Markdown fencing before or after."
    },
    "fenced without a language": {"system": f"Schema:\n```\n{PRETTY}\n```"},
    "in the user turn": {
        "messages": [{"role": "user", "content": f"Extract the recipe as {COMPACT}. Text: ..."}]
    },
    "user turn blocks": {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": f"Return JSON for <s>{PRETTY}</s>"}]}
        ]
    },
    "an example next to the schema": {
        "system": f'Example answer: {EXAMPLE}\nConfig: {{"temperature": 0}}\nThe schema is {COMPACT}.'
    },
}


def _text(reply: Any) -> str:
    return str(reply["content"][0]["text"])


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_a_schema_anywhere_in_the_prompt_is_followed_with_bare_json(channel: str) -> None:
    body = {**params(), **CHANNELS[channel]}
    for key in ("a", "b", "c"):
        text = _text(SchemaResponder().respond(body, custom_id=key))
        value = json.loads(text)  # bare JSON: no preamble, no fence
        jsonschema.validate(value, RECIPE_SCHEMA)


def test_the_most_schema_like_candidate_wins() -> None:
    found = find_schema({"system": f'{EXAMPLE} and {{"type": "person"}} and {COMPACT}', "messages": []})
    assert found is not None and found.schema == RECIPE_SCHEMA and not found.fenced_in_system
    assert schema_score({"type": "person", "properties": {}}) == 0
    assert schema_score(json.loads(EXAMPLE)) == 0
    assert find_schema({"system": 'Be brief. {not json} {"a": 1}', "messages": []}) is None


def test_structbatch_fenced_system_prompt_keeps_its_style_mix() -> None:
    found = find_schema({"system": f"Answer with JSON:\n```json\n{PRETTY}\n```", "messages": []})
    assert found is not None and found.fenced_in_system


class Scored(BaseModel):
    label: Annotated[str, Field(max_length=12, description="The label")]
    score: Annotated[float, Field(ge=0, le=1)]
    count: Annotated[int, Field(gt=0, lt=10)]
    code: Annotated[str, Field(pattern=r"^[A-Z]{3}-\d{4}$")]
    tags: Annotated[list[str], Field(min_length=3, max_length=5)]
    ratio: Annotated[float, Field(multiple_of=0.25, ge=0, le=10)]


def test_constraints_moved_into_descriptions_by_the_sdk_still_bind() -> None:
    original = Scored.model_json_schema()
    transformed = transform_schema(Scored)
    assert "minimum" not in transformed["properties"]["score"]  # only in its description
    for seed in range(200):
        value = example_value(transformed, str(seed))
        jsonschema.validate(value, original)  # the ORIGINAL schema, bounds and all
        Scored.model_validate(value)


def test_constraints_in_structbatch_subset_descriptions_bind() -> None:
    from structbatch import compile

    original = Scored.model_json_schema()
    subset = compile(Scored).api_subset.schema
    assert "maximum" not in json.dumps(subset).replace('\\"maximum\\"', "")
    for seed in range(100):
        jsonschema.validate(example_value(subset, str(seed)), original)


def test_output_config_answers_follow_the_original_constraints(client: anthropic.Anthropic) -> None:
    body = params(output_config={"format": {"type": "json_schema", "schema": transform_schema(Scored)}})
    for i in range(20):
        body["messages"][0]["content"] = f"Score item {i}."
        Scored.model_validate_json(client.messages.create(**body).content[0].text)  # type: ignore[union-attr]


def test_described_reads_both_description_styles() -> None:
    sdk = {"type": "number", "description": "A score\n\n{minimum: 0, maximum: 1.5, multipleOf: 0.5}"}
    assert described(sdk) | {} == {**sdk, "minimum": 0, "maximum": 1.5, "multipleOf": 0.5}
    ours = {"type": "array", "description": 'Items\n{"minItems": 3}'}
    assert described(ours)["minItems"] == 3
    pattern = {"type": "string", "description": "{pattern: ^[a-z]{2}, [0-9]$, maxLength: 9}"}
    assert described(pattern)["pattern"] == "^[a-z]{2}, [0-9]$" and described(pattern)["maxLength"] == 9
    explicit = {"type": "integer", "maximum": 3, "description": "{maximum: 10}"}
    assert described(explicit)["maximum"] == 3


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[A-Z]{3}-\d{4}$",
        r"^\w+@\w+\.com$",
        r"^(foo|bar)+$",
        r"^[^a-z]{2,5}$",
        r"^\d{5}(-\d{4})?$",
        r"^#[0-9a-f]{6}$",
    ],
)
def test_strings_for_simple_patterns(pattern: str) -> None:
    rng = random.Random(0)
    for _ in range(50):
        text = pattern_string(pattern, rng)
        assert text is not None and re.search(pattern, text)


def test_unsupported_pattern_falls_back_to_a_word() -> None:
    assert pattern_string(r"(a)\1", random.Random(0)) is None
