"""The command line's commands: each loads the job file or store, makes one library call and
renders the result for people (stdout), progress (stderr) or scripts (`--json`).

`cli` builds the parser and dispatches here; `_cliutil` holds the context, exit codes and
message plumbing they share.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ._cliutil import EXIT_API, EXIT_FAILED, EXIT_OK, EXIT_UNFINISHED, Context, UsageError, cli_terms
from ._errors import InputError, ModeError
from ._job import Job, PollPolicy, Summary
from ._jobfile import InputStats, JobFile, load_jobfile
from ._modes import Mode, resolve_mode
from ._outcome import FailureKind
from ._output import dumps_line, format_failures, format_outcomes, outcome_record, write_outputs
from ._progress import ProgressDisplay
from ._schemafile import load_schema

if TYPE_CHECKING:  # the SDK costs seconds to import: read-only commands never load it
    import anthropic

#: Files a read-only command accepts as JOB directly (the store instead of the job file).
STORE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
#: Models `schema check` reports AUTO's choice for when no --model is given.
SAMPLE_MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-6", "claude-sonnet-5-5")


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
    import anthropic

    return anthropic.Anthropic()


@contextlib.contextmanager
def _api(args: argparse.Namespace, ctx: Context) -> Iterator[anthropic.Anthropic]:
    """An SDK client: an embedded emulator's with --emulator, else one from the environment."""
    if getattr(args, "emulator", False):
        from .emulator import embedded_emulator  # --emulator-* options (emulator owner)

        with embedded_emulator(args) as emu:
            ctx.note(f"using an embedded emulator at {emu.base_url} (nothing leaves this machine)")
            yield emu.client()
        return
    yield _client()


