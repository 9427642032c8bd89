"""The command line's plumbing: exit codes, streams that survive a closed pipe, crash logs, and
library messages rephrased in command-line terms.

Kept apart from `cli` so the commands read as "load, one library call, render". Imports only the
standard library and `_errors` at module level: `cli` builds its parser from this.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ._errors import StructbatchError

# -- exit codes ------------------------------------------------------------------------------------

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_UNFINISHED = 4
EXIT_BUSY = 5
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE: "an internal software error has been detected"
EXIT_INTERRUPTED = 130

#: The one table of exit codes (code, short name, what it means): the CLI's `--help` and the
#: README's table say the same.
EXIT_CODES: tuple[tuple[int, str, str], ...] = (
    (EXIT_OK, "ok", "every key finished ok, or the command did what it was asked"),
    (EXIT_FAILED, "some keys failed", "the job finished; see the failures file or `results --failed`"),
    (EXIT_USAGE, "usage or input error", "bad arguments, job file, schema or input rows; nothing submitted"),
    (EXIT_API, "API or job error", "the API refused, the store belongs to another job, key mismatch, ..."),
    (EXIT_UNFINISHED, "not finished", "`collect`: batches still processing or keys awaiting resubmission"),
    (EXIT_BUSY, "busy", "another process is driving this job (the message names its pid and host)"),
    (
        EXIT_INTERNAL,
        "internal error",
        "a bug in structbatch: one line, the traceback in a log file (--debug shows it)",
    ),
    (
        EXIT_INTERRUPTED,
        "interrupted",
        "Ctrl-C; the store is consistent and `structbatch resume JOB` continues",
    ),
)


def exit_code_epilog() -> str:
    """The exit-code table as one sentence for `--help`."""
    return "Exit codes: " + "; ".join(f"{code} {short}" for code, short, _ in EXIT_CODES) + "."


# -- the command context ---------------------------------------------------------------------------


class UsageError(StructbatchError):
    """A command-line mistake (exit 2)."""


@dataclass
class Context:
    """What every command needs: parsed args, the output streams, and the parser (for hints)."""

    args: argparse.Namespace
    out: TextIO
    err: TextIO
    parser: argparse.ArgumentParser | None = None

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def closed(self) -> bool:
        """The reader of stdout went away (`| head`): stop producing output."""
        return bool(getattr(self.out, "broken", False))

    def say(self, text: str = "") -> None:
        """Human-readable output (suppressed by --json, which prints one document instead)."""
        if not self.json:
            print(text, file=self.out)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def emit(self, doc: Any) -> None:
        """The command's one JSON document (with --json)."""
        if self.json:
            from ._output import dumps_json  # the library: only once a command has output

            self.out.write(dumps_json(doc, indent=True).decode() + "\n")

    def fail(self, code: int, message: str, exc: BaseException, *, prefix: bool = True) -> int:
        """Report an error in one line (in command-line terms) and return its exit code; with
        --json, stdout still gets one document, saying what went wrong."""
        text = cli_terms(message, self.has_flag)
        self.note(f"structbatch: {text}" if prefix else text)
        if self.json:
            self.emit(
                {
                    "command": getattr(self.args, "command", None),
                    "error": {"type": type(exc).__name__, "message": text.strip()},
                    "exit_code": code,
                }
            )
        return code

    def has_flag(self, flag: str) -> bool:
        """Whether some command accepts `flag` (so a hint never names one that does not exist)."""
        return self.parser is not None and flag in all_flags(self.parser)


def all_flags(parser: argparse.ArgumentParser) -> set[str]:
    flags: set[str] = set()
    for action in parser._actions:
        flags.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= all_flags(sub)
    return flags


# -- streams ---------------------------------------------------------------------------------------


class PipeSafe:
    """A text stream that turns a closed pipe (`structbatch results JOB | head -1`) into silence.

    The first `BrokenPipeError` marks the stream `broken`; later writes are dropped, and the
    file descriptor is pointed at /dev/null so the interpreter's final flush cannot complain
    either (the recipe in the Python docs' `signal` notes on SIGPIPE). Commands that stream check
    `broken` to stop early; the others finish normally and exit with their own code.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if self.broken:
            return len(text)
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self._break()
            return len(text)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._break()

    def isatty(self) -> bool:
        with contextlib.suppress(ValueError, OSError):
            return self.stream.isatty()
        return False

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def _break(self) -> None:
        self.broken = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)


# -- crashes ---------------------------------------------------------------------------------------


def log_crash(exc: BaseException, argv: Iterable[str]) -> Path | None:
    """Write `exc`'s traceback to a new log file in the temp directory; returns its path (None
    when even that fails, so the one-line message still gets out)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"structbatch-crash-{stamp}-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"structbatch {' '.join(argv)}\npython {sys.version.split()[0]}\n\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return Path(name)


# -- messages in command-line terms ------------------------------------------------------------------

_MODE_REF = re.compile(r"\bMode\.([A-Z_]+)\b")
_WRAP = re.compile(r"pass wrap='([^']+)'(?: \(or another key\))?")
_KWARG_TRUE = re.compile(r"\bpass (\w+)=True\b")


def cli_terms(message: str, has_flag: Callable[[str], bool]) -> str:
    """Rephrase a library message's Python hints (`pass wrap='items'`, `Mode.JSON_SCHEMA`,
    `allow_key_change=True`, `Job.open()`) as the flag or job-file key that does the same.

    `has_flag("--mode")` says whether an option exists, so a hint never names one that does not.
    """
    text = _WRAP.sub(
        lambda m: f'set wrap = "{m.group(1)}" in the job file (or pass --wrap {m.group(1)})', message
    )

    def kwarg(m: re.Match[str]) -> str:
        flag = "--" + m.group(1).replace("_", "-")
        if not has_flag(flag):
            return m.group(0)
        return f"pass {flag} (or set {m.group(1)} = true in the job file)"

    text = _KWARG_TRUE.sub(kwarg, text)
    text = text.replace("(wait=True, or --wait on the command line)", "(pass --wait)")
    if has_flag("--mode"):
        text = _MODE_REF.sub(lambda m: f"--mode {m.group(1).lower()}", text)
        if "--mode " in text and 'mode = "' not in text:
            text += ' (or mode = "..." in the job file)'
    text = text.replace(
        "Use another store file, or Job.open() without a spec",
        "Point `store` in the job file at a new file, or restore the schema the job was created with; "
        "`results`, `status --offline` and `export` read the store's own copy of the schema",
    )
    return text.replace(
        "(pass name= to compile to rename it)", '(set tool_name = "..." in the job file to rename it)'
    )


def config_change_hint(setting: str, stored: object) -> str:
    """What to change in the job file (or on the command line) to continue a job whose stored
    `setting` differs from the job file's, after batches were submitted."""
    keep = {
        "model": f"set model = {_toml(stored)} in the job file back",
        "mode": f"set mode = {_toml(stored)} in the job file back (or pass --mode {stored})",
        "max_tokens": f"set max_tokens = {stored} in the job file back",
        "system": "restore `system` in the job file",
        "params": "restore [params] in the job file",
        "spec": "restore the schema file the job was created with (`schema` in the job file)",
    }.get(setting, f"restore `{setting}` in the job file")
    return (
        f"; to continue this job, {keep}; to start over with the new settings, point `store` in the "
        "job file at a new file (`results`, `status --offline` and `export` still read this one)"
    )


def _toml(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
