"""`structbatch demo`: the example jobs against an embedded emulator with a planned mix of faults.

Two job files from `examples/jobs/` (shipped in the package as `demo_data/`: recipes in PROMPT
mode, so answers arrive as messy text; invoices in TOOL mode) run one after the other against an
in-process emulator. The emulator's natural answers are schema-valid JSON in a seeded mix of
styles (bare, "Here's the ...:" preamble, ```json fences, <json> tags); a few keys are scripted
to go wrong the ways real batches do. The plan below says what each scripted key should end as, and the demo checks the final
counts against it (exit 3 if they differ), so a broken `make demo` fails CI.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson

from ._batching import custom_id_for, without_job_salt
from ._job import PollPolicy, RetryPolicy, Summary
from ._jobfile import load_jobfile
from ._modes import Mode
from ._outcome import Outcome
from ._output import atomic_writer, format_failures, write_outputs
from ._progress import ProgressDisplay
from .emulator import Emulator, Responder, SchemaResponder, Scripted, ScriptedResponder

#: One step per attempt of a key; None is the emulator's natural (valid) answer. The last step
#: repeats for later attempts.
Steps = Sequence[Scripted | None]


@dataclass(frozen=True)
class DemoJob:
    """One job of the demo: which job file, in which mode, and what goes wrong for which key."""

    name: str
    mode: Mode
    plan: Mapping[str, Steps]
    expected: Mapping[str, int]  # final outcome counts: "ok" and failure kinds


LONG_RECIPE = (
    "the one with the really long story before the recipe, as every food blog requires by law apparently"
)

DEMO_JOBS: tuple[DemoJob, ...] = (
    DemoJob(
        "recipes",
        Mode.PROMPT,
        {
            "r007-spaghetti-carbonara": [Scripted.expired(), None],  # resubmitted, then ok
            "r013-fruit-scones": [Scripted.errored("overloaded_error"), None],  # resubmitted, then ok
            "r021-pad-kra-pao": [
                Scripted.errored("invalid_request_error", "messages.0.content.0.text: input is malformed")
            ],
            "r030-cacio-e-pepe": [Scripted.invalid(), None],  # re-asked with the errors, then ok
            "r044-pierogi-ruskie": [Scripted.invalid()],  # still invalid after the re-ask
            LONG_RECIPE: [Scripted.truncated()],
            "blank-card": [  # nothing to extract: the model declines in prose
                Scripted.text(
                    "I'm sorry, but there is no recipe here: the card only says it was blank on this side."
                )
            ],
            "0007": [  # prose instead of JSON, twice (the re-ask does not help)
                Scripted.text(
                    "Recipe 0007 is a simple toast: toast two slices of bread, butter them while hot, "
                    "and serve at once."
                )
            ],
        },
        {"ok": 84, "api_error": 1, "invalid": 1, "truncated": 1, "refusal": 1, "no_json": 1},
    ),
    DemoJob(
        "invoices",
        Mode.TOOL,
        {
            "inv-017": [Scripted.errored("overloaded_error"), None],
            "inv-031": [Scripted.expired(), None],
            "inv-042": [Scripted.invalid(), None],
            "smudged": [Scripted.invalid()],
            "scan 2024-03-05 (2)": [Scripted.truncated()],  # 40+ line items: the answer hits max_tokens
        },
        {"ok": 53, "invalid": 1, "truncated": 1},
    ),
)


class PlannedResponder:
    """Answers per plan (by custom_id, one step per attempt), else naturally; counts text styles."""

    def __init__(self, plan: Mapping[str, Steps], fallback: Responder) -> None:
        self.plan = dict(plan)
        self.fallback = fallback
        self.calls: Counter[str] = Counter()
        self.styles: Counter[str] = Counter()
        self._lock = threading.Lock()

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Any:
        if custom_id is not None:  # plans (and seeded answers) are by the id without the job's salt
            custom_id = without_job_salt(custom_id)
        steps = self.plan.get(custom_id or "")
        step: Scripted | None = None
        if steps:
            with self._lock:
                n = self.calls[custom_id or ""]
                self.calls[custom_id or ""] += 1
            step = steps[min(n, len(steps) - 1)]
        if step is None:
            reply = self.fallback.respond(params, custom_id=custom_id)
            self._count_style(reply)
            return reply
        return ScriptedResponder({custom_id or "": step}, fallback=self.fallback).respond(
            params, custom_id=custom_id
        )

    def _count_style(self, reply: Any) -> None:
        if not isinstance(reply, Mapping):
            return
        for block in reply.get("content", []):
            if block.get("type") == "tool_use":
                style = "tool_use block"
            elif block.get("type") == "text":
                text = str(block.get("text", "")).lstrip()
                style = (
                    "```json fence"
                    if text.startswith("```")
                    else "<json> tags"
                    if text.startswith("<json>")
                    else "bare JSON"
                    if text.startswith(("{", "["))
                    else "prose preamble"
                )
            else:
                continue
            with self._lock:
                self.styles[style] += 1


@dataclass
class JobReport:
    name: str
    summary: Summary
    expected: Mapping[str, int]
    outputs: Mapping[str, str]
    failures: list[Outcome[Any]] = field(default_factory=list)
    recovered: list[Outcome[Any]] = field(default_factory=list)

    @property
    def as_planned(self) -> bool:
        return dict(self.summary.counts) == dict(self.expected) and not (
            self.summary.pending or self.summary.inflight
        )


@dataclass
class DemoResult:
    jobs: list[JobReport]
    styles: Mapping[str, int]
    seconds: float

    @property
    def as_planned(self) -> bool:
        return all(j.as_planned for j in self.jobs)

    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for j in self.jobs:
            total.update(j.summary.counts)
        return dict(total)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_planned": self.as_planned,
            "seconds": round(self.seconds, 2),
            "counts": self.counts(),
            "answer_styles": dict(self.styles),
            "jobs": {
                j.name: {
                    "summary": j.summary.as_dict(),
                    "expected": dict(j.expected),
                    "as_planned": j.as_planned,
                    "outputs": dict(j.outputs),
                    "failures": {str(o.key): o.kind.value if o.kind else None for o in j.failures},
                    "recovered": {str(o.key): o.attempts for o in j.recovered},
                }
                for j in self.jobs
            },
        }


#: The demo's jobs, inputs and schemas, shipped as package data (a copy of the repository's
#: `examples/` files in the same layout; see demo_data/README.md), so the demo runs from an
#: installed wheel in any directory.
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def examples_root() -> Path:
    """The demo's `examples/` folder (jobs and data) inside the installed package."""
    root = DEMO_DATA / "examples"
    if not ((root / "jobs").is_dir() and (root / "data").is_dir()):
        raise FileNotFoundError(
            f"{root}: the demo's data is missing from this installation (reinstall structbatch)"
        )
    return root


