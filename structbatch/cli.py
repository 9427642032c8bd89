"""`structbatch`: the command line, a thin layer over the Python API.

Every command maps onto library calls: `run` is `Job(...).add_many(...)` + `Job.run()`,
`submit`/`status`/`collect`/`cancel`/`resume` are `Job.submit`/`wait`/`collect`/`cancel`/`run`
on the job's store, `results` streams `Job.outcomes()`. Progress goes to stderr; results,
summaries and `--json` documents go to stdout.

Exit codes:
    0  success: every key finished ok (or the command did what it was asked)
    1  the job finished, but some keys failed (see the failures file / `results --failed`)
    2  usage or input error: bad arguments, job file, schema or input rows; nothing submitted
    3  API or job error: the API refused, the store belongs to another job, key mismatch, ...
    4  `collect`: not finished yet (batches still processing or keys waiting for resubmission)
  130  interrupted (Ctrl-C); the store is consistent, `structbatch resume JOB` continues
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anthropic
import orjson

from . import _batching as batching
from ._cost import BATCH_DISCOUNT, price_for
from ._errors import InputError, ModeError, SchemaError, StructbatchError
from ._job import Job, PollPolicy, Summary
from ._jobfile import JobFile, load_jobfile, load_schema
from ._modes import Mode, resolve_mode
from ._outcome import FailureKind
from ._output import dumps_line, format_failures, outcome_record, write_outputs
from ._progress import ProgressDisplay, human

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_API, EXIT_UNFINISHED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

#: Models `schema check` reports AUTO's choice for when no --model is given.
SAMPLE_MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-6", "claude-sonnet-5-5")


class UsageError(StructbatchError):
    """A command-line mistake (exit 2)."""


@dataclass
class Context:
    """What every command needs: parsed args and the output streams."""

    args: argparse.Namespace
    out: TextIO
    err: TextIO

    def say(self, text: str = "") -> None:
        """Human-readable output (suppressed by --json, which prints one document instead)."""
        if not self.args.json:
            print(text, file=self.out)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def emit(self, doc: Any) -> None:
        if self.args.json:
            self.out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


# -- helpers ---------------------------------------------------------------------------------------


def _poll(args: argparse.Namespace, *, emulator: bool = False) -> PollPolicy:
    if args.poll is not None:
        return PollPolicy(initial=args.poll, factor=1.0, maximum=args.poll)
    return PollPolicy(initial=0.2, factor=1.5, maximum=1.0) if emulator else PollPolicy()


def _client() -> anthropic.Anthropic:
    """The SDK client from the environment (ANTHROPIC_API_KEY, optional ANTHROPIC_BASE_URL)."""
    if not os.environ.get("ANTHROPIC_API_KEY"):
        raise UsageError(
            "ANTHROPIC_API_KEY is not set. Export your key, or try it offline: `structbatch run "
            "--emulator JOB.toml`, or `structbatch emulator` and ANTHROPIC_BASE_URL=http://127.0.0.1:8765"
        )
    return anthropic.Anthropic()


def key_hint(client: anthropic.Anthropic) -> str:
    """The API key as it may be shown: its last four characters only."""
    key = client.api_key or ""
    return f"...{key[-4:]}" if len(key) >= 8 else "(short key hidden)"


@contextlib.contextmanager
def _api(args: argparse.Namespace, ctx: Context) -> Iterator[anthropic.Anthropic]:
    """An SDK client: an embedded emulator's with --emulator, else one from the environment."""
    if getattr(args, "emulator", False):
        from .emulator import Emulator

        with Emulator(latency=1.0, seed=0) as emu:
            ctx.note(f"using an embedded emulator at {emu.base_url} (nothing leaves this machine)")
            yield emu.client()
        return
    client = _client()
    base = os.environ.get("ANTHROPIC_BASE_URL")
    ctx.note(f"API key {key_hint(client)}" + (f" at {base}" if base else ""))
    yield client


