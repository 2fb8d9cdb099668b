"""Real servers on loopback for end-to-end tests: OTLP receivers (gRPC and HTTP), an HTTP sink, moto S3.

The OTLP gRPC receiver is the generated TraceService of ``opentelemetry-proto`` on a real grpcio
server; the HTTP sink is the standard library's threading server. Both keep the raw bytes they were
sent, so a test can scan exactly what left the process.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """``handler`` served on a free loopback port for the block (yields the port); the server is
    shut down and closed at exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes  # as sent (decompressed when Content-Encoding: gzip)


@dataclass
class HttpSink:
    """Answers every request with ``status`` after ``delay`` seconds and keeps what it got."""

    status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies(self) -> bytes:
        return b"\n".join(r.body for r in list(self.requests))


@contextmanager
def http_sink(status: int = 200, delay: float = 0.0) -> Iterator[HttpSink]:
    sink = HttpSink(status=status, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            sink.requests.append(Received("POST", self.path, dict(self.headers.items()), body))
            if sink.delay:
                time.sleep(sink.delay)
            self.send_response(sink.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as sink.port:
        yield sink


@dataclass
class GrpcSink:
    port: int = 0
    raw: list[bytes] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[Any]:
        return [span for raw in list(self.raw) for span in request_spans(raw)]


@contextmanager
def otlp_grpc_sink() -> Iterator[GrpcSink]:
    sink = GrpcSink()

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            sink.raw.append(request.SerializeToString())
            sink.metadata.append(dict(context.invocation_metadata()))
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    sink.port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield sink
    finally:
        server.stop(None)


def request_spans(raw: bytes) -> list[Any]:
    """The protobuf spans of one serialized ExportTraceServiceRequest, across resources and scopes."""
    request = trace_service_pb2.ExportTraceServiceRequest.FromString(raw)
    return [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]


def otlp_http_spans(sink: HttpSink) -> list[Any]:
    return [span for r in list(sink.requests) for span in request_spans(r.body)]


@contextmanager
def moto_s3() -> Iterator[str]:
    """A moto server in server mode on loopback; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object in the bucket, gunzipped when it is gzip."""
    import boto3

    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    out: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"]] = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    return out


class Uvicorn:
    """An ASGI app served by uvicorn on a loopback port; ``with`` yields its base URL."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
