"""The benchmark harness's own bookkeeping (not timings: speed is measured by `make bench`).

A parse variant that skipped or re-read lines would make its ratio meaningless, so the segment
split and the turn-taking are checked here on a small generated file.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import _data
from benchmarks.__main__ import interleaved, segment_lines, segments


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
