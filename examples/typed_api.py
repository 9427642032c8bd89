"""The typed Python API: a Pydantic model in, typed `Recipe` objects out.

Runs offline against an embedded emulator; `--real` uses ANTHROPIC_API_KEY instead.
    python examples/typed_api.py
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import structbatch as sb
from structbatch.emulator import Emulator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from models import Recipe

if TYPE_CHECKING:
    import anthropic


def main(client: anthropic.Anthropic | None = None) -> None:
    with open(Path(__file__).parent / "data" / "recipes.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, 12)]
    poll = sb.PollPolicy(initial=0.2, maximum=1.0)
    with sb.Job(Recipe, model="claude-haiku-4-5", store=":memory:", client=client, poll=poll) as job:
        job.add_many((row["id"], f"Extract the recipe:\n\n{row['text']}") for row in rows)
        print(job.run())
        for outcome in job.outcomes():
            if outcome.ok:  # outcome.value is a Recipe instance
                print(f"{outcome.key}: {outcome.value.title!r}, {len(outcome.value.ingredients)} ingredients")
            else:
                print(f"{outcome.key}: {outcome.failure.kind} - {outcome.failure.message}")


if __name__ == "__main__":
    if "--real" in sys.argv:
        main()
    else:
        with Emulator(latency=0.5) as emu:
            main(emu.client())
