"""`Emulator`: the public handle on a running emulated Anthropic API.

It owns the server thread, the batch store, the clock and the fault plan, and offers what tests
of *other* code need: a ready SDK client, every batch a client created (to assert "no duplicate
submissions"), per-endpoint call counts, and runtime control of faults, responder and time.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import anthropic

from ._clock import Clock
from ._faults import Faults
from ._http import App
from ._models import Catalogue
from ._rates import Rates, RatesResponder
from ._responders import Responder, SchemaResponder
from ._server import EmulatorHTTPServer, serve_in_thread
from ._state import StateFile
from ._store import BatchInfo, BatchStore
from ._transport import EmulatorTransport
from ._validation import Limits
from ._wire import IdMaker

DEFAULT_API_KEY = "sk-emu-test0000"


@dataclass(frozen=True)
class EmulatorConfig:
    """How an emulator behaves. Every field has a test-friendly default.

    `latency`: virtual seconds from a batch's creation to its end (0 = ended on first look).
    `cancel_latency`: virtual seconds a canceled batch stays `canceling`.
    `time_scale`: virtual seconds per real second (3600 = an hour a second).
    `faults` / `rates`: a plan or its spec string (see `Faults.parse`, `Rates.parse`).
    `api_key`: when set, only this key is accepted (others get 401); else any non-empty key.
    `strict_models`: unknown model ids get 404 `not_found_error`, as the API answers.
    `state`: a file that keeps batches and results across restarts (None: gone with the process).
    """

    port: int = 0
    latency: float = 0.0
    cancel_latency: float = 0.0
    seed: int = 0
    time_scale: float = 1.0
    limits: Limits = field(default_factory=Limits)
    faults: Faults | str | None = None
    rates: Rates | str | None = None
    api_key: str | None = None
    strict_models: bool = True
    workdir: Path | None = None
    state: Path | None = None


class Emulator:
    """A local Anthropic Messages + Message Batches API on 127.0.0.1.

    ```python
    with Emulator(latency=0) as emu:
        client = emu.client()
        batch = client.messages.batches.create(requests=[...])
    ```

    Or `start()` / `stop()` around background use; keyword arguments override `config` fields.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        responder: Responder | None = None,
        port: int | None = None,
        latency: float | None = None,
        seed: int | None = None,
        faults: Faults | str | None = None,
        rates: Rates | str | None = None,
        time_scale: float | None = None,
        limits: Limits | None = None,
        state: Path | str | None = None,
    ) -> None:
        overrides: dict[str, Any] = {
            "port": port,
            "latency": latency,
            "seed": seed,
            "faults": faults,
            "rates": rates,
            "time_scale": time_scale,
            "limits": limits,
            "state": Path(state) if state is not None else None,
        }
        self.config = replace(
            config or EmulatorConfig(), **{k: v for k, v in overrides.items() if v is not None}
        )
        cfg = self.config
        self._state = StateFile(Path(cfg.state)) if cfg.state is not None else None
        self.clock = Clock(scale=cfg.time_scale, start=self._resumed_time())
        self._faults = _as_faults(cfg.faults, cfg.seed)
        base: Responder = responder or SchemaResponder(seed=cfg.seed)
        if cfg.rates is not None:
            rates = Rates.parse(cfg.rates, seed=cfg.seed) if isinstance(cfg.rates, str) else cfg.rates
            base = RatesResponder(base, rates)
        self._responder = base
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._app: App | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def _resumed_time(self) -> datetime | None:
        """With a state file, virtual time resumes where it was (never earlier than now)."""
        if self._state is None:
            return None
        _, saved = self._state.load()
        now = datetime.now(UTC)
        return max(saved, now) if saved is not None else None

    def _build(self) -> App:
        """The emulated API (store, catalogue, fault plan): shared by the server and `transport()`."""
        if self._app is not None:
            return self._app
        cfg = self.config
        if self._state is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="structbatch-emu-", dir=cfg.workdir)
        catalogue = Catalogue()
        ids = IdMaker()
        store = BatchStore(
            Path(self._tmp.name) if self._tmp is not None else Path(),
            clock=self.clock,
            catalogue=catalogue,
            responder=lambda: self.responder,
            ids=ids,
            seed=cfg.seed,
            strict_models=cfg.strict_models,
            state=self._state,
        )
        store.latency = cfg.latency
        store.cancel_latency = cfg.cancel_latency
        store.base_url = "https://api.anthropic.com"  # what results_url says until a port is bound
        if isinstance(self._responder, RatesResponder):
            self._responder.seen(
                cid for b in store.snapshot() if b.processing_status == "ended" for cid in b.custom_ids
            )
        self._app = App(
            store=store,
            catalogue=catalogue,
            clock=self.clock,
            faults=self._faults,
            limits=cfg.limits,
            responder=self._responder,
            ids=ids,
            api_key=cfg.api_key,
            strict_models=cfg.strict_models,
        )
        return self._app

    def start(self) -> Emulator:
        """Bind 127.0.0.1 (port 0 = any free port) and serve in a daemon thread."""
        if self._server is not None:
            return self
        app = self._build()
        self._server = EmulatorHTTPServer(self.config.port, app)
        app.store.base_url = self.base_url
        self._thread = serve_in_thread(self._server)
        return self

    def transport(self) -> EmulatorTransport:
        """An httpx transport (sync and async) that serves this emulator in-process: no socket.

        `anthropic.Anthropic(api_key="k", http_client=httpx.Client(transport=emu.transport()))`;
        works with or without `start()`. (This SDK ships httpx as the module `httpx2`.)
        """
        self._build()
        return EmulatorTransport(self._built_app)

    def stop(self) -> None:
        """Stop serving and delete every spilled request and result file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._app is not None:
            self._app.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()
        self._server = self._thread = self._tmp = self._app = None

    def serve_forever(self) -> None:
        """Block until interrupted (the command line's main loop)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- connecting ------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._running_server().server_address[1]

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: what `ANTHROPIC_BASE_URL` should be."""
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> anthropic.Anthropic:
        """An SDK client aimed at this emulator (`api_key` defaults to a dummy key)."""
        kwargs.setdefault("api_key", self.config.api_key or DEFAULT_API_KEY)
        kwargs.setdefault("base_url", self.base_url)
        return anthropic.Anthropic(**kwargs)

    def async_client(self, **kwargs: Any) -> anthropic.AsyncAnthropic:
        """The async SDK client, aimed at this emulator."""
        kwargs.setdefault("api_key", self.config.api_key or DEFAULT_API_KEY)
        kwargs.setdefault("base_url", self.base_url)
        return anthropic.AsyncAnthropic(**kwargs)

    def env(self) -> dict[str, str]:
        """Environment variables that point any SDK program at this emulator."""
        return {
            "ANTHROPIC_BASE_URL": self.base_url,
            "ANTHROPIC_API_KEY": self.config.api_key or DEFAULT_API_KEY,
        }

    # -- runtime control -------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The live fault plan: `emu.faults.add("create:529x1")`, `.clear()`, `.fired`."""
        return self._faults

    @faults.setter
    def faults(self, plan: Faults | str) -> None:
        if isinstance(plan, str):
            self._faults.replace(plan)
        else:
            self._faults = plan
            if self._app is not None:
                self._app.faults = plan

    @property
    def responder(self) -> Responder:
        return self._responder

    @responder.setter
    def responder(self, responder: Responder) -> None:
        """Takes effect for /v1/messages at once and for batches that have not ended yet."""
        self._responder = responder
        if self._app is not None:
            self._app.responder = responder

    @property
    def latency(self) -> float:
        return self._running_app().store.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        """Latency for batches created from now on."""
        self._running_app().store.latency = seconds

    def advance(self, seconds: float = 0.0, *, hours: float = 0.0, days: float = 0.0) -> None:
        """Move the virtual clock forward: batches end, expire (24 h) and archive (29 days)."""
        self.clock.advance(seconds, hours=hours, days=days)

    # -- introspection ---------------------------------------------------------------------------------
    def created_batches(self) -> list[BatchInfo]:
        """Every batch created so far (deleted ones included), in creation order."""
        return self._running_app().store.snapshot()

    def duplicate_custom_ids(self) -> dict[str, list[str]]:
        """custom_ids submitted in more than one batch, with the batch ids: should be empty."""
        seen: dict[str, list[str]] = {}
        for batch in self.created_batches():
            for custom_id in batch.custom_ids:
                seen.setdefault(custom_id, []).append(batch.id)
        return {custom_id: ids for custom_id, ids in seen.items() if len(ids) > 1}

    def call_counts(self) -> Mapping[str, int]:
        """Calls received per endpoint (create, retrieve, list, results, cancel, delete, messages,
        count_tokens, models), faulted ones included."""
        app = self._running_app()
        with app.calls_lock:
            return Counter(app.calls)

    def _running_server(self) -> EmulatorHTTPServer:
        if self._server is None:
            raise RuntimeError("the emulator is not running; use `with Emulator() as emu:` or emu.start()")
        return self._server

    def _running_app(self) -> App:
        if self._app is None:
            self._running_server()  # raises the "not running" error
        assert self._app is not None
        return self._app

    def _built_app(self) -> App:
        return self._build()


def _as_faults(plan: Faults | str | None, seed: int) -> Faults:
    if isinstance(plan, Faults):
        return plan
    return Faults.parse(plan or "", seed=seed)
