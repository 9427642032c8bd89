"""Checks shared by the engine trust tests: a responder whose answer names its prompt, and the
four promises — every key exactly one outcome, the right value for each key, no request
submitted twice, no billed batch left uncollected."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import structbatch as sb
from structbatch._jobtypes import BatchState
from structbatch.emulator import SchemaResponder, Scripted
from structbatch.emulator._responders import apply_script


def prompt_of(params: Mapping[str, Any]) -> str:
    """The text of the first user turn of a request."""
    content = params["messages"][0]["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if isinstance(b, Mapping))


class EchoResponder:
    """Answers every request with a `Person` whose name is its prompt: a value that shows which
    request (of which job) it answers."""

    def __init__(self) -> None:
        self.fallback = SchemaResponder()

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Any:
        text = prompt_of(params)
        return apply_script(Scripted.tool({"name": text, "age": len(text)}), params, custom_id, self.fallback)


def assert_complete(
    emu: Any,
    stores: Iterable[Path],
    expected: Mapping[Path, Mapping[str, str]],
) -> None:
    """Every store's keys have exactly one outcome, each `ok` with name == the expected prompt;
    the emulator saw every custom_id once; every batch it created is collected by a store."""
    collected: set[str] = set()
    submitted = Counter(cid for b in emu.created_batches() for cid in b.custom_ids)
    all_ids: list[str] = []
    for path in stores:
        with sb.Job.open(path, client=emu.client()) as job:
            outs = list(job.outcomes())
            want = expected[path]
            assert sorted(o.key for o in outs) == sorted(want), (path, len(outs), len(want))
            for o in outs:
                assert o.ok, (o.key, o.failure)
                assert o.value is not None and o.value["name"] == want[str(o.key)], (o.key, o.value)
                all_ids.append(str(o.custom_id))
            summary = job.summary()
            assert summary.pending == summary.inflight == 0
            for row in job.store.batches():
                if row.state is BatchState.COLLECTED:
                    assert row.batch_id is not None
                    collected.add(row.batch_id)
    assert emu.duplicate_custom_ids() == {}
    assert set(submitted.values()) <= {1}, [c for c, n in submitted.items() if n > 1][:5]
    assert sorted(submitted) == sorted(all_ids)
    assert {b.id for b in emu.created_batches()} == collected
