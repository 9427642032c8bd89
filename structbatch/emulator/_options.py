"""The `--emulator` options of `structbatch run` / `resume`, and the emulator they describe.

Kept apart from the rest of the package and free of SDK imports at module level, so the CLI can
define its flags without loading the SDK. By default the embedded emulator keeps its state next
to the job file (`JOB.emulator` and `JOB.emulator.d/`), so a run interrupted under `--emulator`
continues with `structbatch resume --emulator JOB.toml` against the same batches.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._emulator import Emulator

DEFAULT_LATENCY = 1.0


def add_emulator_options(parser: argparse.ArgumentParser) -> None:
    """Add `--emulator` and the `--emulator-*` settings to a `run` / `resume` parser."""
    group = parser.add_argument_group("embedded emulator")
    group.add_argument("--emulator", action="store_true", help="run against an embedded emulator (offline)")
    group.add_argument(
        "--emulator-latency",
        type=float,
        default=DEFAULT_LATENCY,
        metavar="SECONDS",
        help=f"seconds until a batch ends (default {DEFAULT_LATENCY:g})",
    )
    group.add_argument(
        "--emulator-faults", default="", metavar="SPEC", help="fault plan, e.g. create:429x2,results:cut"
    )
    group.add_argument(
        "--emulator-rates", default="", metavar="SPEC", help="failure rates, e.g. errored=0.05,expired=0.01"
    )
    group.add_argument("--emulator-seed", type=int, default=0, help="seed for answers and rates (default 0)")
    group.add_argument(
        "--emulator-state",
        metavar="FILE",
        help="keep batches here across runs (default: JOB.emulator next to the job file)",
    )


def state_path(args: argparse.Namespace) -> Path | None:
    """The state file the embedded emulator of this command uses."""
    explicit = getattr(args, "emulator_state", None)
    if explicit:
        return Path(explicit)
    job = getattr(args, "job", None)
    if not job:
        return None
    path = Path(job)
    return path.with_name(f"{path.stem}.emulator")


@contextlib.contextmanager
def embedded_emulator(args: argparse.Namespace) -> Iterator[Emulator]:
    """A started emulator configured by the `--emulator-*` options (ValueError for a bad spec)."""
    from ._emulator import Emulator

    emulator = Emulator(
        latency=getattr(args, "emulator_latency", DEFAULT_LATENCY),
        seed=getattr(args, "emulator_seed", 0),
        faults=getattr(args, "emulator_faults", "") or None,
        rates=getattr(args, "emulator_rates", "") or None,
        state=state_path(args),
    )
    with emulator:
        yield emulator
