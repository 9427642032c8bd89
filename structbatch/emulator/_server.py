"""The loopback HTTP server: sockets in, `App.serve` calls, responses written back.

Standard library only (`ThreadingHTTPServer`, HTTP/1.1 keep-alive, as the SDK's connection pool
expects). Everything the API decides lives in `_http.App`; this module only moves bytes: it
drains an oversized body so the client reads the 413, writes streamed answers (SSE) with chunked
transfer encoding, and drops the connection for a lost response or a body cut short.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._faults import Endpoint
from ._http import App, Response, body_limit, too_large
from ._validation import Limits

log = logging.getLogger(__name__)


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

    def _dispatch(self, method: str) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.app.serve(method, self.path, headers, self._read_body)
        if response.close:
            self.close_connection = True  # the body may be unread: the stream is out of sync
        if response.lost:
            self._drop()
            return
        try:
            self._write(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away mid-answer
            return
        if response.broken:
            self._drop()

    def _read_body(self, endpoint: Endpoint, limits: Limits) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        limit = body_limit(endpoint, limits)
        if length > limit:
            remaining = length
            while remaining > 0:  # drain, so the client reads our 413 rather than a reset
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise too_large(limit)
        return self.rfile.read(length) if length else b""

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        chunked = response.length is None
        for name, value in response.headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(response.length))
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        for piece in response.body:
            if not piece:
                continue
            if chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
            else:
                self.wfile.write(piece)
        if chunked and not response.broken:
            self.wfile.write(b"0\r\n\r\n")

    def _drop(self) -> None:
        """Close the connection at once: the client sees it end without a (complete) response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


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
