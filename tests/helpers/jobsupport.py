"""Shared test helpers for the engine tests: a small model, a per-custom_id scripted responder
whose `None` entries fall back to the natural answer, and an HTTP transport that rewrites batch
results on their way to the client (to produce results the emulator never sends: missing lines,
malformed lines, results for custom_ids we never submitted)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import anthropic
import httpx2 as httpx
import orjson
from pydantic import BaseModel

import structbatch as sb
from structbatch import PollPolicy, RetryPolicy
from structbatch._batching import without_job_salt
from structbatch.emulator import Responder, SchemaResponder, Scripted
from structbatch.emulator._responders import apply_script

FAST_POLL = PollPolicy(initial=0.01, factor=1.5, maximum=0.05)
FAST_RETRY = RetryPolicy(initial=0.01, maximum=0.2, attempts=6, settle=0.3)


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int


def fast_job(emu: Any, store: Any, **options: Any) -> sb.Job[Any]:
    """A `Person` job on `store` talking to `emu`, polling and retrying in milliseconds."""
    options.setdefault("poll", FAST_POLL)
    options.setdefault("retry", FAST_RETRY)
    return sb.Job(Person, model="claude-haiku-4-5", store=store, client=emu.client(), **options)


class Seq:
    """Per key sequences of `Scripted` (or None = the natural answer); the last repeats.

    Requests are matched by their custom_id without the job's salt (the key, for plain keys), and
    the fallback answers as if that were the custom_id, so answers do not depend on the salt.
    Records every request it answered, so tests can look at re-ask conversations.
    """

    def __init__(
        self, scripts: Mapping[str, Sequence[Scripted | None]], fallback: Responder | None = None
    ) -> None:
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.fallback: Responder = fallback or SchemaResponder()
        self.calls: dict[str, int] = {}
        self.seen: dict[str, list[Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Any:
        key = without_job_salt(custom_id or "")
        custom_id = key if custom_id is not None else None
        with self._lock:
            n = self.calls.get(key, 0)
            self.calls[key] = n + 1
            self.seen.setdefault(key, []).append(params)
        script = self.scripts.get(key)
        item = None if not script else script[min(n, len(script) - 1)]
        if item is None:
            return self.fallback.respond(params, custom_id=custom_id)
        return apply_script(item, params, custom_id, self.fallback)


class ResultsRewriter(httpx.BaseTransport):
    """Wraps the real transport; `rewrite(line) -> list of lines` edits each results line."""

    def __init__(self, rewrite: Callable[[bytes], list[bytes]]) -> None:
        self.inner = httpx.HTTPTransport()
        self.rewrite = rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/results"):
            return response
        body = response.read()
        out: list[bytes] = []
        for line in body.split(b"\n"):
            if line.strip():
                out.extend(self.rewrite(line))
        new = b"".join(x + b"\n" for x in out)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=new, request=request)


def rewriting_client(emu: Any, rewrite: Callable[[bytes], list[bytes]]) -> anthropic.Anthropic:
    return emu.client(http_client=httpx.Client(transport=ResultsRewriter(rewrite)))  # type: ignore[no-any-return]


def key_of(custom_id: str | None) -> str | None:
    """A plain key from its custom_id (the job's salt removed)."""
    return None if custom_id is None else without_job_salt(custom_id)


def custom_id_of(line: bytes) -> str | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return obj.get("custom_id") if isinstance(obj, dict) else None


def batch_bodies(emu: Any) -> Iterator[Any]:
    yield from emu.created_batches()