def _new_job(cfg: JobFile, client: anthropic.Anthropic, args: argparse.Namespace) -> Job[Any]:
    return cfg.job(client, poll=_poll(args, emulator=getattr(args, "emulator", False)))


def _open_job(cfg: JobFile, client: anthropic.Anthropic | None, args: argparse.Namespace) -> Job[Any]:
    return cfg.open_job(client, poll=_poll(args))


def _finish(ctx: Context, cfg: JobFile, job: Job[Any], *, what: str) -> Summary:
    """Write the outputs, print the summary and the failures; returns the summary."""
    written = write_outputs(job, cfg.output.results, cfg.output.failures, cfg.output.summary)
    summary = written.summary
    ctx.say(str(summary))
    if written.failures:
        ctx.say("")
        ctx.say(format_failures(job.outcomes(kinds=_failure_kinds()), limit=20))
    ctx.say("")
    ctx.say(f"results:  {cfg.output.results} ({written.results} keys)")
    ctx.say(f"failures: {cfg.output.failures} ({written.failures} keys)")
    ctx.say(f"summary:  {cfg.output.summary}")
    ctx.emit(
        {
            "command": what,
            "job": str(cfg.path),
            "summary": summary.as_dict(),
            "outputs": {
                "results": str(cfg.output.results),
                "failures": str(cfg.output.failures),
                "summary": str(cfg.output.summary),
            },
        }
    )
    return summary


def _failure_kinds() -> list[str]:
    return [k.value for k in FailureKind]


def _exit_for(summary: Summary) -> int:
    if summary.pending or summary.inflight:
        return EXIT_UNFINISHED
    return EXIT_FAILED if summary.failed else EXIT_OK


@contextlib.contextmanager
def _display(ctx: Context, label: str = "") -> Iterator[ProgressDisplay | None]:
    if ctx.args.quiet:
        yield None
        return
    display = ProgressDisplay(ctx.err, label=label)
    try:
        yield display
    finally:
        display.close()


# -- commands --------------------------------------------------------------------------------------


def cmd_run(ctx: Context) -> int:
    args = ctx.args
    cfg = load_jobfile(args.job)
    spec = cfg.spec()
    stats = cfg.check_inputs()  # every row read and rendered before anything is submitted
    if args.dry_run:
        return _dry_run(ctx, cfg, spec, stats.rows)
    ctx.note(f"{cfg.path}: {stats.rows} keys from {cfg.input.path}; store {cfg.store}")
    with _api(args, ctx) as client, _new_job(cfg, client, args) as job:
        ctx.note(f"mode {job.mode.value} for model {job.model}")
        with _display(ctx) as display:
            job.on_progress = display
            job.add_many(cfg.items())
            job.run()
        summary = _finish(ctx, cfg, job, what="run")
    return _exit_for(summary)


