"""`import structbatch`, compiling, parsing and the read-only CLI never load the anthropic SDK.

The SDK costs 2-4 s of import on this machine; only sending or polling needs it, so it loads when
a client is first needed. Each check runs in a fresh interpreter. The library checks block the SDK
outright, so a failure's traceback names the import that pulled it in; the CLI checks read the
interpreter's own import log (`PYTHONPROFILEIMPORTTIME`) of the installed `structbatch` script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import structbatch as sb
from structbatch.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("structbatch")
SDK = "anthropic"

_BLOCK_SDK = """
import sys

class NoSDK:
    def find_spec(self, name, path=None, target=None):
        if name == "anthropic" or name.startswith("anthropic."):
            raise ImportError(f"the SDK was imported ({name})")
        return None

sys.meta_path.insert(0, NoSDK())
"""

_LIBRARY_USE = """
import structbatch as sb
import structbatch.cli
from pydantic import BaseModel

class Person(BaseModel):
    name: str
    age: int

spec = sb.compile(Person)
assert spec.parse_text('Sure: {"name": "Ada", "age": 36}').ok
assert spec.parse(b'{"custom_id": "a", "result": {"type": "expired"}}').kind == "expired"
assert sb.parse_text('{"name": "Ada", "age": 36}', Person).ok
schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
assert sb.parse_text('{"n": 1}', schema).ok
assert sb.compile(sys.argv[1]).parse_text("{}").kind is not None
assert "anthropic" not in sys.modules
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def _sdk_importers(done: subprocess.CompletedProcess[str]) -> list[str]:
    """Which modules imported the SDK's top package, from a `PYTHONPROFILEIMPORTTIME` log.

    The log lists a module after everything it imported, one indent deeper, so a module's importer
    is the next line indented less.
    """
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and not line.endswith("imported package"):
            name = line.rsplit("|", 1)[1]
            rows.append((len(name) - len(name.lstrip()), name.strip()))
    importers = []
    for i, (depth, name) in enumerate(rows):
        if name == SDK:
            importer = next((n for d, n in rows[i + 1 :] if d < depth), "the command itself")
            importers.append(importer)
    return importers


def _cli(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("ANTHROPIC_API_KEY", None)
    return subprocess.run(
        [str(SCRIPT), *map(str, argv)], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
    )


def test_import_compile_and_parse_never_load_the_sdk() -> None:
    done = _python(_BLOCK_SDK + _LIBRARY_USE, str(ROOT / "schemas" / "recipe.json"))
    assert done.returncode == 0, done.stderr


def test_the_sdk_loads_when_a_client_is_first_needed() -> None:
    """The blocker above is not vacuous: asking for a client does import the SDK."""
    done = _python(
        "import sys, structbatch as sb\n"
        "job = sb.Job({'type': 'object'}, model='claude-haiku-4-5', store=':memory:')\n"
        "before = 'anthropic' in sys.modules\n"
        "job.client\n"
        "print(before, 'anthropic' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


@pytest.fixture(scope="module")
def finished_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A job store with every key final, as `results` and `status --offline` read it."""
    store = tmp_path_factory.mktemp("import_cost") / "job.db"
    with Emulator(latency=0) as emu:
        job = sb.Job(
            ROOT / "schemas" / "recipe.json", model="claude-haiku-4-5", store=store, client=emu.client()
        )
        job.add_many([("a", "Pancakes: 2 eggs, flour; 15 minutes."), ("b", "Tea: steep 5 minutes.")])
        job.run()
        job.close()
    return store


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["schema", "check", "schemas/recipe.json"],
        ["results", "STORE"],
        ["status", "--offline", "STORE"],
    ],
    ids=["--help", "schema check", "results", "status --offline"],
)
def test_read_only_commands_never_load_the_sdk(argv: list[str], request: pytest.FixtureRequest) -> None:
    if "STORE" in argv:
        store = request.getfixturevalue("finished_store")
        argv = [str(store) if a == "STORE" else a for a in argv]
    done = _cli(*argv)
    assert done.returncode == 0, done.stderr[-3000:]
    importers = _sdk_importers(done)
    assert not importers, f"`structbatch {' '.join(argv)}` imported the SDK, from {importers}"


def test_help_starts_quickly() -> None:
    """A sanity bound, not a benchmark: with the SDK loaded this took 2-5 s, without it ~0.5 s."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, timeout=120, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
        assert done.returncode == 0
    assert best < 2.0, f"structbatch --help took {best:.2f} s at best of 3"
