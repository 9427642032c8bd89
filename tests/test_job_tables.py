"""`Job.to_arrow/to_pandas/to_polars` and `job.run(progress=True)`: the thin Job methods over
`_export` and `_progress`, through the real SDK and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.jobsupport import fast_job

import structbatch as sb
from structbatch.emulator import Emulator


def _finished_job(emu: Emulator, path: Path, n: int = 5) -> sb.Job[Any]:
    job = fast_job(emu, path)
    job.add_many((f"k{i}", f"person {i}") for i in range(n))
    return job


def test_tables_have_one_row_per_key_with_value_columns(tmp_path: Path) -> None:
    with Emulator(latency=0) as emu:
        job = _finished_job(emu, tmp_path / "t.db")
        job.run()
        table = job.to_arrow()
        assert table.num_rows == 5
        assert table.column("key").to_pylist() == [f"k{i}" for i in range(5)]
        assert table.column("ok").to_pylist() == [True] * 5
        by_key = {o.key: o.value for o in job.outcomes() if o.ok}
        assert table.column("name").to_pylist() == [by_key[f"k{i}"].name for i in range(5)]
        assert all(c is not None and c > 0 for c in table.column("cost").to_pylist())
        frame = job.to_pandas()
        assert list(frame["key"]) == [f"k{i}" for i in range(5)]
        polars_frame = job.to_polars()
        assert polars_frame["age"].to_list() == table.column("age").to_pylist()
        job.close()


def test_run_with_progress_draws_and_restores_the_callback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Emulator(latency=0) as emu:
        job = _finished_job(emu, tmp_path / "p.db", n=3)
        summary = job.run(progress=True)
        assert summary.ok == 3
        assert job.on_progress is None  # the display was only for this run
        err = capsys.readouterr().err
        assert "3" in err and "ok" in err
        job.close()
