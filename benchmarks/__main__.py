"""`python -m benchmarks [--quick] [--only parse,shard,add,e2e,memory] [--e2e-n N]`: ratios against baselines.

Every figure that matters is a ratio measured in the same run (these machines are shared and
noisy). Prints a table and writes `benchmarks/results/latest.json`.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from models import Invoice  # type: ignore[import-not-found]  # noqa: E402

import structbatch as sb  # noqa: E402

from . import _adds, _data, _shapes  # noqa: E402
from ._e2e import bench_e2e  # noqa: E402
from ._serve import Server  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = {
    "parse_tool_vs_raw": (">=", 0.8),
    "parse_tool_vs_raw_orders": (">=", 0.8),
    "parse_vs_raw_worst_shape": (">=", 0.8),
    "parse_text_cost_vs_tool": ("<=", 3.0),
    "shard_vs_json_dumps": (">=", 0.5),
    "e2e_vs_bare_sdk": ("<=", 1.5),
    "collect_peak_rss_mb": ("<", 200.0),
    "add_many_vs_floor": (">=", 0.5),
    "add_loop_vs_floor": (">=", 0.25),
}


def best_of(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Best wall time of `repeat` runs of `fn` (which returns the item count)."""
    best = float("inf")
    n = 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - t)
    return best, n


# ---- parse ---------------------------------------------------------------------------------------

#: lines per segment: every variant parses segment k before any parses segment k+1 (see `interleaved`)
SEGMENT = 2_000

#: a parse variant: (path, first byte, end byte) of a segment of whole lines -> items parsed
Reader = Callable[[Path, int, int], int]


def segments(path: Path, size: int) -> list[tuple[int, int]]:
    """Byte ranges of the consecutive `size`-line segments of a JSONL file."""
    bounds, pos = [0], 0
    with path.open("rb") as f:
        for i, line in enumerate(f, 1):
            pos += len(line)
            if i % size == 0:
                bounds.append(pos)
    if bounds[-1] != pos:
        bounds.append(pos)
    return list(itertools.pairwise(bounds))


