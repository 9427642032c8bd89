"""Run an emulator in its own process for benchmarks (so it does not share our GIL).

`python -m benchmarks._serve [--big N]` prints the base URL on stdout, then serves until killed.
`--big N` answers every request with the same invoice of N line items (large results, cheap to
make), for the memory benchmark.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
from typing import Any

from structbatch.emulator import Emulator, Scripted, ScriptedResponder

from ._data import invoice


def _big_responder(items: int) -> ScriptedResponder:
    """Every request answered with the same invoice of `items` line items (the marker "" matches all)."""
    value = invoice(random.Random(1), 1)
    value["line_items"] = [value["line_items"][0]] * items
    return ScriptedResponder(by_marker={"": Scripted.tool(value)})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=0)
    args = ap.parse_args()
    responder: Any = _big_responder(args.big) if args.big else None
    emu = Emulator(responder=responder, latency=0.0).start()
    print(emu.base_url, flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
