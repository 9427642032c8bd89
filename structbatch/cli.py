"""`structbatch`: the command line, a thin layer over the Python API.

Every command maps onto library calls: `run` is `Job(...).add_many(...)` + `Job.run()`,
`submit`/`status`/`collect`/`cancel`/`resume` are `Job.submit`/`wait`/`collect`/`cancel`/`run`
on the job's store, `results` streams `Job.outcomes()`. Progress goes to stderr; results,
summaries and `--json` documents go to stdout.

This module builds the parser and runs a command: every exception ends as one line on stderr and
its own exit code (`_cliutil.EXIT_CODES`, the one table; `--help` and the README print it). The
commands themselves are in `_clicmds`; the context, streams and message plumbing in `_cliutil`.

Building the parser imports only the standard library (and our own stdlib-only leaves: the exit
codes, the error classes, the `Mode` enum, the emulator's option list): each subcommand names its
function in `_clicmds`, which is imported only once a command runs. So `--help` and a usage error
never pay for pydantic, jsonschema, the engine or the SDK (`tests/test_import_cost.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import TextIO, cast

from ._cliutil import (
    EXIT_API,
    EXIT_BUSY,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Context,
    PipeSafe,
    UsageError,
    config_change_hint,
    exit_code_epilog,
    log_crash,
)
from ._errors import ConfigChangeError, InputError, JobBusyError, ModeError, SchemaError, StructbatchError
from ._types import Mode  # the leaf enum (not `_modes`, which is the mode table)
from .emulator._options import add_emulator_options  # no SDK import: the emulator loads lazily


@contextlib.contextmanager
def _logging(ctx: Context) -> Iterator[None]:
    """Show the `structbatch` logger on stderr while a command runs: warnings always, what the
    engine is doing (creating, waiting for a create to settle, ...) unless --quiet, everything
    with --debug. Records go through the live progress display when one is showing."""
    from ._progress import log_handler

    logger = logging.getLogger("structbatch")
    level = logging.DEBUG if ctx.args.debug else logging.WARNING if ctx.args.quiet else logging.INFO
    handler = log_handler(ctx.err, level=level)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, old_level) if old_level else level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


# -- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; `func` names each command's function in `_clicmds` (imported when
    it runs, so building this costs the standard library only)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout for scripts")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress display on stderr")
    common.add_argument(
        "--debug", action="store_true", help="show debug logs, and a traceback if structbatch itself fails"
    )
    polling = argparse.ArgumentParser(add_help=False)
    polling.add_argument(
        "--poll",
        type=float,
        metavar="SECONDS",
        help="poll open batches every SECONDS (default 5 s growing to 60 s)",
    )
    polling.add_argument(
        "--progress",
        choices=("auto", "bars", "plain"),
        default="auto",
        help="progress on stderr: bars (live, a terminal), plain lines (logs), or auto (bars on a TTY)",
    )
    polling.add_argument(
        "--wait",
        nargs="?",
        const=True,
        default=False,
        type=float,
        metavar="SECONDS",
        help="if another process is driving this job, wait for it (up to SECONDS) instead of exiting 5",
    )
    polling.add_argument(
        "--allow-key-change",
        action="store_true",
        help="accept batches created with another API key of the same workspace (TOML allow_key_change)",
    )
    job = argparse.ArgumentParser(add_help=False)
    job.add_argument("job", metavar="JOB.toml", help="the job file")
    stored = argparse.ArgumentParser(add_help=False)
    stored.add_argument(
        "job", metavar="JOB", help="the job file, or its store (.db): read as the store recorded the job"
    )
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--failed", action="store_true", help="only keys that failed")
    filters.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only this outcome kind (ok, invalid, ...); repeatable",
    )
    new = argparse.ArgumentParser(add_help=False)
    new.add_argument(
        "--mode", choices=[m.value for m in Mode], help="how the schema is put to the model (TOML mode)"
    )
    new.add_argument(
        "--wrap", metavar="FIELD", help="wrap a non-object schema root in an object field (TOML wrap)"
    )
    new.add_argument(
        "--recursive", action="store_true", help="a folder input: read subfolders too (TOML input.recursive)"
    )
    new.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help="a folder input: read files matching PATTERN, e.g. '*.txt'; repeatable (TOML input.glob)",
    )

    parser = argparse.ArgumentParser(
        prog="structbatch",
        description="Structured-output extraction with Claude's Message Batches API.",
        epilog=exit_code_epilog() + " The API key comes from ANTHROPIC_API_KEY.",
    )
    parser.set_defaults(debug=False, quiet=False, json=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", parents=[common, polling, new, job], help="submit, wait and collect a job")
    p.add_argument(
        "--dry-run", action="store_true", help="check inputs and show counts, bytes, batches and cost"
    )
    p.add_argument(
        "--count-tokens",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --dry-run: estimate input tokens with the free count_tokens on a few samples "
        "(default: when ANTHROPIC_API_KEY is set or with --emulator), or from bytes (--no-count-tokens)",
    )
    add_emulator_options(p)  # --emulator and --emulator-* (structbatch.emulator._options)
    p.set_defaults(func="cmd_run")

    p = sub.add_parser(
        "submit", parents=[common, polling, new, job], help="add the inputs and create batches; do not wait"
    )
    p.set_defaults(func="cmd_submit")
    p = sub.add_parser(
        "status",
        parents=[common, polling, stored],
        help="poll the job's batches once and show counts",
    )
    p.add_argument("--offline", action="store_true", help="show what the store knows; no API call")
    p.set_defaults(func="cmd_status")
    p = sub.add_parser(
        "collect", parents=[common, polling, job], help="download results of ended batches; write outputs"
    )
    p.set_defaults(func="cmd_collect")
    p = sub.add_parser(
        "results",
        parents=[common, stored, filters],
        help="print outcomes from the store as JSONL (or a table)",
    )
    p.add_argument("--table", action="store_true", help="a readable table with the values")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per key (the default)")
    p.set_defaults(func="cmd_results", poll=None)
    p = sub.add_parser(
        "export",
        parents=[common, stored, filters],
        help="write one row per key as Parquet, CSV or JSONL (needs structbatch[arrow])",
    )
    p.add_argument("--format", choices=("parquet", "csv", "jsonl"), help="default: from -o's suffix")
    p.add_argument("-o", "--output", metavar="PATH", help="the file to write ('-' for stdout: csv, jsonl)")
    p.set_defaults(func="cmd_export", poll=None)
    p = sub.add_parser(
        "cancel", parents=[common, polling, job], help="cancel the job's open batches and pending keys"
    )
    p.add_argument("--no-wait", action="store_true", help="do not wait for the canceled batches to end")
    p.set_defaults(func="cmd_cancel")
    p = sub.add_parser(
        "retry",
        parents=[common, polling, job],
        help="send finished keys that failed again (--kind, --key), with changed params, then run",
    )
    p.add_argument("--kind", action="append", metavar="KIND", help="failed keys of this kind (repeatable)")
    p.add_argument(
        "--key", action="append", dest="keys", metavar="KEY", help="a key to send again (repeatable)"
    )
    p.add_argument("--max-tokens", type=int, metavar="N", help="the retried requests' max_tokens")
    p.add_argument("--include-ok", action="store_true", help="also resend listed keys that succeeded")
    add_emulator_options(p)
    p.set_defaults(func="cmd_retry")
    p = sub.add_parser("resume", parents=[common, polling, job], help="continue a job from its store")
    add_emulator_options(p)  # --emulator and --emulator-* (structbatch.emulator._options)
    p.set_defaults(func="cmd_resume")

    sub.add_parser(
        "emulator",
        add_help=False,
        help="serve a local emulated Anthropic API (see `structbatch emulator -h`)",
    )
    p = sub.add_parser("demo", parents=[common], help="run the example jobs against an embedded emulator")
    p.add_argument("--out", default="out/demo", help="output directory (default out/demo)")
    p.set_defaults(func="cmd_demo")

    p = sub.add_parser("schema", help="schema tools")
    schema_sub = p.add_subparsers(dest="schema_command", metavar="SUBCOMMAND", required=True)
    c = schema_sub.add_parser(
        "check", parents=[common], help="validate a schema file or module:Model and show its tool"
    )
    c.add_argument("file", metavar="FILE", help="a JSON Schema file, or module:Model")
    c.add_argument("--model", help="show which mode AUTO picks for this model")
    c.add_argument("--wrap", metavar="FIELD", help="wrap a non-object root in an object field")
    c.set_defaults(func="cmd_schema_check")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see `_cliutil.EXIT_CODES`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = PipeSafe(sys.stdout), PipeSafe(sys.stderr)
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
    ctx = Context(args, cast("TextIO", out), cast("TextIO", err), parser=parser)
    with _logging(ctx):
        return _dispatch(ctx, argv)


def _dispatch(ctx: Context, argv: Sequence[str]) -> int:
    """Run the command; every exception becomes one line on stderr and its own exit code."""
    args = ctx.args
    try:
        command = getattr(importlib.import_module("._clicmds", __package__), args.func)
        code: int = command(ctx)
        return code
    except (UsageError, InputError, SchemaError, ModeError) as exc:
        return ctx.fail(EXIT_USAGE, f"error: {exc}", exc)
    except JobBusyError as exc:
        return ctx.fail(EXIT_BUSY, f"busy: {exc}", exc)
    except ConfigChangeError as exc:
        hint = config_change_hint(exc.setting, exc.stored)
        return ctx.fail(EXIT_API, f"{type(exc).__name__}: {exc}{hint}", exc)
    except StructbatchError as exc:
        return ctx.fail(EXIT_API, f"{type(exc).__name__}: {exc}", exc)
    except KeyboardInterrupt as exc:
        job = getattr(args, "job", None)
        return ctx.fail(
            EXIT_INTERRUPTED,
            "\nstructbatch: interrupted; the store is consistent"
            + (f": `structbatch resume {job}` continues" if job else ""),
            exc,
            prefix=False,
        )
    except BrokenPipeError:  # a pipe closed under a stream we did not wrap (e.g. a child's)
        return EXIT_OK
    except Exception as exc:
        if _is_api_error(exc):
            return ctx.fail(EXIT_API, f"API error: {exc}", exc)
        if args.debug:
            traceback.print_exception(exc, file=ctx.err)
            where = "traceback above"
        else:
            log = log_crash(exc, argv)
            where = f"traceback in {log}" if log else "no log could be written"
            where += "; --debug shows it here"
        return ctx.fail(
            EXIT_INTERNAL,
            f"internal error (a bug in structbatch, please report it): {type(exc).__name__}: {exc} ({where})",
            exc,
        )


def _is_api_error(exc: BaseException) -> bool:
    # The SDK is imported only once a client exists, so an API error implies it is loaded.
    anthropic_mod = sys.modules.get("anthropic")
    return anthropic_mod is not None and isinstance(exc, anthropic_mod.APIError)


if __name__ == "__main__":
    raise SystemExit(main())
