"""The emulator's clock: real time, optionally sped up, plus manual jumps.

Batches live on the API's time scale (results after up to 24 h, archived after 29 days); tests
cannot wait for that. Every timestamp and every "has this batch ended yet?" decision reads this
clock, so `advance(hours=25)` or `time_scale=3600` makes expiry observable in milliseconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Virtual UTC time = start + (real seconds elapsed × `scale`) + manual advances."""

    def __init__(self, *, scale: float = 1.0, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self._scale = scale
        self._start = start or datetime.now(UTC)
        self._real0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def scale(self) -> float:
        """Virtual seconds per real second."""
        return self._scale

    def now(self) -> datetime:
        """The current virtual time."""
        with self._lock:
            elapsed = (time.monotonic() - self._real0) * self._scale + self._offset
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float = 0.0, *, hours: float = 0.0, days: float = 0.0) -> datetime:
        """Jump the virtual clock forward (never back) and return the new time."""
        delta = seconds + hours * 3600 + days * 86400
        if delta < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long to really sleep for `virtual_seconds` of virtual time."""
        return max(0.0, virtual_seconds / self._scale)
