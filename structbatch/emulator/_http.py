"""The emulated API as one function from an HTTP request to an HTTP response, with no socket.

Both ways in share it: the loopback server (`_server.py`) and the in-process httpx transport
(`_transport.py`), so a client sees the same behaviour either way. Every call goes through the
API's steps in order: route, body size (413), authentication (401), `anthropic-version` (400),
the fault plan (429/500/529, delays), the handler; then the faults that act once the work is
done: a lost response (the work is committed, no answer arrives), a body cut short, or an
`error` event in the middle of a stream. Every answer carries `request-id` and the
`anthropic-ratelimit-*` headers.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from anthropic._constants import ANTHROPIC_API_VERSION

from ._clock import Clock
from ._faults import Decision, Endpoint, Faults
from ._messages import complete_message, estimate_input_tokens
from ._models import Catalogue
from ._pages import page_body, paginate, parse_page_params
from ._ratelimit import RateWindow
from ._responders import EndedReply, ErrorReply, Responder
from ._sse import encode, message_events, with_error
from ._store import BatchStore, file_chunks
from ._validation import Limits, check_batch_body, check_message_params
from ._wire import ApiError, IdMaker, dumps, error_body, invalid_request, loads, status_for

log = logging.getLogger(__name__)

# The versions the API accepts [versioning docs], and the one the installed SDK sends.
API_VERSIONS: Final = frozenset({"2023-01-01", "2023-06-01", ANTHROPIC_API_VERSION})

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

BodyReader = Callable[[Endpoint, Limits], bytes]
"""Reads the request body for an endpoint; raises the 413 `ApiError` past its limit (`body_limit`)."""


def body_limit(endpoint: Endpoint, limits: Limits) -> int:
    """The largest body an endpoint accepts: a batch create's, else a Messages request's."""
    return limits.max_batch_bytes if endpoint == "create" else limits.max_message_bytes


def too_large(limit: int) -> ApiError:
    return ApiError(
        413, "request_too_large", f"Request exceeds the maximum allowed number of bytes ({limit})."
    )


@dataclass
class Response:
    """One answer, whichever way it travels.

    `length` None means a streamed body (chunked on the socket). `lost`: drop the connection
    without answering. `broken`: the body stops short of what was announced; drop the
    connection after it. `close`: answer, then close (the server could not read the body).
    """

    status: int
    headers: dict[str, str]
    body: Iterable[bytes] = ()
    length: int | None = 0
    lost: bool = False
    broken: bool = False
    close: bool = False


@dataclass
class _Handled:
    body: Any = None
    file: tuple[Any, int] | None = None
    events: list[tuple[str, dict[str, Any]]] | None = None
    output_tokens: int = 0


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
    rates: RateWindow = field(default_factory=RateWindow)

    def __post_init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.calls_lock = threading.Lock()

    # -- one call ----------------------------------------------------------------------------------
    def serve(self, method: str, target: str, headers: Mapping[str, str], read_body: BodyReader) -> Response:
        """Answer one HTTP request (`headers` with lower-case names)."""
        request_id = self.ids.new("req")
        url = urlsplit(target)
        endpoint: Endpoint | None = None
        input_tokens = 0
        try:
            endpoint, match = self._route(method, url.path)
            with self.calls_lock:
                self.calls[endpoint] += 1
            raw = read_body(endpoint, self.limits)
            self._authenticate(headers)
            _check_version(headers)
            decision = self.faults.decide(endpoint)
            if decision.delay:
                time.sleep(decision.delay)  # real seconds: a slow server, whatever the clock's scale
            if decision.status is not None:
                raise _fault_error(decision)
            body = _parse(raw) if method == "POST" and endpoint != "cancel" else None
            if endpoint in ("messages", "count_tokens") and isinstance(body, dict):
                input_tokens = estimate_input_tokens(body)
            handled = self._handle(endpoint, match, parse_qs(url.query), body, request_id, decision)
        except ApiError as error:
            head = self._head(request_id, "application/json", input_tokens, 0)
            head.update(error.headers)
            data = dumps(error_body(error.type, error.message, request_id))
            close = endpoint is None or error.status == 413
            return Response(error.status, head, [data], len(data), close=close)
        except Exception:
            log.exception("emulator bug on %s %s", method, target)
            data = dumps(error_body("api_error", "Internal server error", request_id))
            return Response(500, self._head(request_id, "application/json", 0, 0), [data], len(data))
        return self._respond(handled, request_id, decision, input_tokens)

    def _respond(self, handled: _Handled, request_id: str, decision: Decision, input_tokens: int) -> Response:
        if decision.lost:
            return Response(0, {}, lost=True)
        if handled.events is not None:
            head = self._head(
                request_id, "text/event-stream; charset=utf-8", input_tokens, handled.output_tokens
            )
            head["cache-control"] = "no-cache"
            frames = list(encode(handled.events))
            if decision.cut is None:
                return Response(200, head, frames, None)
            return Response(200, head, _cut_frames(frames, decision.cut), None, broken=True)
        if handled.file is not None:
            path, size = handled.file
            head = self._head(request_id, "application/binary", 0, 0)
            stop_after = None if decision.cut is None else int(size * decision.cut)
            chunks = file_chunks(path, size, stop_after=stop_after)
            return Response(200, head, chunks, size, broken=decision.cut is not None)
        data = dumps(handled.body)
        head = self._head(request_id, "application/json", input_tokens, handled.output_tokens)
        if decision.cut is None:
            return Response(200, head, [data], len(data))
        return Response(200, head, [data[: int(len(data) * decision.cut)]], len(data), broken=True)

    def _head(
        self, request_id: str, content_type: str, input_tokens: int, output_tokens: int
    ) -> dict[str, str]:
        head = {"content-type": content_type, "request-id": request_id}
        head.update(self.rates.record(self.clock.now(), input_tokens, output_tokens))
        return head

    # -- the steps ---------------------------------------------------------------------------------
    @staticmethod
    def _route(method: str, path: str) -> tuple[Endpoint, re.Match[str]]:
        path = path.rstrip("/") or "/"
        allowed = False
        for route_method, pattern, endpoint in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None:
                allowed = True
                if route_method == method:
                    return endpoint, match
        if allowed:
            raise ApiError(405, "invalid_request_error", f"Method {method} is not allowed on {path}")
        raise ApiError(404, "not_found_error", f"Not found: {path}")

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        key = headers.get("x-api-key")
        bearer = headers.get("authorization", "")
        if key is None and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        if not key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if self.api_key is not None and key != self.api_key:
            raise ApiError(401, "authentication_error", "invalid x-api-key")

    # -- handlers ----------------------------------------------------------------------------------
    def _handle(
        self,
        endpoint: Endpoint,
        match: re.Match[str],
        query: dict[str, list[str]],
        body: Any,
        request_id: str,
        decision: Decision,
    ) -> _Handled:
        if endpoint == "messages":
            return self._messages(body, request_id, decision)
        if endpoint == "count_tokens":
            check_message_params(
                body, self.catalogue, endpoint="count_tokens", strict_models=self.strict_models
            )
            return _Handled({"input_tokens": estimate_input_tokens(body)})
        if endpoint == "create":
            return _Handled(self.store.create(check_batch_body(body, self.limits)))
        if endpoint == "list":
            limit, after_id, before_id = parse_page_params(query)
            return _Handled(self.store.list_page(limit=limit, after_id=after_id, before_id=before_id))
        if endpoint == "retrieve":
            return _Handled(self.store.retrieve(match["id"]))
        if endpoint == "cancel":
            return _Handled(self.store.cancel(match["id"]))
        if endpoint == "delete":
            return _Handled(self.store.delete(match["id"]))
        if endpoint == "results":
            return _Handled(file=self.store.results(match["id"]))
        return _Handled(self._models(match, query))

    def _messages(self, params: Any, request_id: str, decision: Decision) -> _Handled:
        check_message_params(params, self.catalogue, endpoint="messages", strict_models=self.strict_models)
        stream = params.get("stream") is True
        # The responder never sees `stream`: a streamed answer is the non-streamed one, sent in pieces.
        asked = {k: v for k, v in params.items() if k != "stream"}
        reply = self.responder.respond(asked, custom_id=None)
        if isinstance(reply, ErrorReply):
            raise ApiError(status_for(reply.type), reply.type, reply.message)
        if isinstance(reply, EndedReply):
            raise ApiError(500, "api_error", "Internal server error")
        message = complete_message(
            reply,
            asked,
            msg_id=self.ids.new("msg"),
            service_tier="standard",
            model=self.catalogue.canonical(asked["model"]),
        )
        output_tokens = int(message["usage"].get("output_tokens") or 0)
        if not stream:
            if decision.error is not None:
                error_type, text = _FAULT_ERRORS[529]
                raise ApiError(529, error_type, text)
            return _Handled(message, output_tokens=output_tokens)
        events = message_events(message)
        if decision.error is not None:
            error = error_body("overloaded_error", "Overloaded", request_id)
            events = with_error(events, decision.error, error)
        return _Handled(events=events, output_tokens=output_tokens)

    def _models(self, match: re.Match[str], query: dict[str, list[str]]) -> Any:
        if "id" in match.groupdict():
            model = self.catalogue.get(match["id"])
            if model is None:
                raise ApiError(404, "not_found_error", f"model: {match['id']}")
            return model.info()
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
        return page_body([models[i].info() for i in ids], has_more)


def _check_version(headers: Mapping[str, str]) -> None:
    """The API refuses a request without a known `anthropic-version`, with these exact messages."""
    version = headers.get("anthropic-version")
    if version is None:
        raise invalid_request("anthropic-version: header is required")
    if version.strip() not in API_VERSIONS:
        raise invalid_request(f'anthropic-version: "{version}" is not a valid version')


def _parse(raw: bytes) -> Any:
    try:
        return loads(raw) if raw else None
    except ValueError:
        raise invalid_request("The request body is not valid JSON.") from None


def _fault_error(decision: Decision) -> ApiError:
    assert decision.status is not None
    error_type, message = _FAULT_ERRORS[decision.status]
    headers = {}
    if decision.retry_after is not None:
        headers["retry-after"] = f"{decision.retry_after:g}"
    return ApiError(decision.status, error_type, message, headers=headers)


def _cut_frames(frames: list[bytes], fraction: float) -> list[bytes]:
    """The stream's bytes up to `fraction` of the total (mid-frame, as a dropped connection leaves it)."""
    budget = int(sum(len(frame) for frame in frames) * fraction)
    out: list[bytes] = []
    for frame in frames:
        if budget <= 0:
            break
        out.append(frame[:budget])
        budget -= len(frame)
    return out
