"""The `anthropic-ratelimit-*` headers the API sends on every response.

Clients read them to pace themselves (remaining requests and tokens, and when the window resets),
so the emulator keeps plausible per-minute counters on its clock: one fixed window per virtual
minute, requests and input/output tokens counted as they are served. Nothing is refused because
of them; a 429 only ever comes from the fault plan.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class RateWindow:
    """Per-minute request and token counters with the limits a mid-tier organisation sees."""

    requests_limit: int = 4_000
    input_tokens_limit: int = 2_000_000
    output_tokens_limit: int = 400_000
    _window: datetime | None = field(default=None, repr=False)
    _requests: int = field(default=0, repr=False)
    _input: int = field(default=0, repr=False)
    _output: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, now: datetime, input_tokens: int, output_tokens: int) -> dict[str, str]:
        """Count one response and return its rate-limit headers."""
        window = now.replace(second=0, microsecond=0)
        with self._lock:
            if window != self._window:
                self._window, self._requests, self._input, self._output = window, 0, 0, 0
            self._requests += 1
            self._input += input_tokens
            self._output += output_tokens
            requests, used_in, used_out = self._requests, self._input, self._output
        reset = (window + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        in_left = max(0, self.input_tokens_limit - used_in)
        out_left = max(0, self.output_tokens_limit - used_out)
        prefix = "anthropic-ratelimit-"
        return {
            f"{prefix}requests-limit": str(self.requests_limit),
            f"{prefix}requests-remaining": str(max(0, self.requests_limit - requests)),
            f"{prefix}requests-reset": reset,
            f"{prefix}input-tokens-limit": str(self.input_tokens_limit),
            f"{prefix}input-tokens-remaining": str(in_left),
            f"{prefix}input-tokens-reset": reset,
            f"{prefix}output-tokens-limit": str(self.output_tokens_limit),
            f"{prefix}output-tokens-remaining": str(out_left),
            f"{prefix}output-tokens-reset": reset,
            f"{prefix}tokens-limit": str(self.input_tokens_limit + self.output_tokens_limit),
            f"{prefix}tokens-remaining": str(in_left + out_left),
            f"{prefix}tokens-reset": reset,
        }
