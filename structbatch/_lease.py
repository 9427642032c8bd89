"""The driver lease: one process at a time creates, cancels or collects a job's batches.

The lease is one row in the store (holder token, pid, host, since, renewed). Every driving call
(`submit`, `wait`, `collect`, `cancel`, `run`, and a settings change) holds it for its duration,
re-entrantly; reading calls (`outcomes`, `summary`, `batches`) never touch it and never wait.

- Taking it is one `BEGIN IMMEDIATE` transaction: read the row, write ours only if it is free,
  ours, or its holder is dead. SQLite serialises those transactions across processes.
- A holder is dead when it is on this host and its pid is gone (or a zombie), or when it has not
  renewed the lease for `STALE` seconds (a holder on another host, or a reused pid). A live holder
  renews it every `RENEW` seconds from a small thread with its own connection, so a long create
  upload or a long sleep between polls never looks dead.
- A holder that finds its lease taken over (it was paused longer than `STALE`) stops at its next
  `check()` — which the engine calls right before each create and each recorded chunk — with
  `JobBusyError`, rather than act alongside the new driver.
- Without `wait`, a busy lease raises `JobBusyError` at once, naming the holder; with `wait=True`
  the caller polls until it is free (or `wait` seconds, if a number).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

from ._errors import JobBusyError
from ._jobtypes import LeaseRow
from ._store import Store

log = logging.getLogger("structbatch")

STALE = 60.0  # seconds without renewal after which a holder counts as dead
RENEW = 5.0  # seconds between renewals by a live holder
_POLL = 0.2  # seconds between attempts while waiting for a busy lease


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def describe(row: LeaseRow) -> str:
    since = dt.datetime.fromtimestamp(row.since).astimezone().isoformat(timespec="seconds")
    return f"pid {row.pid} on {row.host}, since {since}"


class Lease:
    """This process's claim on one store's driver lease (see the module docstring)."""

    def __init__(
        self, store: Store, *, wait: bool | float = False, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.store = store
        self.wait = wait
        self._sleep = sleep
        self._token = secrets.token_hex(8)
        self._depth = 0
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lease for the `with` block (re-entrant)."""
        if self._depth == 0:
            self._acquire()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._release()

    def check(self) -> None:
        """Raise `JobBusyError` if another process took the lease over from us."""
        if self._depth == 0:
            return
        current = self.store.lease()
        if self._lost.is_set() or current is None or current.token != self._token:
            self._lost.set()
            holder = f" ({describe(current)})" if current is not None else ""
            raise JobBusyError(
                f"{self.store.path}: this process lost the job's driver lease to another driver{holder} "
                f"(not renewed for over {STALE:.0f}s); stopping so that only one drives the job"
            )

    # -- taking and giving back ------------------------------------------------------------------

    def _acquire(self) -> None:
        deadline = None
        if self.wait is not False and self.wait is not True:
            deadline = time.monotonic() + float(self.wait)
        announced = False
        while True:
            current = self.store.lease()
            now = time.time()
            mine = LeaseRow(self._token, os.getpid(), socket.gethostname(), now, now)
            if current is None:
                if self.store.take_lease(mine, replacing=None):
                    break
                continue
            if self._dead(current, now):
                if self.store.take_lease(mine, replacing=current.token):
                    log.warning("took over the driver lease of a dead driver (%s)", describe(current))
                    break
                continue
            if self.wait is False or (deadline is not None and time.monotonic() >= deadline):
                raise JobBusyError(
                    f"{self.store.path}: another process drives this job ({describe(current)}); "
                    "wait for it to finish (wait=True, or --wait on the command line), or stop it"
                )
            if not announced:
                log.info("waiting for the driver lease held by %s", describe(current))
                announced = True
            self._sleep(_POLL)
        self._lost.clear()
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="structbatch-lease", daemon=True)
        self._renewer.start()

    def _dead(self, row: LeaseRow, now: float) -> bool:
        if now - row.renewed > STALE:
            return True
        return row.host == socket.gethostname() and row.pid != os.getpid() and not pid_alive(row.pid)

    def _release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if not self._lost.is_set():
            self.store.release_lease(self._token)

    def _renew_loop(self) -> None:
        own = Store(
            self.store.path, create=False
        )  # a connection of its own: never inside a caller's transaction
        try:
            while not self._stop.wait(RENEW):
                try:
                    renewed = own.renew_lease(self._token, time.time())
                except sqlite3.OperationalError as exc:  # busy for 30 s: try again at the next tick
                    log.warning("could not renew the driver lease: %s", exc)
                    continue
                if not renewed:
                    self._lost.set()
                    return
        finally:
            own.close()
