"""Run an emulator in its own process for benchmarks (so it does not share our GIL).

`python -m benchmarks._serve [--big N]` prints the base URL on stdout, then serves until killed.
`--big N` answers every request with the same invoice of N line items (large results, cheap to
make), for the memory benchmark; `--rates SPEC` makes a seeded fraction of answers fail (see
`structbatch.emulator.Rates.parse`). `Server` starts one from a benchmark and reads its peak RSS.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from structbatch.emulator import Emulator, EmulatorConfig, Scripted, ScriptedResponder

from ._data import invoice

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's own peak resident set (VmHWM), in MiB.

    Not `ru_maxrss`: Linux carries it over from the parent across fork + exec, so a child would
    report the benchmark driver's peak instead of its own.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


class Server:
    """The emulator in a child process (`python -m benchmarks._serve`), killed on exit.

    Its spilled requests and results (gigabytes at a million inputs) live in a folder this side
    owns and deletes after the kill, which gives the emulator no chance to clean up itself.
    """

    def __init__(self, *args: str) -> None:
        self.workdir = tempfile.mkdtemp(prefix="structbatch-bench-emu-")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._serve", "--workdir", self.workdir, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.__exit__()
            raise RuntimeError(f"emulator did not start: {self.url!r}")

    def peak_rss_mb(self) -> float:
        """The emulator process's peak RSS so far (call before leaving the `with` block)."""
        return peak_rss_mb(self.proc.pid)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _big_responder(items: int) -> ScriptedResponder:
    """Every request answered with the same invoice of `items` line items (the marker "" matches all)."""
    value = invoice(random.Random(1), 1)
    value["line_items"] = [value["line_items"][0]] * items
    return ScriptedResponder(by_marker={"": Scripted.tool(value)})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=0)
    ap.add_argument("--rates", default=None)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    responder: Any = _big_responder(args.big) if args.big else None
    config = EmulatorConfig(workdir=args.workdir)
    emu = Emulator(config, responder=responder, latency=0.0, rates=args.rates).start()
    print(emu.base_url, flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
