"""How to test your own extraction pipeline with structbatch's strategies and pytest plugin.

Run it with plain pytest (the plugin comes with `pip install 'structbatch[testing]'`):

    pytest examples/test_my_pipeline.py

"Your pipeline" below is three small functions any project has in some form: the prompt and
request params (`build_request`), what you do with each outcome (`route`), and the post-processing
of a good value (`to_row`). The tests never call Claude: the strategies produce what Claude and
the batch API really send (good answers in every style, and every way an answer goes wrong), and
the plugin's emulator carries them through the real `anthropic` SDK over HTTP.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from models import Recipe  # examples/models.py

import structbatch as sb
from structbatch.testing import strategies as sbst

if TYPE_CHECKING:
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

SPEC = sb.compile(Recipe)
MODEL = "claude-haiku-4-5"

# ---- your pipeline ------------------------------------------------------------------------------


def build_request(document: str, *, mode: sb.Mode = sb.Mode.AUTO) -> MessageCreateParamsNonStreaming:
    """Your prompt: the system instructions and the document, as Messages API params."""
    return SPEC.params(
        [
            {
                "role": "user",
                "content": f"Extract the recipe from this text.\n\n<document>\n{document}\n</document>",
            }
        ],
        model=MODEL,
        max_tokens=2048,
        mode=mode,
        system="You extract recipes. Quantities are numbers; keep units as written.",
    )


RETRY = {sb.FailureKind.TRUNCATED, sb.FailureKind.API_ERROR, sb.FailureKind.EXPIRED}
REVIEW = {sb.FailureKind.INVALID, sb.FailureKind.AMBIGUOUS, sb.FailureKind.NO_JSON, sb.FailureKind.WRONG_TOOL}


def route(outcome: sb.Outcome[Recipe]) -> str:
    """Where an outcome goes: your database, a retry queue, human review, or the bin."""
    if outcome.ok:
        return "store"
    if outcome.kind in RETRY:
        return "retry"
    if outcome.kind in REVIEW:
        return "review"
    return "drop"  # refusal, canceled, ...


def to_row(recipe: Recipe) -> dict[str, Any]:
    """Your post-processing of a good value."""
    return {
        "title": recipe.title,
        "n_ingredients": len(recipe.ingredients),
        "minutes": recipe.cook_time_minutes,
        "ingredients": json.dumps([i.name for i in recipe.ingredients], ensure_ascii=False),
    }


# ---- the tests ----------------------------------------------------------------------------------


@given(sbst.instances(Recipe))
def test_post_processing_takes_any_valid_recipe(recipe: Recipe) -> None:
    row = to_row(recipe)
    assert row["n_ingredients"] >= 1
    assert json.loads(row["ingredients"]) == [i.name for i in recipe.ingredients]


@given(sbst.model_outputs(SPEC))
def test_every_good_answer_is_stored(pair: sbst.ModelOutput) -> None:
    sent, recipe = pair
    outcome = sent.parse(SPEC)
    assert route(outcome) == "store", (sent.text, outcome.failure)
    assert outcome.value == recipe


@given(sbst.broken_outputs(SPEC))
def test_no_broken_answer_is_ever_stored(pair: sbst.BrokenOutput) -> None:
    sent, kind = pair
    outcome = sent.parse(SPEC)
    assert outcome.kind == kind
    assert route(outcome) != "store"


@given(sbst.result_lines(SPEC))
def test_batch_results_are_routed(rl: sbst.ResultLine) -> None:
    outcome = SPEC.parse(json.dumps(rl.line))  # a raw JSONL line, as read from the results file
    assert outcome.custom_id == rl.line["custom_id"]
    assert outcome.kind == rl.kind
    assert route(outcome) == ("store" if rl.kind is None else route(sb.Outcome.fail(rl.kind, "x")))


# Your prompt and params code, through the real SDK and an HTTP server, with answers a strategy
# drew. `structbatch_replay` is session-scoped, so it is safe inside @given.
@settings(max_examples=25)
@given(
    document=st.text(min_size=1, max_size=300).filter(str.strip),
    pair=sbst.model_outputs(SPEC, styles=["tool_use"]),
)
def test_my_requests_and_the_answers_round_trip(
    structbatch_replay: Any, document: str, pair: sbst.ModelOutput
) -> None:
    sent, recipe = pair
    client = structbatch_replay(sent)
    message = client.messages.create(**build_request(document))
    assert SPEC.parse(message).value == recipe


@pytest.mark.parametrize("mode", [sb.Mode.TOOL, sb.Mode.JSON_SCHEMA, sb.Mode.PREFILL, sb.Mode.PROMPT])
def test_every_mode_works_against_the_emulator(structbatch_client: Any, mode: sb.Mode) -> None:
    message = structbatch_client.messages.create(**build_request("Pancakes: 200 g flour, 2 eggs.", mode=mode))
    outcome = SPEC.parse(message, prefill="{" if mode is sb.Mode.PREFILL else None)
    assert route(outcome) == "store", outcome.failure


@settings(max_examples=10)
@given(sbst.batch_requests(SPEC, max_size=5, max_bytes=200_000))
def test_my_batches_are_accepted(structbatch_session_emulator: Any, requests: list[dict[str, Any]]) -> None:
    client = structbatch_session_emulator.client(max_retries=0)
    batch = client.messages.batches.create(requests=requests)  # type: ignore[arg-type,unused-ignore]
    assert batch.request_counts.processing == len(requests)


def test_a_whole_job(structbatch_job: Any) -> None:
    """The plugin's job factory: a real Job on a temporary store, against the emulator."""
    job = structbatch_job(SPEC, model=MODEL)
    for i, doc in enumerate(["Pancakes: flour, eggs, milk.", "Toast: bread. Toast it."]):
        job.add(f"doc-{i}", messages=[{"role": "user", "content": doc}])
    job.run()
    outcomes = list(job.outcomes())
    assert len(outcomes) == 2 and all(route(o) == "store" for o in outcomes)
