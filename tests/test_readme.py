"""The README's first Python example runs as printed (against the emulator it starts itself)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = (ROOT / "README.md").read_text().splitlines()[:8]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_readme_typed_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    example = re.search(r"## A typed extraction in 20 lines\n\n```python\n(.*?)```", text, re.S)
    assert example is not None
    code = example.group(1)
    assert len(code.strip().splitlines()) <= 22
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "2 keys: 2 ok, 0 failed" in done.stdout
    assert "pancakes title=" in done.stdout and "tea title=" in done.stdout
