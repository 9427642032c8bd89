"""The driver lease on its own: free, busy, dead holders (gone pid, stale renewal), waiting with
a limit, re-entrancy, and a holder that finds its lease taken over stops at its next check."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import structbatch as sb
from structbatch import _lease
from structbatch._jobtypes import LeaseRow
from structbatch._lease import Lease, pid_alive
from structbatch._store import Store


def _foreign(store: Store, *, pid: int, host: str, renewed: float) -> None:
    assert store.take_lease(LeaseRow("other", pid, host, renewed, renewed), replacing=None)


def test_free_lease_is_taken_reentrantly_and_given_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    lease = Lease(store)
    with lease.hold():
        row = store.lease()
        assert row is not None and row.pid == os.getpid() and row.host == socket.gethostname()
        with lease.hold():
            lease.check()
        assert store.lease() == row
    assert store.lease() is None
    store.close()


def test_live_holder_makes_others_busy_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    _foreign(store, pid=os.getppid(), host=socket.gethostname(), renewed=time.time())
    t0 = time.monotonic()
    with (
        pytest.raises(sb.JobBusyError, match=f"pid {os.getppid()} on {socket.gethostname()}"),
        Lease(store).hold(),
    ):
        pass
    assert time.monotonic() - t0 < 0.5
    with pytest.raises(sb.JobBusyError), Lease(store, wait=0.5).hold():  # waits, then gives up
        pass
    assert time.monotonic() - t0 >= 0.5
    store.close()


def test_dead_holder_same_host_is_taken_over(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    store = Store(tmp_path / "s.db")
    _foreign(store, pid=proc.pid, host=socket.gethostname(), renewed=time.time())
    with Lease(store).hold():
        row = store.lease()
        assert row is not None and row.pid == os.getpid()
    store.close()


def test_stale_holder_elsewhere_is_taken_over(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    _foreign(store, pid=1, host="another-host", renewed=time.time() - _lease.STALE - 1)
    with Lease(store).hold():
        assert store.lease() is not None and store.lease().pid == os.getpid()  # type: ignore[union-attr]
    fresh = time.time()
    _foreign(store, pid=1, host="another-host", renewed=fresh)
    with pytest.raises(sb.JobBusyError), Lease(store).hold():
        pass
    store.close()


def test_waiting_driver_gets_the_lease_when_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    held = threading.Event()

    def hold_for_a_while() -> None:
        own = Store(path)
        with Lease(own).hold():
            held.set()
            time.sleep(0.6)
        own.close()

    holder = threading.Thread(target=hold_for_a_while)
    holder.start()
    held.wait()
    store = Store(path)
    t0 = time.monotonic()
    with Lease(store, wait=True).hold():
        waited = time.monotonic() - t0
        row = store.lease()
        assert row is not None and row.pid == os.getpid()
    holder.join()
    assert waited >= 0.4
    store.close()


def test_renewal_and_losing_the_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_lease, "RENEW", 0.05)
    store = Store(tmp_path / "s.db")
    lease = Lease(store)
    with lease.hold():
        before = store.lease()
        time.sleep(0.3)
        after = store.lease()
        assert before is not None and after is not None and after.renewed > before.renewed
        # another driver took it over (we were paused past STALE): the next check stops us
        store.release_lease(lease._token)
        _foreign(store, pid=1, host="another-host", renewed=time.time())
        with pytest.raises(sb.JobBusyError, match="lost the job's driver lease"):
            lease.check()
    assert store.lease() is not None and store.lease().token == "other"  # type: ignore[union-attr]
    store.close()
