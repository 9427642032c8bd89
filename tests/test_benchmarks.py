"""The benchmark harness's own bookkeeping (not timings: speed is measured by `make bench`).

A parse variant that skipped or re-read lines would make its ratio meaningless, so the segment
split and the turn-taking are checked here on a small generated file. The end-to-end benchmark
runs for real on a few inputs: every figure is reported, every input ended ok on both sides,
and a side whose inputs did not all end ok is refused instead of reported.
"""

from __future__ import annotations

from pathlib import Path

import anthropic
import pytest
from anthropic.types import MessageParam
from anthropic.types.messages.batch_create_params import Request

from benchmarks import _data
from benchmarks.__main__ import interleaved, segment_lines, segments
from benchmarks._e2e import BARE, OURS, bench_e2e
from benchmarks._serve import Server


def test_segments_cover_every_line_once(tmp_path: Path) -> None:
    path = _data.write_file(tmp_path / "mixed.jsonl", "mixed", 25)
    bounds = segments(path, 10)
    assert [end - start for start, end in bounds] == [
        sum(len(x) for x in path.read_bytes().splitlines(keepends=True)[i : i + 10]) for i in (0, 10, 20)
    ]
    lines = [line for start, end in bounds for line in segment_lines(path, start, end)]
    assert b"".join(lines) == path.read_bytes()
    assert len(lines) == 25


def test_interleaved_gives_every_variant_every_segment_each_pass(tmp_path: Path) -> None:
    tool = _data.write_file(tmp_path / "tool.jsonl", "tool", 4_500)
    text = _data.write_file(tmp_path / "text.jsonl", "text", 4_500)
    calls: dict[str, list[tuple[int, int]]] = {"a": [], "b": []}

    def reader(name: str) -> object:
        def read(path: Path, start: int, end: int) -> int:
            calls[name].append((start, end))
            return sum(1 for _ in segment_lines(path, start, end))

        return read

    seconds = interleaved({"a": (tool, reader("a")), "b": (text, reader("b"))}, passes=2)  # type: ignore[dict-item]
    assert {name: len(s) for name, s in seconds.items()} == {"a": 2, "b": 2}
    assert all(t > 0 for s in seconds.values() for t in s)
    assert calls["a"] == segments(tool, 2_000) * 2
    assert calls["b"] == segments(text, 2_000) * 2


def test_e2e_reports_every_figure_with_all_inputs_ok() -> None:
    n = 60
    report = bench_e2e(n)
    bare, ours = report["rows"][BARE], report["rows"][OURS]
    for row in (bare, ours):
        assert row["ended"] == row["ok"] == n
        assert row["batches"] == 1
        for figure in ("seconds", "peak_rss_mb", "emulator_peak_rss_mb", "request_mb"):
            assert row[figure] > 0, figure
    assert bare["create_seconds"] + bare["results_seconds"] == pytest.approx(bare["seconds"])
    split = ours["add_seconds"] + ours["run_seconds"] + ours["outcomes_seconds"]
    assert split == pytest.approx(ours["seconds"])
    assert min(ours["add_seconds"], ours["run_seconds"], ours["outcomes_seconds"]) > 0
    assert ours["store_mb"] > 0 and ours["store_mb_before_close"] > 0
    # the same params on both sides (ours adds a salt to each custom_id)
    assert ours["request_mb"] == pytest.approx(bare["request_mb"], rel=0.05)
    assert report["ratios"] == {
        "e2e_vs_bare_sdk": ours["seconds"] / bare["seconds"],
        "e2e_peak_rss_vs_bare_sdk": ours["peak_rss_mb"] / bare["peak_rss_mb"],
        "store_size_vs_request_bytes": ours["store_mb"] / ours["request_mb"],
    }


def test_e2e_refuses_a_side_whose_inputs_did_not_all_end_ok() -> None:
    with pytest.raises(AssertionError, match=r"e2e bare: 40 ended and \d+ ok of 40 inputs"):
        bench_e2e(40, rates="refusal=0.5")


def test_server_deletes_what_its_killed_emulator_spilled() -> None:
    with Server() as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="sk-emu-bench0000")
        message: MessageParam = {"role": "user", "content": "hi"}
        request: Request = {
            "custom_id": "a",
            "params": {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": [message]},
        }
        client.messages.batches.create(requests=[request])
        spilled = list(Path(server.workdir).rglob("requests.jsonl"))
        assert len(spilled) == 1
    assert not Path(server.workdir).exists()
