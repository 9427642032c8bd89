"""HTTP and routing: turns sockets into calls on the batch store, the responder and the catalogue.

Standard library only (`ThreadingHTTPServer`, HTTP/1.1 keep-alive, as the SDK's connection pool
expects). Every call goes through the same steps, in the API's order: route, body size (413),
authentication (401), the fault plan (429/500/529, delays), the handler, then the faults that
act after the work is done: a lost response (the connection drops, the work is committed) or a
body cut mid-stream.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from ._clock import Clock
from ._faults import Decision, Endpoint, Faults
from ._messages import complete_message, estimate_input_tokens
from ._models import Catalogue
from ._pages import page_body, paginate, parse_page_params
from ._responders import EndedReply, ErrorReply, Responder
from ._store import BatchStore, stream_file
from ._validation import Limits, check_batch_body, check_message_params
from ._wire import ApiError, IdMaker, dumps, error_body, invalid_request, loads, status_for

log = logging.getLogger(__name__)

_BATCH: Final = r"(?P<id>[^/]+)"
_ROUTES: Final[tuple[tuple[str, re.Pattern[str], Endpoint], ...]] = (
    ("POST", re.compile(r"/v1/messages"), "messages"),
    ("POST", re.compile(r"/v1/messages/count_tokens"), "count_tokens"),
    ("POST", re.compile(r"/v1/messages/batches"), "create"),
    ("GET", re.compile(r"/v1/messages/batches"), "list"),
    ("GET", re.compile(rf"/v1/messages/batches/{_BATCH}"), "retrieve"),
    ("DELETE", re.compile(rf"/v1/messages/batches/{_BATCH}"), "delete"),
    ("POST", re.compile(rf"/v1/messages/batches/{_BATCH}/cancel"), "cancel"),
    ("GET", re.compile(rf"/v1/messages/batches/{_BATCH}/results"), "results"),
    ("GET", re.compile(r"/v1/models"), "models"),
    ("GET", re.compile(r"/v1/models/(?P<id>[^/]+)"), "models"),
)
_FAULT_ERRORS: Final = {
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit (emulated fault)."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


@dataclass
class Reply:
    """What a handler answers: a JSON body, or a file streamed as JSONL."""

    body: Any = None
    status: int = 200
    file: tuple[Path, int] | None = None


@dataclass
class App:
    """Everything the handlers share; the `Emulator` owns it and may swap parts at runtime."""

    store: BatchStore
    catalogue: Catalogue
    clock: Clock
    faults: Faults
    limits: Limits
    responder: Responder
    ids: IdMaker
    api_key: str | None
    strict_models: bool

    def __post_init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.calls_lock = threading.Lock()

    # -- handlers ----------------------------------------------------------------------------------
    def handle(
        self, endpoint: Endpoint, match: re.Match[str], query: dict[str, list[str]], body: Any
    ) -> Reply:
        if endpoint == "messages":
            return self._messages(body)
        if endpoint == "count_tokens":
            check_message_params(
                body, self.catalogue, endpoint="count_tokens", strict_models=self.strict_models
            )
            return Reply({"input_tokens": estimate_input_tokens(body)})
        if endpoint == "create":
            return Reply(self.store.create(check_batch_body(body, self.limits)))
        if endpoint == "list":
            limit, after_id, before_id = parse_page_params(query)
            return Reply(self.store.list_page(limit=limit, after_id=after_id, before_id=before_id))
        if endpoint == "retrieve":
            return Reply(self.store.retrieve(match["id"]))
        if endpoint == "cancel":
            return Reply(self.store.cancel(match["id"]))
        if endpoint == "delete":
            return Reply(self.store.delete(match["id"]))
        if endpoint == "results":
            return Reply(file=self.store.results(match["id"]))
        return self._models(match, query)

    def _messages(self, params: Any) -> Reply:
        check_message_params(params, self.catalogue, endpoint="messages", strict_models=self.strict_models)
        if params.get("stream"):
            raise invalid_request(
                "stream: streaming responses are not supported by the structbatch emulator."
            )
        reply = self.responder.respond(params, custom_id=None)
        if isinstance(reply, ErrorReply):
            raise ApiError(status_for(reply.type), reply.type, reply.message)
        if isinstance(reply, EndedReply):
            raise ApiError(500, "api_error", "Internal server error")
        return Reply(complete_message(reply, params, msg_id=self.ids.new("msg"), service_tier="standard"))

    def _models(self, match: re.Match[str], query: dict[str, list[str]]) -> Reply:
        if "id" in match.groupdict():
            model = self.catalogue.get(match["id"])
            if model is None:
                raise ApiError(404, "not_found_error", f"model: {match['id']}")
            return Reply(model.info())
        limit, after_id, before_id = parse_page_params(query)
        wanted = set(query.get("lifecycle[]", []) + query.get("lifecycle", []))
        models = {m.id: m for m in self.catalogue.models if not wanted or m.lifecycle in wanted}
        ids, has_more = paginate(
            [m.id for m in self.catalogue.models],
            limit=limit,
            after_id=after_id,
            before_id=before_id,
            visible=lambda model_id: model_id in models,
        )
        return Reply(page_body([models[i].info() for i in ids], has_more))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # -- the steps of one call ------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        app = self.server.app
        request_id = app.ids.new("req")
        url = urlsplit(self.path)
        try:
            endpoint, match = self._route(method, url.path)
            with app.calls_lock:
                app.calls[endpoint] += 1
            raw = self._read_body(endpoint, app.limits)
            self._authenticate(app)
            decision = app.faults.decide(endpoint)
            if decision.delay:
                time.sleep(decision.delay)  # real seconds: a slow server, whatever the clock's scale
            if decision.status is not None:
                raise _fault_error(decision)
            body = self._parse(raw) if method == "POST" and endpoint != "cancel" else None
            reply = app.handle(endpoint, match, parse_qs(url.query), body)
        except ApiError as error:
            self._send_json(
                error.status, error_body(error.type, error.message, request_id), request_id, error.headers
            )
            return
        except Exception:
            log.exception("emulator bug on %s %s", method, self.path)
            self._send_json(500, error_body("api_error", "Internal server error", request_id), request_id)
            return
        if decision.lost:
            self._drop()
        elif reply.file is not None:
            self._send_file(reply.file, request_id, decision)
        else:
            self._send_json(reply.status, reply.body, request_id, cut=decision.cut)

    def _route(self, method: str, path: str) -> tuple[Endpoint, re.Match[str]]:
        path = path.rstrip("/") or "/"
        allowed = False
        for route_method, pattern, endpoint in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None:
                allowed = True
                if route_method == method:
                    return endpoint, match
        # Unknown routes' bodies are not read; closing the connection keeps the stream in sync.
        self.close_connection = True
        if allowed:
            raise ApiError(405, "invalid_request_error", f"Method {method} is not allowed on {path}")
        raise ApiError(404, "not_found_error", f"Not found: {path}")

    def _read_body(self, endpoint: Endpoint, limits: Limits) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        limit = limits.max_batch_bytes if endpoint == "create" else limits.max_message_bytes
        if length > limit:
            remaining = length
            while remaining > 0:  # drain, so the client reads our 413 rather than a reset
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise ApiError(
                413, "request_too_large", f"Request exceeds the maximum allowed number of bytes ({limit})."
            )
        return self.rfile.read(length) if length else b""

    def _authenticate(self, app: App) -> None:
        key = self.headers.get("x-api-key")
        bearer = self.headers.get("authorization", "")
        if key is None and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        if not key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if app.api_key is not None and key != app.api_key:
            raise ApiError(401, "authentication_error", "invalid x-api-key")

    @staticmethod
    def _parse(raw: bytes) -> Any:
        try:
            return loads(raw) if raw else None
        except ValueError:
            raise invalid_request("The request body is not valid JSON.") from None

    # -- writing ---------------------------------------------------------------------------------------
    def _headers(
        self, status: int, request_id: str, length: int, content_type: str, extra: dict[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(length))
        self.send_header("request-id", request_id)
        for name, value in extra.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()

    def _send_json(
        self,
        status: int,
        body: Any,
        request_id: str,
        extra: dict[str, str] | None = None,
        *,
        cut: float | None = None,
    ) -> None:
        data = dumps(body)
        self._headers(status, request_id, len(data), "application/json", extra or {})
        if cut is None:
            self.wfile.write(data)
            return
        self.wfile.write(data[: int(len(data) * cut)])
        self._drop()

    def _send_file(self, file: tuple[Path, int], request_id: str, decision: Decision) -> None:
        path, size = file
        self._headers(200, request_id, size, "application/binary", {})
        stop_after = None if decision.cut is None else int(size * decision.cut)
        stream_file(path, size, self.wfile.write, stop_after=stop_after)
        if decision.cut is not None:
            self._drop()

    def _drop(self) -> None:
        """Close the connection at once: the client sees it end without a (complete) response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _fault_error(decision: Decision) -> ApiError:
    assert decision.status is not None
    error_type, message = _FAULT_ERRORS[decision.status]
    headers = {}
    if decision.retry_after is not None:
        headers["retry-after"] = f"{decision.retry_after:g}"
    return ApiError(decision.status, error_type, message, headers=headers)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server bound to 127.0.0.1 that carries the shared `App`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: App) -> None:
        self.app = app
        super().__init__(("127.0.0.1", port), _Handler)


def serve_in_thread(server: EmulatorHTTPServer) -> threading.Thread:
    """Serve in a daemon thread, so a test process never hangs on an emulator left running."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="structbatch-emulator", daemon=True
    )
    thread.start()
    return thread
