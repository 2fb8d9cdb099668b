"""``otel-llm collector``: the listeners around a ``Service``, signals, and an orderly stop.

On SIGTERM or SIGINT the receivers stop taking requests first (in-flight ones finish), then the
service delivers what it holds within ``collector.shutdown_timeout``; with persistence, whatever is
not delivered by then stays on disk for the next start.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from otel_llm.collector._asgi import Receive, Scope, Send, lifespan
from otel_llm.collector._logs import configure_logging
from otel_llm.collector.admin import AdminApp
from otel_llm.collector.http_receiver import OtlpHttpReceiver
from otel_llm.collector.service import Service
from otel_llm.config._collector import split_endpoint

_log = logging.getLogger("otel_llm.collector")
# The collector's threads are CPU-bound (decoding, redaction, encoding) and release the GIL on I/O
# anyway; with the interpreter's default 5 ms they hand the GIL over hundreds of times a second and
# spend more time switching than working (bench/collector.py: 5,200 spans/s at 5 ms, 10,300 at 200 ms,
# with a lower p99 acknowledgement time). The cost: a CPU-bound step may delay another thread by up to this.
SWITCH_INTERVAL_S = 0.2
GC_THRESHOLD = 50_000  # allocations between young-generation collections (the default is 700)


def _listen(endpoint: str) -> socket.socket:
    host, port = split_endpoint(endpoint)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class _ByPort:
    """One ASGI app for both HTTP listeners: the admin port gets the admin app, any other the receiver."""

    def __init__(self, receiver: Any, admin: Any, admin_port: int | None) -> None:
        self.receiver, self.admin, self.admin_port = receiver, admin, admin_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        server = scope.get("server") or (None, None)
        app = self.admin if server[1] == self.admin_port and self.admin is not None else self.receiver
        if app is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)


class Collector:
    """A running collector (``start``/``stop``); ``run`` is the command's blocking form."""

    def __init__(self, source: str | Path | Mapping[str, Any], *, environ: Mapping[str, str] | None = None) -> None:
        self.service = Service(source, environ=environ)
        self.ports: dict[str, int] = {}
        self._grpc: Any = None
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="otel-llm-http")

    def start(self) -> None:
        settings = self.service.settings
        self.service.start()
        tls = settings.tls
        if settings.grpc.endpoint is not None:
            from otel_llm.collector.grpc_receiver import grpc_server, server_credentials

            creds = server_credentials(tls) if tls is not None else None
            self._grpc, self.ports["grpc"] = grpc_server(self.service, settings.grpc.endpoint, creds)
        sockets = []
        receiver = admin = None
        if settings.http.endpoint is not None:
            sock = _listen(settings.http.endpoint)
            self.ports["http"] = sock.getsockname()[1]
            sockets.append(sock)
            receiver = OtlpHttpReceiver(self.service, self._executor)
        if settings.admin.endpoint is not None:
            sock = _listen(settings.admin.endpoint)
            self.ports["admin"] = sock.getsockname()[1]
            sockets.append(sock)
            admin = AdminApp(self.service)
        if sockets:
            self._serve_http(sockets, _ByPort(receiver, admin, self.ports.get("admin")), tls)
        _log.info("otel-llm collector listening", extra={"ports": dict(self.ports), "durable": self.service.durable})

    def _serve_http(self, sockets: list[socket.socket], app: Any, tls: Any) -> None:
        import uvicorn

        options: dict[str, Any] = {}
        if tls is not None:
            options = {"ssl_certfile": tls.cert_file, "ssl_keyfile": tls.key_file}
            if tls.client_ca_file:
                options.update(ssl_ca_certs=tls.client_ca_file, ssl_cert_reqs=ssl.CERT_REQUIRED)
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            limit_concurrency=1024,
            h11_max_incomplete_event_size=64 * 1024,
            **options,
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # signals are ours
        server.capture_signals = _no_capture  # type: ignore[method-assign]
        self._uvicorn = server
        started = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)

            async def main() -> None:
                task = asyncio.ensure_future(server.serve(sockets=sockets))
                while not server.started and not task.done():
                    await asyncio.sleep(0.01)
                started.set()
                await task

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=serve, name="otel-llm-http", daemon=True)
        self._thread.start()
        started.wait(10)

    def stop(self, timeout: float | None = None) -> None:
        """Receivers first (in-flight requests finish), then the service drains."""
        self.service.stop_taking()
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._grpc is not None:
            self._grpc.stop(grace=5).wait(6)
        if self._thread is not None:
            self._thread.join(10)
        self._executor.shutdown(wait=True)
        self.service.shutdown(timeout)


class _NoCapture:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _no_capture() -> _NoCapture:
    return _NoCapture()


def run(config: str, *, log_format: str = "json") -> int:
    """Start, wait for SIGTERM or SIGINT, stop; the exit status for the command."""
    configure_logging(log_format)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    collector = Collector(config)
    collector.start()
    # Spans are short-lived and acyclic: fewer young-generation collections, and the objects of
    # start-up (modules, configuration) kept out of every collection.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 50)
    print(f"otel-llm collector ready {collector.ports}", file=sys.stderr, flush=True)
    stop.wait()
    _log.info("otel-llm collector stopping")
    collector.stop()
    _log.info("otel-llm collector stopped")
    return 0