def _dry_run(ctx: Context, cfg: JobFile, spec: Any, rows: int) -> int:
    mode = resolve_mode(spec, cfg.model, cfg.mode, **cfg.params)
    limits = cfg.limits.batch_limits()
    totals = {"bytes": 0, "json_chars": 0, "too_large": 0}

    def sizes() -> Iterator[tuple[int, int]]:
        for i, item in enumerate(cfg.items()):
            params = spec.params(
                item["messages"],
                model=cfg.model,
                max_tokens=cfg.max_tokens,
                mode=mode,
                system=cfg.system,
                **cfg.params,
            )
            body = batching.encode_params(params)
            size = batching.entry_size(batching.custom_id_for(item["key"]), body)
            totals["json_chars"] += len(body.decode())
            if not limits.fits_alone(size):
                totals["too_large"] += 1
                continue
            totals["bytes"] += size
            yield i, size

    n_batches = sum(1 for _ in batching.shard(sizes(), limits))
    # Estimate: ~4 characters per token of the request JSON (prompt, system, tool schema). The
    # real count differs by language and schema; `count_tokens` on a sample would be exact.
    tokens_in = totals["json_chars"] // 4
    price = price_for(cfg.model)
    cost_in = tokens_in * price.input / 1e6 * BATCH_DISCOUNT if price else None
    cost_out_max = rows * cfg.max_tokens * price.output / 1e6 * BATCH_DISCOUNT if price else None
    doc = {
        "job": str(cfg.path),
        "keys": rows,
        "model": cfg.model,
        "mode": mode.value,
        "request_bytes": totals["bytes"],
        "too_large": totals["too_large"],
        "batches": n_batches,
        "estimated_input_tokens": tokens_in,
        "token_estimate": "request JSON characters / 4",
        "estimated_input_cost_usd": cost_in,
        "max_output_cost_usd": cost_out_max,
    }
    ctx.say(f"dry run of {cfg.path}: nothing submitted")
    ctx.say(f"  keys            {rows}")
    ctx.say(f"  model / mode    {cfg.model} / {mode.value}")
    ctx.say(f"  request bytes   {totals['bytes']:,} ({human(totals['bytes'])}B)")
    if totals["too_large"]:
        ctx.say(f"  too large       {totals['too_large']} (would fail as api_error, never submitted)")
    ctx.say(
        f"  batches         {n_batches} (caps: {limits.max_requests:,} requests, {limits.max_bytes:,} bytes)"
    )
    ctx.say(f"  input tokens    ≈ {tokens_in:,} (request JSON characters / 4)")
    if cost_in is not None and cost_out_max is not None:
        ctx.say(f"  input cost      ≈ ${cost_in:.4f} (batch prices)")
        ctx.say(f"  output cost     ≤ ${cost_out_max:.4f} (if every answer used max_tokens={cfg.max_tokens})")
    else:
        ctx.say(f"  cost            unknown (no price for {cfg.model})")
    ctx.emit(doc)
    return EXIT_OK


def cmd_submit(ctx: Context) -> int:
    cfg = load_jobfile(ctx.args.job)
    cfg.spec()
    stats = cfg.check_inputs()
    with _api(ctx.args, ctx) as client, _new_job(cfg, client, ctx.args) as job:
        job.add_many(cfg.items())
        created = job.submit()
        summary = job.summary()
    ctx.say(f"{stats.rows} keys; {len(created)} batch(es) created: {', '.join(created) or 'none'}")
    ctx.say(f"check with `structbatch status {cfg.path}`; fetch with `structbatch collect {cfg.path}`")
    ctx.emit({"command": "submit", "batches": created, "summary": summary.as_dict()})
    return EXIT_OK


def cmd_status(ctx: Context) -> int:
    cfg = load_jobfile(ctx.args.job)
    client = None if ctx.args.offline else _client()
    with _open_job(cfg, client, ctx.args) as job:
        if client is not None:
            job.wait(timeout=0)  # one poll of every open batch, recorded in the store
        summary = job.summary()
        batches = job.store.batches()
    ctx.say(f"job {cfg.path} (store {cfg.store}, model {summary.model})")
    ctx.say(str(summary))
    if batches:
        ctx.say("")
        ctx.say(f"{'batch':<34} {'state':<10} {'status':<11} {'requests':>8}  counts")
        for b in batches:
            counts = ", ".join(f"{k} {v}" for k, v in (b.request_counts or {}).items() if v)
            ctx.say(
                f"{b.batch_id or '(being created)':<34} {b.state:<10} {b.processing_status or '-':<11} "
                f"{b.n_requests:>8}  {counts}"
            )
    ctx.emit(
        {
            "command": "status",
            "summary": summary.as_dict(),
            "batches": [
                {
                    "batch_id": b.batch_id,
                    "state": b.state,
                    "processing_status": b.processing_status,
                    "requests": b.n_requests,
                    "request_counts": b.request_counts,
                }
                for b in batches
            ],
        }
    )
    return EXIT_OK


