"""`make demo` end to end: `structbatch demo` must exit 0 with exactly the planned outcomes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from structbatch._demo import DEMO_JOBS

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_as_planned(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("structbatch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "structbatch.cli"]
    out = tmp_path / "demo"
    done = subprocess.run(
        [*command, "demo", "--out", str(out), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    doc = json.loads(done.stdout)
    assert doc["as_planned"] is True
    assert doc["counts"] == {
        "ok": 137,
        "api_error": 1,
        "invalid": 2,
        "truncated": 2,
        "refusal": 1,
        "no_json": 1,
    }
    assert doc["seconds"] < 60
    jobs = doc["jobs"]
    assert jobs["recipes"]["failures"] == {
        "r021-pad-kra-pao": "api_error",
        "r044-pierogi-ruskie": "invalid",
        "the one with the really long story before the recipe, as every food blog requires by law apparently": "truncated",
        "blank-card": "refusal",
        "0007": "no_json",
    }
    assert jobs["invoices"]["failures"] == {"smudged": "invalid", "scan 2024-03-05 (2)": "truncated"}
    # Expired, overloaded and invalid-then-re-asked keys all recover on their second attempt.
    assert jobs["recipes"]["recovered"] == {
        "r007-spaghetti-carbonara": 2,
        "r013-fruit-scones": 2,
        "r030-cacio-e-pepe": 2,
    }
    assert jobs["invoices"]["recovered"] == {"inv-017": 2, "inv-031": 2, "inv-042": 2}
    # The emulator's answers in prompt mode came in every messy style, and all were parsed.
    styles = doc["answer_styles"]
    assert {"prose preamble", "```json fence", "<json> tags", "bare JSON", "tool_use block"} <= set(styles)
    # Outputs: one line per key, failures only in the failures file, the summaries saved.
    for demo in DEMO_JOBS:
        results = (out / demo.name / "results.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(results) == sum(demo.expected.values())
        failures = (out / demo.name / "failures.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(failures) == sum(n for k, n in demo.expected.items() if k != "ok")
        summary = json.loads((out / demo.name / "summary.json").read_text(encoding="utf-8"))
        assert summary["counts"] == dict(demo.expected)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["as_planned"] is True


def test_the_packaged_demo_data_is_a_true_copy_of_the_examples() -> None:
    """`structbatch/demo_data/` ships with the wheel; it must not drift from the examples."""
    from structbatch._demo import DEMO_DATA

    copies = [
        p
        for p in DEMO_DATA.rglob("*")
        if p.is_file() and p.name != "README.md" and "__pycache__" not in p.parts
    ]
    assert len(copies) >= 6
    for copy in copies:
        original = ROOT / copy.relative_to(DEMO_DATA)
        assert copy.read_bytes() == original.read_bytes(), f"update the copy: cp {original} {copy}"
    for demo in DEMO_JOBS:  # every job the demo runs is in the package
        assert (DEMO_DATA / "examples" / "jobs" / f"{demo.name}.toml").is_file()


def test_the_demo_runs_from_any_directory(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("structbatch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "structbatch.cli"]
    done = subprocess.run(
        [*command, "demo", "--json", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["as_planned"] is True
    assert (tmp_path / "out" / "demo" / "recipes" / "results.jsonl").exists()