def _note_key(ctx: Context, job: Job[Any]) -> None:
    """Say which key a job talks with: its last four characters (`Job.key_suffix`, what the
    store records per batch), never more; nothing for the embedded emulator's."""
    if not getattr(ctx.args, "emulator", False):
        base = os.environ.get("ANTHROPIC_BASE_URL")
        ctx.note(f"API key ...{job.key_suffix}" + (f" at {base}" if base else ""))


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Job-file values given as flags (`--mode`, `--wrap`, `--recursive`, ...): flags win."""
    top: dict[str, Any] = {}
    if getattr(args, "mode", None):
        top["mode"] = args.mode
    if getattr(args, "wrap", None):
        top["wrap"] = args.wrap
    if getattr(args, "allow_key_change", False):
        top["allow_key_change"] = True
    inp: dict[str, Any] = {}
    if getattr(args, "recursive", False):
        inp["recursive"] = True
    if getattr(args, "glob", None):
        inp["glob"] = list(args.glob)
    if inp:
        top["input"] = inp
    return top


def _load(args: argparse.Namespace) -> JobFile:
    return load_jobfile(args.job, overrides=_overrides(args))


def _new_job(ctx: Context, cfg: JobFile, client: anthropic.Anthropic) -> Job[Any]:
    args = ctx.args
    job = cfg.job(client, poll=_poll(args, emulator=getattr(args, "emulator", False)), wait=_wait(args))
    _note_key(ctx, job)
    return job


def _open_job(ctx: Context, cfg: JobFile, client: anthropic.Anthropic) -> Job[Any]:
    job = cfg.open_job(client, poll=_poll(ctx.args), wait=_wait(ctx.args))
    _note_key(ctx, job)
    return job


def _wait(args: argparse.Namespace) -> bool | float:
    """`--wait [SECONDS]`: wait for another process driving the job (forever, or that long)."""
    value = getattr(args, "wait", False)
    return value if isinstance(value, bool) else float(value)


def _store_of(args: argparse.Namespace) -> tuple[Path, JobFile | None]:
    """The store a read-only command reads: JOB may be the job file or the store itself."""
    path = Path(args.job)
    if path.suffix.lower() in STORE_SUFFIXES:
        if not path.exists():
            raise InputError(f"{path}: no such job store")
        return path, None
    cfg = load_jobfile(path, check_paths=False)
    return cfg.existing_store(), cfg


def _open_readonly(ctx: Context, client: anthropic.Anthropic | None = None) -> Job[Any]:
    """The job as its store recorded it (its own copy of the schema and settings), so reading
    a finished job works whatever the job file or the schema file say now."""
    args = ctx.args
    store, cfg = _store_of(args)
    options = cfg.client_options() if cfg is not None else {}
    if client is None:
        return Job.open(store, **options)
    job = Job.open(store, client=client, poll=_poll(args), wait=_wait(args), **options)
    _note_key(ctx, job)
    return job


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


def _kinds(args: argparse.Namespace) -> list[str] | None:
    """`--kind` / `--failed` as outcome kinds (None: every outcome)."""
    if getattr(args, "kind", None):
        unknown = sorted(set(args.kind) - {"ok", *_failure_kinds()})
        if unknown:
            raise UsageError(f"unknown --kind {unknown[0]!r}; one of ok, {', '.join(_failure_kinds())}")
        return list(args.kind)
    if getattr(args, "failed", False):
        return _failure_kinds()
    return None


def _exit_for(summary: Summary) -> int:
    if summary.pending or summary.inflight:
        return EXIT_UNFINISHED
    return EXIT_FAILED if summary.failed else EXIT_OK


@contextlib.contextmanager
def _display(ctx: Context, label: str = "") -> Iterator[ProgressDisplay | None]:
    if ctx.args.quiet:
        yield None
        return
    display = ProgressDisplay(ctx.err, label=label, style=getattr(ctx.args, "progress", "auto"))
    try:
        yield display
    finally:
        display.close()


def _report_inputs(ctx: Context, cfg: JobFile, stats: InputStats) -> None:
    ctx.note(f"{cfg.path}: {stats.rows} keys from {cfg.input.path}; store {cfg.store}")
    for line in stats.skipped_report():
        ctx.note(f"  {line}")


def _skipped_doc(stats: InputStats) -> dict[str, list[str]]:
    return {reason: [str(p) for p in paths] for reason, paths in stats.skipped.items()}


# -- commands --------------------------------------------------------------------------------------


def cmd_run(ctx: Context) -> int:
    args = ctx.args
    cfg = _load(args)
    cfg.spec()  # the schema is checked (and cached) before any input is read
    stats = cfg.check_inputs()  # every row read and rendered before anything is submitted
    if args.count_tokens is not None and not args.dry_run:
        raise UsageError("--count-tokens and --no-count-tokens go with --dry-run (a run sends the requests)")
    if args.dry_run:
        return dry_run(ctx, cfg, stats)
    _report_inputs(ctx, cfg, stats)
    with _api(args, ctx) as client, _new_job(ctx, cfg, client) as job:
        ctx.note(f"mode {job.mode.value} for model {job.model}")
        with _display(ctx) as display:
            job.on_progress = display
            job.add_many(cfg.items())
            job.run()
        summary = _finish(ctx, cfg, job, what="run")
    return _exit_for(summary)


def dry_run(ctx: Context, cfg: JobFile, stats: InputStats) -> int:
    """`run --dry-run`: the plan, printed; nothing is submitted."""
    from ._cliplan import plan, plan_text

    with _counting_client(ctx) as client, cfg.job(client, store=":memory:") as scratch:
        if client is not None:
            _note_key(ctx, scratch)
        doc = plan(scratch, cfg, stats)
    if client is None and ctx.args.count_tokens is None:
        ctx.note(
            "input tokens from bytes: with ANTHROPIC_API_KEY set or --emulator, count_tokens (free) counts samples"
        )
    for line in stats.skipped_report():
        ctx.note(f"  {line}")
    ctx.say(plan_text(doc))
    ctx.emit(doc)
    return EXIT_OK


@contextlib.contextmanager
def _counting_client(ctx: Context) -> Iterator[anthropic.Anthropic | None]:
    """The client `run --dry-run` counts tokens with (`count_tokens` is free): by default the
    embedded emulator's with --emulator, or the environment's key when set; `--count-tokens`
    insists (a usage error without either), `--no-count-tokens` makes no client (tokens from bytes)."""
    wanted = ctx.args.count_tokens  # None: whenever a client is at hand
    at_hand = bool(ctx.args.emulator or os.environ.get("ANTHROPIC_API_KEY"))
    if wanted is False or (wanted is None and not at_hand):
        yield None
        return
    with _api(ctx.args, ctx) as client:
        yield client


def cmd_submit(ctx: Context) -> int:
    cfg = _load(ctx.args)
    cfg.spec()
    stats = cfg.check_inputs()
    _report_inputs(ctx, cfg, stats)
    with _api(ctx.args, ctx) as client, _new_job(ctx, cfg, client) as job:
        job.add_many(cfg.items())
        created = job.submit()
        summary = job.summary()
    ctx.say(f"{stats.rows} keys; {len(created)} batch(es) created: {', '.join(created) or 'none'}")
    ctx.say(f"check with `structbatch status {cfg.path}`; fetch with `structbatch collect {cfg.path}`")
    ctx.emit(
        {
            "command": "submit",
            "batches": created,
            "summary": summary.as_dict(),
            "skipped": _skipped_doc(stats),
        }
    )
    return EXIT_OK


def cmd_status(ctx: Context) -> int:
    args = ctx.args
    client = None
    if not args.offline:
        if os.environ.get("ANTHROPIC_API_KEY"):
            client = _client()
        else:
            with _open_readonly(ctx) as job:
                unfinished = job.summary().inflight
            if unfinished:
                raise UsageError(
                    "ANTHROPIC_API_KEY is not set, and polling the open batches needs it; "
                    f"`structbatch status --offline {args.job}` shows what the store knows"
                )
            ctx.note(
                "ANTHROPIC_API_KEY is not set; no batch is open, so this is what the store knows "
                "(the same as --offline)"
            )
    with _open_readonly(ctx, client) as job:
        if client is not None:
            job.wait(timeout=0)  # one poll of every open batch, recorded in the store
        summary = job.summary()
        batches = job.batches()
        store = job.path
    ctx.say(f"job {args.job} (store {store}, model {summary.model})")
    ctx.say(str(summary))
    if batches:
        ctx.say("")
        ctx.say(f"{'batch':<34} {'state':<10} {'status':<11} {'requests':>8}  counts")
        for b in batches:
            counts = ", ".join(f"{k} {v}" for k, v in (b.request_counts or {}).items() if v)
            ctx.say(
                f"{b.batch_id or '(being created)':<34} {b.state.value:<10} {b.processing_status or '-':<11} "
                f"{b.requests:>8}  {counts}"
            )
    ctx.emit(
        {
            "command": "status",
            "summary": summary.as_dict(),
            "batches": [b.as_dict() for b in batches],
        }
    )
    return EXIT_OK


def cmd_collect(ctx: Context) -> int:
    cfg = _load(ctx.args)
    with _open_job(ctx, cfg, _client()) as job:
        job.wait(timeout=0)
        n = job.collect()
        ctx.note(f"{n} results recorded")
        summary = _finish(ctx, cfg, job, what="collect")
    if summary.pending:
        ctx.note(f"{summary.pending} keys wait for resubmission: `structbatch resume {cfg.path}`")
    return _exit_for(summary)


def _run_to_end(ctx: Context, cfg: JobFile, job: Job[Any], *, what: str) -> int:
    """`job.run()` under the progress display, then the outputs and the exit code."""
    with _display(ctx) as display:
        job.on_progress = display
        job.run()
    return _exit_for(_finish(ctx, cfg, job, what=what))


def cmd_resume(ctx: Context) -> int:
    cfg = _load(ctx.args)
    with _api(ctx.args, ctx) as client, _open_job(ctx, cfg, client) as job:  # --emulator too
        return _run_to_end(ctx, cfg, job, what="resume")


def cmd_retry(ctx: Context) -> int:
    """`retry`: `Job.retry(kinds=..., keys=..., max_tokens=...)`, then run the job to the end."""
    args = ctx.args
    cfg = _load(args)
    changes: dict[str, Any] = {} if args.max_tokens is None else {"max_tokens": args.max_tokens}
    if not args.kind and not args.keys:
        raise UsageError("retry: say which keys to send again: --kind KIND (e.g. truncated) or --key KEY")
    with _api(args, ctx) as client, _open_job(ctx, cfg, client) as job:
        queued = job.retry(kinds=args.kind, keys=args.keys, include_ok=args.include_ok, **changes)
        ctx.note(f"{len(queued.keys)} key(s) queued again" + (f" with {changes}" if changes else ""))
        return _run_to_end(ctx, cfg, job, what="retry")


def cmd_cancel(ctx: Context) -> int:
    cfg = _load(ctx.args)
    with _open_job(ctx, cfg, _client()) as job:
        n = job.cancel(wait=not ctx.args.no_wait)
        ctx.note(f"{n} batch(es) canceled")
        _finish(ctx, cfg, job, what="cancel")
    return EXIT_OK


def cmd_results(ctx: Context) -> int:
    args = ctx.args
    if args.json and args.jsonl:
        raise UsageError("--json prints one document, --jsonl one line per key: choose one")
    kinds = _kinds(args)
    with _open_readonly(ctx) as job:  # the store only: no API call, no key, no lease
        outcomes = job.outcomes(kinds=kinds)
        if args.table:
            ctx.out.write(format_outcomes(outcomes, limit=None) + "\n")
        elif args.json:
            records = [outcome_record(o) for o in outcomes]
            ctx.emit({"command": "results", "job": args.job, "count": len(records), "outcomes": records})
        else:
            for outcome in outcomes:
                ctx.out.write(dumps_line(outcome_record(outcome)).decode())
                if ctx.closed:  # `| head`: the reader has what it wanted
                    break
    return EXIT_OK


def cmd_export(ctx: Context) -> int:
    from ._export import EXPORT_FORMATS, MissingDependency, write_export

    try:
        return _export(ctx, EXPORT_FORMATS, write_export)
    except MissingDependency as exc:
        raise UsageError(str(exc)) from None


def _export(ctx: Context, formats: Sequence[str], write_export: Any) -> int:
    args = ctx.args
    fmt = args.format or _format_from_suffix(args.output)
    if fmt not in formats:
        raise UsageError(f"--format must be one of {', '.join(formats)} (or an -o with that suffix)")
    target = args.output or f"{Path(args.job).stem}.{fmt}"
    if target == "-" and (fmt == "parquet" or args.json):
        raise UsageError("-o - writes the table to stdout: csv or jsonl, without --json")
    with _open_readonly(ctx) as job:
        outcomes = job.outcomes(kinds=_kinds(args))
        n = write_export(outcomes, job.spec, fmt, ctx.out if target == "-" else Path(target), model=job.model)
    if target != "-":
        ctx.say(f"wrote {n} rows to {target} ({fmt})")
        ctx.emit({"command": "export", "format": fmt, "path": target, "rows": n})
    return EXIT_OK


def _format_from_suffix(output: str | None) -> str | None:
    if not output or output == "-":
        return None
    suffix = Path(output).suffix.lower().lstrip(".")
    return {"pq": "parquet", "ndjson": "jsonl"}.get(suffix, suffix) or None


def cmd_schema_check(ctx: Context) -> int:
    args = ctx.args
    spec = load_schema(args.file, base=Path.cwd(), where=args.file, wrap=args.wrap)
    subset = spec.api_subset
    models = [args.model] if args.model else list(SAMPLE_MODELS)
    auto: dict[str, str] = {}
    for model in models:
        try:
            auto[model] = resolve_mode(spec, model, Mode.AUTO).value
        except ModeError as exc:
            auto[model] = f"error: {cli_terms(str(exc), ctx.has_flag)}"
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
            "command": "schema check",
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