def cmd_collect(ctx: Context) -> int:
    cfg = load_jobfile(ctx.args.job)
    with _open_job(cfg, _client(), ctx.args) as job:
        job.wait(timeout=0)
        n = job.collect()
        ctx.note(f"{n} results recorded")
        summary = _finish(ctx, cfg, job, what="collect")
    if summary.pending:
        ctx.note(f"{summary.pending} keys wait for resubmission: `structbatch resume {cfg.path}`")
    return _exit_for(summary)


def cmd_resume(ctx: Context) -> int:
    cfg = load_jobfile(ctx.args.job)
    with _open_job(cfg, _client(), ctx.args) as job:
        with _display(ctx) as display:
            job.on_progress = display
            job.run()
        summary = _finish(ctx, cfg, job, what="resume")
    return _exit_for(summary)


def cmd_cancel(ctx: Context) -> int:
    cfg = load_jobfile(ctx.args.job)
    with _open_job(cfg, _client(), ctx.args) as job:
        n = job.cancel(wait=not ctx.args.no_wait)
        ctx.note(f"{n} batch(es) canceled")
        _finish(ctx, cfg, job, what="cancel")
    return EXIT_OK


def cmd_results(ctx: Context) -> int:
    args = ctx.args
    cfg = load_jobfile(args.job)
    kinds: list[str] | None = None
    if args.kind:
        unknown = sorted(set(args.kind) - {"ok", *_failure_kinds()})
        if unknown:
            raise UsageError(f"unknown --kind {unknown[0]!r}; one of ok, {', '.join(_failure_kinds())}")
        kinds = list(args.kind)
    elif args.failed:
        kinds = _failure_kinds()
    with _open_job(cfg, None, args) as job:  # reads the store only: no API call, no key needed
        outcomes = job.outcomes(kinds=kinds)
        if args.table:
            ctx.out.write(format_failures(outcomes, limit=None, include_ok=True) + "\n")
        else:
            for outcome in outcomes:
                ctx.out.write(dumps_line(outcome_record(outcome, job.spec.dump_value)).decode())
    return EXIT_OK


def cmd_schema_check(ctx: Context) -> int:
    args = ctx.args
    spec = load_schema(args.file, base=Path.cwd(), where=args.file)
    subset = spec.api_subset
    models = [args.model] if args.model else list(SAMPLE_MODELS)
    auto: dict[str, str] = {}
    for model in models:
        try:
            auto[model] = resolve_mode(spec, model, Mode.AUTO).value
        except ModeError as exc:
            auto[model] = f"error: {exc}"
    ctx.say(f"{args.file}: ok, compiles to tool {spec.name!r}")
    ctx.say(orjson.dumps(spec.tool, option=orjson.OPT_INDENT_2).decode())
    ctx.say(
        "structured-output subset: "
        + ("fits" if subset.fits else "does not fit: " + "; ".join(subset.problems))
    )
    for model, mode in auto.items():
        ctx.say(f"mode AUTO with {model}: {mode}")
    ctx.emit(
        {
            "file": args.file,
            "tool": spec.tool,
            "api_subset": {"fits": subset.fits, "problems": list(subset.problems)},
            "auto_mode": auto,
        }
    )
    return EXIT_OK


def cmd_demo(ctx: Context) -> int:
    from ._demo import run_demo

    result = run_demo(
        Path(ctx.args.out), out=ctx.out, err=ctx.err, json_output=ctx.args.json, quiet=ctx.args.quiet
    )
    return EXIT_OK if result.as_planned else EXIT_API


