"""A local OpenAI-compatible HTTP server with canned replies, built on the standard library only.

It lets the demo, the examples and the tests drive the *real* openai SDK end to end (HTTP, SSE,
retries, response parsing) without an API key or any network beyond loopback. It also answers
Anthropic's Messages API (``/v1/messages``), so the anthropic SDK can be driven the same way.
Use it in-process::

    with DemoServer() as server:
        client = openai.OpenAI(base_url=server.url, api_key="demo")
        claude = anthropic.Anthropic(base_url=server.origin, api_key="demo")

or standalone: ``python -m otel_llm.demo.server --port 8000``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple

from otel_llm.demo import anthropic_payloads as A
from otel_llm.demo import payloads as P
from otel_llm.demo.payloads import JSON, APIError

_log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024
IDLE_TIMEOUT_S = 30.0  # an idle keep-alive connection frees its thread after this long
RECEIVED_KEPT = 100  # requests remembered for DemoServer.received

INVALID_JSON_MESSAGE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
)


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, whatever Python's json module accepts."""
    raise ValueError(f"{name} is not valid JSON")


class _Reply:
    """What an endpoint answers: one JSON document, or a sequence of SSE events."""

    def __init__(self, body: JSON | None = None, events: Iterable[JSON] | None = None, named: bool = False) -> None:
        self.body = body
        self.events = events
        self.named = named  # Responses API streams carry `event:` lines; chat streams end with [DONE]


def _chat(body: JSON) -> _Reply:
    req = P.ChatRequest(body)
    return _Reply(events=req.chunks()) if req.stream else _Reply(req.completion())


def _responses(body: JSON) -> _Reply:
    req = P.ResponsesRequest(body)
    return _Reply(events=req.events(), named=True) if req.stream else _Reply(req.response())


def _completions(body: JSON) -> _Reply:
    req = P.CompletionRequest(body)
    return _Reply(events=req.chunks()) if req.stream else _Reply(req.completion())


def _embeddings(body: JSON) -> _Reply:
    return _Reply(P.embeddings(body))


def _messages(body: JSON) -> _Reply:
    req = A.MessagesRequest(body)
    return _Reply(events=req.events(), named=True) if req.stream else _Reply(req.message())


def _count_tokens(body: JSON) -> _Reply:
    return _Reply(A.count_message_tokens(body))


# Anthropic's routes answer errors in Anthropic's shape and name the request id as its API does.
ANTHROPIC_ROUTES: dict[str, Callable[[JSON], _Reply]] = {
    "/v1/messages": _messages,
    "/v1/messages/count_tokens": _count_tokens,
}

POST_ROUTES: dict[str, Callable[[JSON], _Reply]] = {
    "/v1/chat/completions": _chat,
    "/v1/responses": _responses,
    "/v1/completions": _completions,
    "/v1/embeddings": _embeddings,
    **ANTHROPIC_ROUTES,
}


