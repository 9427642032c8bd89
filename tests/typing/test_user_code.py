"""User code type-checks against the dev install, from outside the checkout, with `mypy --strict`.

The package's own `mypy --strict structbatch` cannot see what a user sees: whether the installed
package is visible to mypy at all (setuptools' default editable install is not), and whether types
survive into code that only imports `structbatch`. So the README's ```python blocks, the files in
`examples/` and `user_script.py` (the typed-API contract) are copied into a temporary directory
outside the repository and checked there in one mypy run, with mypy's defaults plus `--strict`
and no project config.

README blocks are snippets: names a block uses without defining (`rows`, `save`, ...) come from
`PRELUDE`, typed so that the API's types are still checked (`save` takes a model, so passing an
un-narrowed `Person | None` fails).
"""

from __future__ import annotations

import ast
import builtins
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: what a README snippet may take as given, one definition per free name
PRELUDE: dict[str, str] = {
    "rows": "rows: list[tuple[str, str]] = []",
    "save": "def save(key: str | None, value: BaseModel) -> None: ...",
    "log": (
        "def log(key: str | None, kind: sb.FailureKind, message: str, details: Mapping[str, Any]) -> None: ..."
    ),
    "message_or_result_line": 'message_or_result_line = b\'{"custom_id": "a", "result": {"type": "expired"}}\'',
    "Recipe": (
        "class Recipe(BaseModel):\n    title: str\n    ingredients: list[str]\n    cook_time_minutes: int"
    ),
    "sb": "import structbatch as sb",
}
_PRELUDE_IMPORTS = (
    "from collections.abc import Mapping\nfrom typing import Any\n\nfrom pydantic import BaseModel\n"
)


@dataclass(frozen=True)
class Source:
    """One file to check: its name in the temp dir, its text, and how to point back at the original."""

    name: str
    text: str
    origin: str
    offset: int = 0  # origin line = checked line + offset


def readme_blocks() -> Iterator[Source]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i + 1
            end = next(j for j in range(start, len(lines)) if lines[j].strip() == "```")
            body = "\n".join(lines[start:end]) + "\n"
            prelude = _prelude_for(body)
            yield Source(
                f"readme_line_{start + 1}.py",
                prelude + body,
                f"README.md:{start + 1}",
                offset=start - prelude.count("\n"),
            )
            i = end
        i += 1


def _prelude_for(body: str) -> str:
    """Definitions for the names `body` reads but never binds (only those, so nothing shadows)."""
    tree = ast.parse(body)
    bound: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    free = sorted(loaded - bound - set(dir(builtins)))
    unknown = [name for name in free if name not in PRELUDE]
    assert not unknown, f"a README block uses {unknown} without defining them: define them or add to PRELUDE"
    if not free:
        return ""
    return _PRELUDE_IMPORTS + "\n".join(PRELUDE[name] for name in free) + "\n\n"


def example_files() -> Iterator[Source]:
    for path in sorted((ROOT / "examples").glob("*.py")):
        yield Source(path.name, path.read_text(encoding="utf-8"), f"examples/{path.name}")


SOURCES: list[Source] = [
    Source(
        "user_script.py", (HERE / "user_script.py").read_text(encoding="utf-8"), "tests/typing/user_script.py"
    ),
    *example_files(),
    *readme_blocks(),
]


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One `mypy --strict` run over every source; its error lines per source, pointing at the original."""
    work = tmp_path_factory.mktemp("user_code")
    assert ROOT not in work.parents, "the check must run outside the checkout"
    for source in SOURCES:
        (work / source.name).write_text(source.text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(work / ".mypy_cache"), "--no-pretty"]
        + [s.name for s in SOURCES],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    by_name = {s.name: s for s in SOURCES}
    errors: dict[str, list[str]] = {s.name: [] for s in SOURCES}
    for line in done.stdout.splitlines():
        m = re.match(r"(?P<file>[^:]+\.py):(?P<line>\d+): (?P<rest>error: .*)", line)
        if m is None or m["file"] not in by_name:
            continue  # notes, and errors inside installed packages (mypy reports none)
        source = by_name[m["file"]]
        where = int(m["line"]) + source.offset
        errors[source.name].append(f"{source.origin.split(':')[0]}:{where}: {m['rest']}")
    assert not [ln for ln in done.stdout.splitlines() if "import-not-found" in ln and "structbatch" in ln], (
        "mypy cannot see structbatch from the dev install (see the Makefile's editable_mode)"
    )
    return errors


@pytest.mark.parametrize("source", SOURCES, ids=[s.origin for s in SOURCES])
def test_user_code_type_checks_strictly(source: Source, mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors[source.name] == [], "\n".join(mypy_errors[source.name])