# -- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout for scripts")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress display on stderr")
    polling = argparse.ArgumentParser(add_help=False)
    polling.add_argument(
        "--poll",
        type=float,
        metavar="SECONDS",
        help="poll open batches every SECONDS (default 5 s growing to 60 s)",
    )
    job = argparse.ArgumentParser(add_help=False)
    job.add_argument("job", metavar="JOB.toml", help="the job file")

    parser = argparse.ArgumentParser(
        prog="structbatch",
        description="Structured-output extraction with Claude's Message Batches API.",
        epilog="Exit codes: 0 ok; 1 some keys failed; 2 usage or input error; 3 API or job error; "
        "4 not finished yet (collect); 130 interrupted. The API key comes from ANTHROPIC_API_KEY.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", parents=[common, polling, job], help="submit, wait and collect a job")
    p.add_argument(
        "--dry-run", action="store_true", help="check inputs and show counts, bytes, batches and cost"
    )
    p.add_argument("--emulator", action="store_true", help="run against an embedded emulator (offline)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "submit", parents=[common, polling, job], help="add the inputs and create batches; do not wait"
    )
    p.set_defaults(func=cmd_submit)
    p = sub.add_parser(
        "status", parents=[common, polling, job], help="poll the job's batches once and show counts"
    )
    p.add_argument("--offline", action="store_true", help="show what the store knows; no API call")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser(
        "collect", parents=[common, polling, job], help="download results of ended batches; write outputs"
    )
    p.set_defaults(func=cmd_collect)
    p = sub.add_parser(
        "results", parents=[common, job], help="print outcomes from the store as JSONL (or a table)"
    )
    p.add_argument("--table", action="store_true", help="a readable table instead of JSONL")
    p.add_argument("--failed", action="store_true", help="only keys that failed")
    p.add_argument(
        "--kind", action="append", metavar="KIND", help="only this outcome kind (ok, invalid, ...)"
    )
    p.set_defaults(func=cmd_results, poll=None)
    p = sub.add_parser(
        "cancel", parents=[common, polling, job], help="cancel the job's open batches and pending keys"
    )
    p.add_argument("--no-wait", action="store_true", help="do not wait for the canceled batches to end")
    p.set_defaults(func=cmd_cancel)
    p = sub.add_parser("resume", parents=[common, polling, job], help="continue a job from its store")
    p.set_defaults(func=cmd_resume)

    sub.add_parser(
        "emulator",
        add_help=False,
        help="serve a local emulated Anthropic API (see `structbatch emulator -h`)",
    )
    p = sub.add_parser("demo", parents=[common], help="run the example jobs against an embedded emulator")
    p.add_argument("--out", default="out/demo", help="output directory (default out/demo)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("schema", help="schema tools")
    schema_sub = p.add_subparsers(dest="schema_command", metavar="SUBCOMMAND", required=True)
    c = schema_sub.add_parser(
        "check", parents=[common], help="validate a schema file or module:Model and show its tool"
    )
    c.add_argument("file", metavar="FILE", help="a JSON Schema file, or module:Model")
    c.add_argument("--model", help="show which mode AUTO picks for this model")
    c.set_defaults(func=cmd_schema_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "emulator":
        from .emulator import main as emulator_main

        try:
            return emulator_main(argv[1:])
        except SystemExit as exc:  # its argparse: --help is 0, a usage error 2
            return int(exc.code or 0)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error 2
        return int(exc.code or 0)
    ctx = Context(args, sys.stdout, sys.stderr)
    try:
        code: int = args.func(ctx)
        return code
    except (UsageError, InputError, SchemaError, ModeError) as exc:
        ctx.note(f"structbatch: error: {exc}")
        return EXIT_USAGE
    except StructbatchError as exc:
        ctx.note(f"structbatch: {type(exc).__name__}: {exc}")
        return EXIT_API
    except anthropic.APIError as exc:
        ctx.note(f"structbatch: API error: {exc}")
        return EXIT_API
    except KeyboardInterrupt:
        job = getattr(args, "job", None)
        ctx.note(
            "\nstructbatch: interrupted; the store is consistent"
            + (f": `structbatch resume {job}` continues" if job else "")
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
