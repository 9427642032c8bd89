"""A job run in a child process, to be killed (`kill -9`, or `os._exit(9)` at a chosen point).

usage: python crash_child.py STORE BASE_URL N_KEYS [die_after_intent|die_before_mark_created|none]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import anthropic
from jobsupport import FAST_POLL, FAST_RETRY, Person

import structbatch as sb
from structbatch import _store


def main() -> None:
    store, base_url, n, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if how == "die_after_intent":
        real_intent = _store.Store.record_intent

        def intent_then_die(self: Any, *args: Any, **kwargs: Any) -> int:
            real_intent(self, *args, **kwargs)
            os._exit(9)

        _store.Store.record_intent = intent_then_die  # type: ignore[method-assign]
    elif how == "die_before_mark_created":
        # the batch exists at the API, but the store never hears of its id
        def die(self: Any, *args: Any, **kwargs: Any) -> None:
            os._exit(9)

        _store.Store.mark_created = die  # type: ignore[method-assign]
    client = anthropic.Anthropic(api_key="sk-emu-test0000", base_url=base_url, max_retries=0)
    job = sb.Job(
        Person,
        model="claude-haiku-4-5",
        store=store,
        client=client,
        poll=FAST_POLL,
        retry=FAST_RETRY,
        limits=sb.Limits(max_requests=max(n // 3, 1)),
    )
    job.add_many((f"key {i}", f"text number {i} " * 4) for i in range(n))
    print("added", flush=True)
    job.run()
    print("done", flush=True)


if __name__ == "__main__":
    main()
