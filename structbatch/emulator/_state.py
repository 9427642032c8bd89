"""Keeping an emulator's batches across restarts (`structbatch emulator --state FILE`).

The state is two things side by side: `FILE`, a small JSON index (batch order and the virtual
time last seen), and `FILE.d/`, one directory per batch with its spilled requests, its results
once ended, and `meta.json` (everything `_Batch` holds). Each write goes to a temporary file and
is renamed into place, so a kill at any moment leaves the previous or the next state, never half
of one. A job interrupted under an emulator can then `resume` against the restarted emulator and
find its batches, their results, and ids that do not collide with new ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from ._wire import dumps, loads

STATE_VERSION: Final = 1


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class StateFile:
    """Where one emulator's state lives; `directory` holds the batches."""

    path: Path

    @property
    def directory(self) -> Path:
        return self.path.with_name(self.path.name + ".d")

    def load(self) -> tuple[list[str], datetime | None]:
        """The batch ids in creation order and the virtual time last saved (nothing when new)."""
        if not self.path.exists():
            return [], None
        index = loads(self.path.read_bytes())
        if not isinstance(index, dict) or index.get("version") != STATE_VERSION:
            raise ValueError(
                f"{self.path} is not a structbatch emulator state file (version {STATE_VERSION})"
            )
        saved = index.get("now")
        return [str(i) for i in index.get("order", [])], datetime.fromisoformat(saved) if saved else None

    def save_index(self, order: list[str], now: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.path, dumps({"version": STATE_VERSION, "now": now.isoformat(), "order": order}))

    def save_batch(self, directory: Path, meta: dict[str, Any]) -> None:
        _write_atomic(directory / "meta.json", dumps(meta))

    @staticmethod
    def load_batch(directory: Path) -> dict[str, Any] | None:
        meta = directory / "meta.json"
        if not meta.exists():
            return None  # created but never committed: the create's response was never sent
        data = loads(meta.read_bytes())
        return data if isinstance(data, dict) else None