def segment_lines(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The lines of one segment, streamed from the file (one segment in memory at a time)."""
    with path.open("rb") as f:
        f.seek(start)
        yield from io.BytesIO(f.read(end - start))


def interleaved(variants: dict[str, tuple[Path, Reader]], passes: int) -> dict[str, list[float]]:
    """Seconds each variant takes to read its whole file, once per pass.

    The variants take turns segment by segment (in a rotating order), so each pass of each variant
    is spread over the same minute of machine time: a shared VM whose speed drifts by ±30% from
    one second to the next then slows every variant alike, where timing whole files one after
    the other would credit a lucky second to one of them and skew the ratio.
    """
    bounds = {path: segments(path, SEGMENT) for path, _ in variants.values()}
    count = min(len(b) for b in bounds.values())
    names = list(variants)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(passes):
        total = dict.fromkeys(names, 0.0)
        for k in range(count):
            for name in names[k % len(names) :] + names[: k % len(names)]:
                path, read = variants[name]
                start, end = bounds[path][k]
                t = time.perf_counter()
                read(path, start, end)
                total[name] += time.perf_counter() - t
        for name in names:
            seconds[name].append(total[name])
    return seconds


def bench_parse(n: int, passes: int) -> dict[str, Any]:
    spec = sb.compile(Invoice)
    files = {
        kind: _data.write_file(DATA / f"{kind}-{n}.jsonl", kind, n) for kind in ("tool", "text", "mixed")
    }

    def raw_limit(path: Path, start: int, end: int) -> int:
        c = 0
        for line in segment_lines(path, start, end):
            d = orjson.loads(line)
            for block in d["result"]["message"]["content"]:
                if block["type"] == "tool_use":
                    Invoice.model_validate(block["input"])
                    c += 1
        return c

    def ours(path: Path, start: int, end: int) -> int:
        c = 0
        for line in segment_lines(path, start, end):
            spec.parse(line)
            c += 1
        return c

    from instructor.batch.processor import BatchProcessor

    proc = BatchProcessor("anthropic/claude-haiku-4-5", Invoice)

    def instructor(path: Path, start: int, end: int) -> int:
        with path.open("rb") as f:
            f.seek(start)
            return len(proc.parse_results(f.read(end - start).decode()))

    from anthropic.types.messages import MessageBatchIndividualResponse

    def sdk_typed(path: Path, start: int, end: int) -> int:
        c = 0
        for line in segment_lines(path, start, end):
            r = MessageBatchIndividualResponse.model_validate_json(line)
            if r.result.type == "succeeded":
                for block in r.result.message.content:
                    if block.type == "tool_use":
                        Invoice.model_validate(block.input)
                        c += 1
        return c

    first, end = segments(files["tool"], SEGMENT)[0]
    for name, read in (("raw", raw_limit), ("ours", ours), ("instructor", instructor), ("sdk", sdk_typed)):
        got = read(files["tool"], first, end)  # every reader reads every line (and warms up)
        assert got == min(n, SEGMENT), f"{name} read {got} of {min(n, SEGMENT)} lines"
    variants: dict[str, tuple[Path, Reader]] = {
        "raw limit (orjson + model_validate)": (files["tool"], raw_limit),
        "structbatch spec.parse": (files["tool"], ours),
        "instructor BatchProcessor.parse_results": (files["tool"], instructor),
        "SDK MessageBatchIndividualResponse": (files["tool"], sdk_typed),
        "structbatch spec.parse (text lines)": (files["text"], ours),
        "structbatch spec.parse (mixed lines)": (files["mixed"], ours),
    }
    seconds = interleaved(variants, passes)

    def ratio(a: str, b: str) -> float:
        """The median over passes of a's time over b's (each pass's two times are paired)."""
        return statistics.median(x / y for x, y in zip(seconds[a], seconds[b], strict=True))

    raw, tool = "raw limit (orjson + model_validate)", "structbatch spec.parse"
    rows: dict[str, Any] = {}
    for name, secs in seconds.items():
        median = statistics.median(secs)
        rows[name] = {"seconds": median, "lines": n, "lines_per_s": n / median}
    ratios = {
        "parse_tool_vs_raw": ratio(raw, tool),
        "parse_text_cost_vs_tool": ratio("structbatch spec.parse (text lines)", tool),
        "parse_mixed_cost_vs_tool": ratio("structbatch spec.parse (mixed lines)", tool),
        "instructor_vs_raw": ratio(raw, "instructor BatchProcessor.parse_results"),
        "sdk_typed_vs_raw": ratio(raw, "SDK MessageBatchIndividualResponse"),
    }
    passes_tool_vs_raw = [r / t for r, t in zip(seconds[raw], seconds[tool], strict=True)]
    # The model shapes (`_shapes`): each against its own raw limit, seven paired rounds on the
    # same segments, as the parse target is judged ("any model shape", not only Invoice).
    shapes = _shapes.measure(DATA, max(n // 5, SEGMENT), 7, interleaved, segment_lines)
    for name, row in shapes.items():
        rows[f"shape {name}: raw limit / spec.parse"] = row
        ratios[f"parse_vs_raw_{name}"] = row["ratio"]
    ratios["parse_tool_vs_raw_orders"] = shapes["order"]["ratio"]
    ratios["parse_vs_raw_worst_shape"] = min(row["ratio"] for row in shapes.values())
    return {"rows": rows, "ratios": ratios, "passes_tool_vs_raw": passes_tool_vs_raw, "shapes": shapes}


# ---- build + shard -----------------------------------------------------------------------------


def bench_shard(n: int, repeat: int) -> dict[str, Any]:
    from structbatch import _batching as batching

    spec = sb.compile(Invoice)
    texts = [f"Invoice {i}: Vendor {i % 97} GmbH, 3 widgets at 12.50 EUR, total 37.50 EUR" for i in range(n)]
    prebuilt = [spec.params(t, model="claude-haiku-4-5", max_tokens=1024) for t in texts[: min(n, 200_000)]]
    scale = n / len(prebuilt)

    def baseline() -> int:
        for p in prebuilt:
            json.dumps(p)
        return len(prebuilt)

    def ours() -> int:
        limits = batching.Limits()
        sizes = []
        for i, t in enumerate(texts):
            params = spec.params(t, model="claude-haiku-4-5", max_tokens=1024)
            body = batching.encode_params(params)
            sizes.append((i, batching.entry_size(f"k{i}", body)))
        return sum(len(g) for g in batching.shard(sizes, limits))

    base_s, _ = best_of(baseline, repeat)
    base_s *= scale
    ours_s, count = best_of(ours, max(1, repeat - 1))
    assert count == n
    return {
        "rows": {
            "json.dumps of prebuilt params": {"seconds": base_s, "requests_per_s": n / base_s},
            "structbatch params + encode + shard": {"seconds": ours_s, "requests_per_s": n / ours_s},
        },
        "ratios": {"shard_vs_json_dumps": base_s / ours_s},
    }


# ---- end to end ---------------------------------------------------------------------------------


def _client(url: str) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=url, api_key="sk-emu-bench0000", max_retries=2, timeout=600)


# ---- memory -------------------------------------------------------------------------------------

_SUBMIT_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[4])
import structbatch as sb, anthropic
from models import Invoice
n, url, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
client = anthropic.Anthropic(base_url=url, api_key="sk-emu-bench0000", timeout=600)
job = sb.Job(Invoice, model="claude-haiku-4-5", store=store, client=client, preflight=False,
             poll=sb.PollPolicy(0.05, 1.5, 0.5))
job.add_many({"key": f"k{i}", "messages": "x"} for i in range(n))
job.submit(); job.wait()
"""

# Collection runs in a fresh process, so its peak RSS is collection's own (ru_maxrss never resets).
# VmHWM (this process's own peak RSS) rather than ru_maxrss, which Linux carries over from the
# parent across fork + exec and so would report the benchmark driver's peak.
_COLLECT_CHILD = r"""
import sys, time
import structbatch as sb, anthropic
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
url, store = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(base_url=url, api_key="sk-emu-bench0000", timeout=600)
job = sb.Job.open(store, client=client)
before = hwm_kb()
t = time.perf_counter(); job.collect(); secs = time.perf_counter() - t
peak = hwm_kb()
print(before, peak, secs, job.summary().ok)
"""


def bench_memory(sizes_mb: Iterable[int], items: int = 20) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    with Server("--big", str(items)) as server, tempfile.TemporaryDirectory() as tmp:
        probe = None
        for mb in sizes_mb:
            if probe is None:  # size of one result line, measured on a 1,000-request batch
                store = f"{tmp}/probe.db"
                subprocess.run(
                    [sys.executable, "-c", _SUBMIT_CHILD, "1000", server.url, store, str(ROOT / "examples")],
                    check=True,
                )
                batch = _client(server.url).messages.batches.list(limit=1).data[0]
                probe = _results_size(server.url, batch.id) * 1e6 / 1000
            n = max(1000, int(mb * 1e6 / probe))
            store = f"{tmp}/m{mb}.db"
            subprocess.run(
                [sys.executable, "-c", _SUBMIT_CHILD, str(n), server.url, store, str(ROOT / "examples")],
                check=True,
            )
            batch = _client(server.url).messages.batches.list(limit=1).data[0]
            results_mb = _results_size(server.url, batch.id)
            out = subprocess.run(
                [sys.executable, "-c", _COLLECT_CHILD, server.url, store],
                capture_output=True,
                text=True,
                check=True,
            )
            before_kb, peak_kb, secs, ok = out.stdout.split()
            rows[f"collect {results_mb:.0f} MB of results"] = {
                "requests": n,
                "results_mb": results_mb,
                "rss_after_open_mb": int(before_kb) / 1024,
                "peak_rss_mb": int(peak_kb) / 1024,
                "collect_seconds": float(secs),
                "ok": int(ok),
            }
    peaks = [r["peak_rss_mb"] for r in rows.values()]
    return {
        "rows": rows,
        "ratios": {"collect_peak_rss_mb": max(peaks), "rss_growth_first_to_last_mb": peaks[-1] - peaks[0]},
    }


def _results_size(url: str, batch_id: str) -> float:
    client = _client(url)
    total = 0
    with client.messages.batches.with_streaming_response.results(batch_id) as resp:
        for chunk in resp.iter_bytes():
            total += len(chunk)
    return total / 1e6


# ---- report -------------------------------------------------------------------------------------


def _verdict(name: str, value: float) -> str:
    if name not in TARGETS:
        return ""
    op, target = TARGETS[name]
    ok = {">=": value >= target, "<=": value <= target, "<": value < target}[op]
    return f"{'PASS' if ok else 'MISS'} (target {op} {target})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not for the record)")
    ap.add_argument("--only", default="parse,shard,add,e2e,memory")
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    ap.add_argument(
        "--e2e-n", type=int, default=None, help="inputs end to end (1,000,000; 2,000 with --quick)"
    )
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    q = args.quick
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "quick": q,
    }
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "parse": lambda: bench_parse(10_000 if q else 100_000, 2 if q else 3),
        "shard": lambda: bench_shard(50_000 if q else 1_000_000, 2),
        "add": lambda: _adds.bench_add(Invoice, 10_000 if q else 100_000),
        "e2e": lambda: bench_e2e(args.e2e_n or (2_000 if q else 1_000_000)),
        "memory": lambda: bench_memory([16, 32] if q else [64, 128, 256]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for section, run in runs.items():
        if section not in only:
            continue
        report[section] = run()
        args.out.write_text(json.dumps(report, indent=2))
        print(f"\n== {section}", flush=True)
        for name, row in report[section]["rows"].items():
            cells = ", ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
            print(f"  {name:<44} {cells}")
        for name, value in report[section]["ratios"].items():
            print(f"  ratio {name:<38} {value:8.3f}  {_verdict(name, value)}", flush=True)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    misses = [
        n
        for s in report.values()
        if isinstance(s, dict)
        for n, v in s.get("ratios", {}).items()
        if "MISS" in _verdict(n, v)
    ]
    if misses:
        print("missed targets: " + ", ".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