class _Handler(BaseHTTPRequestHandler):
    """One connection. Every request gets a JSON answer; nothing a client sends escapes as an exception."""

    protocol_version = "HTTP/1.1"  # keep-alive, so the SDK's connection pool behaves as with the real API
    server_version = "otel-llm-demo"
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall
    server: _Server
    _anthropic = False  # set per request: the path is one of ANTHROPIC_ROUTES

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    # --- dispatch -------------------------------------------------------------------------

    def do_POST(self) -> None:
        self._handle(self._post)

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_PUT(self) -> None:
        self._handle(self._other)

    def do_PATCH(self) -> None:
        self._handle(self._other)

    def do_DELETE(self) -> None:
        self._handle(self._other)

    def _handle(self, route: Callable[[str], _Reply]) -> None:
        self._request_id = "req_" + uuid.uuid4().hex
        self._started = time.monotonic()
        path = self.path.split("?", 1)[0]  # the anthropic SDK's beta calls add ?beta=true
        self._anthropic = path in ANTHROPIC_ROUTES
        self.server.received.append(Received(self.command, path, {k.lower(): v for k, v in self.headers.items()}))
        try:
            reply = route(path)
        except APIError as err:
            if self._anthropic:
                err = A.as_anthropic(err)
            self._send_json(err.status, err.body(), {"Allow": "POST"} if err.status == 405 else None)
            return
        except Exception:
            _log.exception("demo server: internal error on %s %s", self.command, path)
            err = APIError(500, "The demo server had an internal error.", type="server_error")
            if self._anthropic:
                err = A.as_anthropic(err)
            self.close_connection = True
            self._send_json(500, err.body())
            return
        if self.server.delay:
            time.sleep(self.server.delay)
        if reply.events is not None:
            self._send_events(reply.events, reply.named)
        else:
            self._send_json(200, reply.body or {})

    def _post(self, path: str) -> _Reply:
        handler = POST_ROUTES.get(path)
        if handler is None:
            self._discard_body()  # read it anyway, or it would be parsed as the next request
            raise self._not_found(path)
        return handler(self._read_json())

    def _get(self, path: str) -> _Reply:
        if path == "/v1/models":
            return _Reply(P.models())
        if path.startswith("/v1/models/") and len(path) > len("/v1/models/"):
            model = path[len("/v1/models/") :]
            if model in P.MODELS:
                return _Reply(P.model_object(model))
            raise APIError(404, f"The model '{model}' does not exist", param="model", code="model_not_found")
        raise self._not_found(path)

    def _other(self, path: str) -> _Reply:
        self._discard_body()
        raise self._not_found(path)

    def _not_found(self, path: str) -> APIError:
        if path in POST_ROUTES and self.command != "POST":
            return APIError(
                405, f"Method {self.command} is not allowed on {path}; use POST.", code="method_not_allowed"
            )
        return APIError(404, f"Invalid URL ({self.command} {path})", code="unknown_url")

    # --- request body ---------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise APIError(400, f"Invalid Content-Length header: {raw!r}.", code="invalid_header")
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would otherwise be parsed as the next request
            raise APIError(
                413, f"Request body too large: {length} bytes, limit {MAX_BODY_BYTES}.", code="request_too_large"
            )
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise APIError(400, "Malformed chunked request body.", code="invalid_body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise APIError(413, f"Request body too large: limit {MAX_BODY_BYTES} bytes.", code="request_too_large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _discard_body(self) -> None:
        with contextlib.suppress(APIError):
            self._read_body()

    def _read_json(self) -> JSON:
        data = self._read_body()
        try:
            body = json.loads(data, parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise APIError(400, A.INVALID_JSON_MESSAGE if self._anthropic else INVALID_JSON_MESSAGE) from None
        if not isinstance(body, dict):
            raise APIError(
                400, f"Invalid request body: expected a JSON object, got {P._type_name(body)}.", code="invalid_body"
            )
        return body

    # --- responses ------------------------------------------------------------------------

    def _common_headers(self) -> None:
        if self._anthropic:
            self.send_header("request-id", self._request_id)  # what the anthropic SDK reads as _request_id
        else:
            self.send_header("x-request-id", self._request_id)
            self.send_header("openai-processing-ms", str(int((time.monotonic() - self._started) * 1000)))
        if self.close_connection:
            self.send_header("Connection", "close")

    def _send_json(self, status: int, payload: JSON, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self._common_headers()
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client went away; nothing left to tell it

    def _send_events(self, events: Iterable[JSON], named: bool) -> None:
        """Server-sent events in HTTP/1.1 chunked encoding, so the connection can be reused."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self._common_headers()
            self.end_headers()
            for index, event in enumerate(events):
                if index and self.server.chunk_delay:
                    time.sleep(self.server.chunk_delay)
                prefix = f"event: {event['type']}\n" if named else ""
                self._write_chunk(f"{prefix}data: {json.dumps(event)}\n\n".encode())
            if not named:
                self._write_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client stopped reading (e.g. broke out of the stream)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed request lines and headers (handled by the stdlib) get JSON too, not HTML."""
        self._request_id = getattr(self, "_request_id", "req_" + uuid.uuid4().hex)
        self._started = getattr(self, "_started", time.monotonic())
        self._anthropic = False  # the request could not be read, so no route chose Anthropic's error shape
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # garbage, not HTTP/0.9: answer with a status line anyway
            self.request_version = self.protocol_version
        text = message or self.responses.get(code, ("Error",))[0]
        kind = "server_error" if code >= 500 else "invalid_request_error"
        self._send_json(code, APIError(code, text, type=kind).body())

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


class Received(NamedTuple):
    """One request as the server saw it: lets a demo or test show which trace headers arrived."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], *, verbose: bool, delay: float, chunk_delay: float) -> None:
        self.received: deque[Received] = deque(maxlen=RECEIVED_KEPT)
        self.verbose = verbose
        self.delay = delay
        self.chunk_delay = chunk_delay
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        """Shut down keep-alive connections, so no request is served after stop()."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client hanging up is not the server's problem
        super().handle_error(request, client_address)


class DemoServer:
    """A running demo server. ``url`` is the base URL to give the openai client (ends in ``/v1``),
    ``origin`` the one to give the anthropic client.

    ``delay`` is slept before each reply and ``chunk_delay`` between stream events, so durations and
    time-to-first-chunk look like a real call; both default to 0 for fast tests.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        verbose: bool = False,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> None:
        self._address = (host, port)
        self._options = {"verbose": verbose, "delay": delay, "chunk_delay": chunk_delay}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the demo server is not running")
        return int(self._server.server_address[1])

    @property
    def received(self) -> list[Received]:
        """The last requests received (at most RECEIVED_KEPT), oldest first."""
        if self._server is None:
            return []
        return list(self._server.received)

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def origin(self) -> str:
        """The base URL for the anthropic client, which adds ``/v1/messages`` itself (no ``/v1``)."""
        host = self._address[0]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self) -> DemoServer:
        """Bind and serve in a daemon thread; returns self so ``DemoServer().start().url`` works."""
        if self._server is not None:
            return self
        server_class = _Server
        if ":" in self._address[0]:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class(self._address, **self._options)  # type: ignore[arg-type]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="otel-llm-demo-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m otel_llm.demo.server``: serve until Ctrl-C (or SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="python -m otel_llm.demo.server",
        description="A local OpenAI-compatible (and Anthropic Messages API) server with canned replies "
        "(no API key, no network).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind, 0 for any free port (default: 8000)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each reply")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed events")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    args = parser.parse_args(argv)

    try:
        server = DemoServer(
            args.host, args.port, verbose=not args.quiet, delay=args.delay, chunk_delay=args.chunk_delay
        ).start()
    except OSError as err:
        print(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    # Explicit handlers: a shell's background job starts with SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler of its own.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print(f"otel-llm demo server listening on {server.url}", flush=True)
    print(f"  OPENAI_BASE_URL={server.url} OPENAI_API_KEY=demo   (Ctrl-C to stop)", flush=True)
    print(f"  ANTHROPIC_BASE_URL={server.origin} ANTHROPIC_API_KEY=demo", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
