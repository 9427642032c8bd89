"""Writing a job's outcomes: results JSONL, failures JSONL and a summary JSON, all atomically.

Each file is written to a temporary file in the same directory, flushed to disk, then renamed
over the target (`os.replace` is atomic on POSIX and Windows), so a crash leaves either the old
file or the new one, never half of one. The new file gets the permissions any new file would
(0666 less the umask), or keeps the old file's; `tempfile` alone would make it 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic_core import to_jsonable_python

from ._job import Job, Summary
from ._outcome import Outcome


def json_value(value: Any) -> Any:
    """A value (model instance, dict, ...) as plain JSON data, by alias, integers exact."""
    return to_jsonable_python(value, fallback=str)


def dumps_json(obj: Any, *, indent: bool = False) -> bytes:
    """JSON bytes; orjson when it can, the standard library for integers beyond 64 bits
    (which orjson refuses), so an exact big integer in a value is written exactly."""
    try:
        return orjson.dumps(obj, default=str, option=orjson.OPT_INDENT_2 if indent else None)
    except TypeError:
        return json.dumps(
            obj,
            ensure_ascii=False,
            default=str,
            indent=2 if indent else None,
            separators=None if indent else (",", ":"),
        ).encode()


def outcome_record(outcome: Outcome[Any]) -> dict[str, Any]:
    """One outcome as the JSON object written per key (stable field names; see the README)."""
    record: dict[str, Any] = {
        "key": outcome.key,
        "custom_id": outcome.custom_id,
        "ok": outcome.ok,
    }
    if outcome.ok:
        record["value"] = json_value(outcome.value)
    else:
        assert outcome.failure is not None
        record["failure"] = {
            "kind": outcome.failure.kind.value,
            "message": outcome.failure.message,
            "details": json_value(dict(outcome.failure.details)),
        }
    record["mode"] = outcome.mode
    record["attempts"] = outcome.attempts
    record["usage"] = outcome.usage.as_dict()
    record["repairs"] = list(outcome.repairs)
    return record


def dumps_line(record: dict[str, Any]) -> bytes:
    """A JSONL line (non-JSON detail values, if any, become strings)."""
    return dumps_json(record) + b"\n"


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Write `path` atomically: a temp file beside it, fsync, then `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(OSError):  # best effort: some filesystems have no modes
            os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    """The old file's permission bits, else 0666 less the process umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        pass
    mask = os.umask(0)  # the only portable way to read it: set and restore at once
    os.umask(mask)
    return 0o666 & ~mask


@dataclass(frozen=True, slots=True)
class Written:
    """What `write_outputs` wrote: lines per file and the summary."""

    results: int
    failures: int
    summary: Summary


def write_outputs(job: Job[Any], results: Path, failures: Path, summary_path: Path) -> Written:
    """Stream every final outcome of `job` into the results and failures files, and save the
    summary. Keys still unfinished are not written (the summary counts them)."""
    n_results = n_failures = 0
    with atomic_writer(results) as out, atomic_writer(failures) as bad:
        for outcome in job.outcomes():
            line = dumps_line(outcome_record(outcome))
            out.write(line)
            n_results += 1
            if not outcome.ok:
                bad.write(line)
                n_failures += 1
    summary = job.summary()
    with atomic_writer(summary_path) as fh:
        fh.write(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    return Written(n_results, n_failures, summary)


def format_failures(
    outcomes: Iterable[Outcome[Any]], *, limit: int | None = 20, include_ok: bool = False
) -> str:
    """A plain-text table of outcomes, one row per key: key, kind, attempts, message.

    Failures only unless `include_ok`; at most `limit` rows, then a count of the rest.
    """
    rows: list[tuple[str, str, str, str]] = []
    more = 0
    for o in outcomes:
        if o.ok and not include_ok:
            continue
        if limit is not None and len(rows) >= limit:
            more += 1
            continue
        if o.ok:
            what = "repairs: " + ", ".join(o.repairs) if o.repairs else ""
            rows.append((str(o.key), "ok", str(o.attempts), what))
        else:
            assert o.failure is not None
            rows.append((str(o.key), o.failure.kind.value, str(o.attempts), o.failure.message))
    if not rows:
        return "no failures" if not include_ok else "no outcomes"
    lines = _key_table(rows, "message", 110)
    if more:
        lines.append(f"... and {more} more (see the failures file, or `structbatch results --failed`)")
    return "\n".join(lines)


def format_outcomes(outcomes: Iterable[Outcome[Any]], *, limit: int | None = None) -> str:
    """`results --table`: one row per key with its value (compact JSON) or its failure."""
    rows: list[tuple[str, str, str, str]] = []
    more = 0
    for o in outcomes:
        if limit is not None and len(rows) >= limit:
            more += 1
            continue
        if o.ok:
            text = dumps_json(json_value(o.value)).decode()
            rows.append((str(o.key), "ok", str(o.attempts), text))
        else:
            assert o.failure is not None
            rows.append((str(o.key), o.failure.kind.value, str(o.attempts), o.failure.message))
    if not rows:
        return "no outcomes"
    lines = _key_table(rows, "value / message", 120)
    if more:
        lines.append(f"... and {more} more")
    return "\n".join(lines)


def _key_table(rows: list[tuple[str, str, str, str]], last: str, text_width: int) -> list[str]:
    """The key / result / attempts / text table both listings print: keys cut at 40 columns,
    the last column flattened to one line of at most `text_width` characters."""
    width = min(max(len("key"), *(len(r[0]) for r in rows)), 40)
    kind_w = max(len("result"), *(len(r[1]) for r in rows))
    lines = [f"{'key':<{width}}  {'result':<{kind_w}}  att  {last}", "-" * (width + kind_w + 10 + len(last))]
    for key, kind, attempts, text in rows:
        shown = key if len(key) <= width else key[: width - 1] + "…"
        lines.append(f"{shown:<{width}}  {kind:<{kind_w}}  {attempts:>3}  {_one_line(text, text_width)}")
    return lines


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
