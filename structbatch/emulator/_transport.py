"""An httpx transport that hands requests straight to the emulated API: no socket, no port.

`Emulator.transport()` returns one; it serves sync and async clients alike, in the spirit of
`httpx.MockTransport`:

    client = anthropic.Anthropic(api_key="k", http_client=httpx.Client(transport=emu.transport()))

Faults behave as on the wire: a lost response or a body cut short raise the
`RemoteProtocolError` a dropped connection raises (the SDK retries it as a connection error).
The SDK installed here ships httpx under the name `httpx2`; that is the module used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import anyio.to_thread
import httpx2

from ._faults import Endpoint
from ._http import App, Response, body_limit, too_large
from ._validation import Limits


class _Body(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body from `Response.body`; ends in a protocol error when the answer is broken."""

    def __init__(self, response: Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.body
        if self._response.broken:
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._response.body:
            yield piece
        if self._response.broken:
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


class EmulatorTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Serves httpx requests from an emulator's `App` in this process."""

    def __init__(self, app: Callable[[], App]) -> None:
        self._app = app

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        return self._answer(request, self._serve(request))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        # The app may sleep (a `slow` fault) or write results: keep the event loop free meanwhile.
        response = await anyio.to_thread.run_sync(self._serve, request)
        return self._answer(request, response)

    def _serve(self, request: httpx2.Request) -> Response:
        body = request.content

        def read_body(endpoint: Endpoint, limits: Limits) -> bytes:
            limit = body_limit(endpoint, limits)
            if len(body) > limit:
                raise too_large(limit)
            return body

        target = request.url.raw_path.decode("ascii")
        headers = {name.lower(): value for name, value in request.headers.items()}
        return self._app().serve(request.method, target, headers, read_body)

    @staticmethod
    def _answer(request: httpx2.Request, response: Response) -> httpx2.Response:
        if response.lost:
            raise httpx2.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        headers = dict(response.headers)
        if response.length is not None:
            headers["content-length"] = str(response.length)
        return httpx2.Response(response.status, headers=headers, stream=_Body(response), request=request)