@contextlib.contextmanager
def _importable(path: Path) -> Iterator[None]:
    # The recipes job names its schema as `examples.models:Recipe`, importable from the
    # repository root; the demo may run from elsewhere (tests), so it puts the root on the path.
    entry = str(path)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)


def run_demo(
    out_dir: Path,
    *,
    out: TextIO,
    err: TextIO,
    json_output: bool = False,
    quiet: bool = False,
    seed: int = 0,
    latency: float = 1.0,
) -> DemoResult:
    """Run the demo jobs, write their outputs under `out_dir`, print the report; see the module."""
    started = time.monotonic()
    root = examples_root()
    plan: dict[str, Steps] = {}
    for job in DEMO_JOBS:
        plan.update({custom_id_for(k): steps for k, steps in job.plan.items()})
    responder = PlannedResponder(plan, SchemaResponder(seed=seed))
    reports: list[JobReport] = []
    if out_dir.exists():
        shutil.rmtree(out_dir)  # the demo always starts fresh, never resumes an old store
    with Emulator(latency=latency, seed=seed) as emu, _importable(root.parent):
        emu.responder = responder
        print(
            f"structbatch demo: embedded emulator at {emu.base_url} (seed {seed}); outputs in {out_dir}/",
            file=err,
        )
        for demo in DEMO_JOBS:
            reports.append(_run_one(demo, root, out_dir, emu, err, quiet))
    result = DemoResult(reports, dict(responder.styles), time.monotonic() - started)
    with atomic_writer(out_dir / "summary.json") as fh:
        fh.write(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    if json_output:
        out.write(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write(report_text(result, out_dir) + "\n")
    out.flush()
    return result


def _run_one(demo: DemoJob, root: Path, out_dir: Path, emu: Emulator, err: TextIO, quiet: bool) -> JobReport:
    job_dir = (out_dir / demo.name).resolve()
    cfg = load_jobfile(
        root / "jobs" / f"{demo.name}.toml",
        overrides={
            "mode": demo.mode.value,
            "store": str(job_dir / "job.db"),
            "output": {
                "results": str(job_dir / "results.jsonl"),
                "failures": str(job_dir / "failures.jsonl"),
                "summary": str(job_dir / "summary.json"),
            },
        },
    )
    cfg.check_inputs()
    display = None if quiet else ProgressDisplay(err, label=f"{demo.name:<8}")
    job = cfg.job(
        emu.client(),
        poll=PollPolicy(initial=0.1, factor=1.5, maximum=0.5),
        retry=RetryPolicy(initial=0.05, maximum=0.5),
        on_progress=display,
    )
    try:
        job.add_many(cfg.items())
        job.run()
    finally:
        if display is not None:
            display.close()
    written = write_outputs(job, cfg.output.results, cfg.output.failures, cfg.output.summary)
    outcomes = list(job.outcomes())
    job.close()
    return JobReport(
        demo.name,
        written.summary,
        demo.expected,
        {
            "results": _shown(cfg.output.results),
            "failures": _shown(cfg.output.failures),
            "summary": _shown(cfg.output.summary),
        },
        failures=[o for o in outcomes if not o.ok],
        recovered=[o for o in outcomes if o.ok and o.attempts > 1],
    )


def _shown(path: Path) -> str:
    """`path` relative to the current directory when it is below it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def report_text(result: DemoResult, out_dir: Path) -> str:
    """The demo's report: a table per job, every failure per key, keys that recovered."""
    lines = [
        "",
        f"{'job':<10}{'keys':>6}{'ok':>6}{'failed':>8}{'batches':>9}{'tokens in':>11}{'tokens out':>12}{'cost':>10}",
    ]
    for j in result.jobs:
        s = j.summary
        cost = f"${s.cost:.4f}" if s.cost is not None else "n/a"
        lines.append(
            f"{j.name:<10}{s.total:>6}{s.ok:>6}{s.failed:>8}{s.batches:>9}"
            f"{s.usage.input_tokens:>11,}{s.usage.output_tokens:>12,}{cost:>10}"
        )
    counts = result.counts()
    lines.append("")
    lines.append(
        "outcomes: "
        + ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (kv[0] != "ok", kv[0])))
    )
    if result.styles:
        lines.append(
            "answers the emulator sent (all parsed unless listed below): "
            + ", ".join(f"{n} {style}" for style, n in sorted(result.styles.items()))
        )
    lines.append("")
    lines.append("recovered by the engine (ok after more than one attempt):")
    for j in result.jobs:
        for o in j.recovered:
            lines.append(f"  {j.name:<9} {o.key!s:<28} ok after {o.attempts} attempts ({_why(o)})")
    lines.append("")
    lines.append("every failure, per key:")
    for j in result.jobs:
        lines.append(f"[{j.name}]")
        lines.append("  " + format_failures(j.failures, limit=None).replace("\n", "\n  "))
    lines.append("")
    for j in result.jobs:
        lines.append(f"{j.name}: {j.outputs['results']}, {j.outputs['failures']}, {j.outputs['summary']}")
    lines.append(f"demo summary: {out_dir / 'summary.json'}")
    verdict = (
        "as planned"
        if result.as_planned
        else "NOT as planned: "
        + "; ".join(
            f"{j.name} expected {dict(j.expected)}, got {dict(j.summary.counts)}"
            for j in result.jobs
            if not j.as_planned
        )
    )
    lines.append(f"finished in {result.seconds:.1f} s; outcome counts {verdict}")
    return "\n".join(lines)


def _why(o: Outcome[Any]) -> str:
    for demo in DEMO_JOBS:
        steps = demo.plan.get(str(o.key))
        if steps and steps[0] is not None:
            first = steps[0]
            if first.kind == "errored":
                return f"{first.error_type}, resubmitted"
            if first.kind == "expired":
                return "expired, resubmitted"
            if first.kind == "invalid":
                return "invalid answer, re-asked with the validation errors"
    return "retried"
