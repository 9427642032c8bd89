"""`structbatch demo` from a built wheel, installed in a fresh venv, run in an empty directory.

The wheel is built from a copy of the source tree (so no build/ or egg-info lands in the
checkout) with an isolated build, as `pip install` would. The fresh venv gets the wheel with
`--no-deps` and reaches the dev venv's installed dependencies through a `.pth` line (a plain
path entry: the dev venv's own .pth files, including the editable install of structbatch, are not
processed, so the wheel's copy is the one imported). Nothing is downloaded but the build backend.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.db"
)


def _run(*command: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None and not (ROOT / "pyproject.toml").exists():
        pytest.skip("needs the source tree")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", src, cwd=work)
    (built,) = (work / "dist").glob("structbatch-*.whl")
    return built


def test_the_wheel_ships_the_demo_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "structbatch" / "demo_data").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"structbatch/{path.relative_to(ROOT / 'structbatch').as_posix()}" in names


def test_demo_runs_from_the_wheel_in_an_empty_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bin_dir / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The dev venv's packages (anthropic, pydantic, rich, ...) as a plain path entry, after the
    # fresh venv's own site-packages, where the wheel is installed.
    (site / "devdeps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheel,
        cwd=tmp_path,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run(python, "-c", "import structbatch; print(structbatch.__file__)", cwd=empty).stdout
    assert where.strip().startswith(str(site)), where  # the wheel's copy, not the checkout's
    done = subprocess.run(
        [bin_dir / "structbatch", "demo", "--json", "-q"],
        cwd=empty,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    doc = json.loads(done.stdout)
    assert doc["as_planned"] is True and doc["counts"]["ok"] == 137
    assert (empty / "out" / "demo" / "summary.json").exists()
    assert sorted(p.name for p in empty.iterdir()) == ["out"]  # nothing else written to the directory
