"""A job driver in its own process, for the lease and concurrency tests.

usage: python driver_child.py STORE BASE_URL N_KEYS run|resume [wait] [PREFIX]

`run` creates the job (Person, haiku 4.5, batches of N/3), adds N keys whose prompt is
`PREFIX text i` and runs it; `resume` reopens the store (waiting up to 20 s for it to be
configured) and runs it. Prints `done <ok count>`; exits 5 on `JobBusyError`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import anthropic
from jobsupport import FAST_POLL, FAST_RETRY, Person

import structbatch as sb


def main() -> int:
    store, base_url, n, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    wait = len(sys.argv) > 5 and sys.argv[5] == "wait"
    prefix = sys.argv[6] if len(sys.argv) > 6 else "job"
    client = anthropic.Anthropic(api_key="sk-emu-test0000", base_url=base_url)
    try:
        if how == "run":
            job = sb.Job(
                Person,
                model="claude-haiku-4-5",
                store=store,
                client=client,
                poll=FAST_POLL,
                retry=FAST_RETRY,
                limits=sb.Limits(max_requests=max(n // 3, 1)),
                wait=wait,
            )
            job.add_many((f"key {i}", f"{prefix} text {i}") for i in range(n))
        else:
            deadline = time.monotonic() + 20
            while True:
                try:
                    job = sb.Job.open(store, client=client, poll=FAST_POLL, retry=FAST_RETRY, wait=wait)
                    break
                except sb.StoreError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        print("started", flush=True)
        summary = job.run()
    except sb.JobBusyError as exc:
        print(f"busy {exc}", flush=True)
        return 5
    print(f"done {summary.ok}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
