"""`import structbatch`, compiling, parsing and the read-only CLI never load the anthropic SDK,
and `structbatch --help` loads nothing but the standard library and the CLI's own leaves.

The SDK (and its httpx, shipped as `httpx2`) costs 2-4 s of import on this machine; only sending
or polling needs it, so it loads when a client is first needed. Each check runs in a fresh
interpreter. The library checks block the SDK outright, so a failure's traceback names the import
that pulled it in; the CLI checks read the interpreter's own import log (`PYTHONPROFILEIMPORTTIME`)
of the installed `structbatch` script.

How cheap `--help` is, is asserted by what it imports (a fixed set of modules), not by a clock:
wall time on a shared machine is noise. The figures (about 0.05 s for `--help`, against 0.25 s
while it imported the library) are in the README.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import structbatch as sb
from structbatch.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("structbatch")
#: The SDK's top packages: importing any of them means the SDK was loaded.
SDK_PACKAGES = ("anthropic", "httpx", "httpx2")

_BLOCK_SDK = """
import sys

class NoSDK:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("anthropic", "httpx", "httpx2"):
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
assert not {"anthropic", "httpx", "httpx2"} & set(sys.modules)
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
        if name in SDK_PACKAGES:
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


#: Everything of ours `structbatch --help` may import: the parser is built from these alone (the
#: commands, in `_clicmds`, load when one runs). Anything else it imports must be standard library.
HELP_MODULES = {
    "structbatch",
    "structbatch.cli",
    "structbatch._cliutil",
    "structbatch._lazy",
    "structbatch._errors",
    "structbatch._types",
    "structbatch.emulator",
    "structbatch.emulator._options",
}

_MODULES_AFTER = """
import json, sys
before = set(sys.modules)
from structbatch.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(set(sys.modules) - before)}), file=sys.stderr)
"""


def _modules_after(*argv: str) -> tuple[int, set[str]]:
    done = _python(_MODULES_AFTER, *argv)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["results"], ["bogus"]], ids=" ".join)
def test_help_and_usage_errors_import_only_the_standard_library(argv: list[str]) -> None:
    """`--help`, a subcommand's `--help` and a usage error build the parser and stop: no
    pydantic, no jsonschema, no engine, no SDK (they cost 0.2 s and 2-4 s)."""
    code, modules = _modules_after(*argv)
    assert code == (0 if "--help" in argv else 2)
    ours = {m for m in modules if m.split(".")[0] == "structbatch"}
    assert ours <= HELP_MODULES, f"--help imported {sorted(ours - HELP_MODULES)}"
    foreign = sorted(m for m in modules if m.split(".")[0] not in {*sys.stdlib_module_names, "structbatch"})
    assert not foreign, f"`structbatch {' '.join(argv)}` imported non-stdlib modules: {foreign}"


def test_a_command_does_load_the_library() -> None:
    """The check above is not vacuous: running a command imports its module and the library."""
    code, modules = _modules_after("schema", "check", str(ROOT / "schemas" / "recipe.json"))
    assert code == 0
    assert {"structbatch._clicmds", "structbatch._schema", "pydantic"} <= modules
    assert not set(SDK_PACKAGES) & modules


@pytest.mark.parametrize("command", ["results", "status --offline"])
def test_reading_a_store_never_imports_the_parser(command: str, finished_store: Path) -> None:
    """Reading outcomes decodes stored values: the parser and the collector (about a quarter of
    the library's import) load only when a job polls or collects."""
    code, modules = _modules_after(*command.split(), str(finished_store))
    assert code == 0
    assert "structbatch._job" in modules
    assert not {"structbatch._collect", "structbatch._parse", *SDK_PACKAGES} & modules


def test_import_structbatch_is_lazy() -> None:
    """`import structbatch` costs the standard library only; each name loads on first use, and
    is the same object the private module defines."""
    done = _python(
        "import sys, structbatch as sb\n"
        "print(sorted(m for m in sys.modules if m.startswith('structbatch')))\n"
        "from structbatch._job import Job\n"
        "from structbatch._schema import compile\n"
        "assert sb.Job is Job and sb.compile is compile and sb.Mode is sb.Job.__init__.__globals__['Mode']\n"
        "missing = [name for name in sb.__all__ if not hasattr(sb, name)]\n"
        "assert not missing, missing\n"
        "assert set(sb.__all__) <= set(dir(sb))\n"
        "try:\n    sb.Jbo\nexcept AttributeError as exc:\n    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    first, error = done.stdout.splitlines()
    assert first == "['structbatch', 'structbatch._lazy']"  # the loader itself is standard library only
    assert error == "module 'structbatch' has no attribute 'Jbo'"
