"""A strict OTLP/HTTP receiver standing in for a backend no test can run (Langfuse, Honeycomb,
LangSmith): it enforces the documented contract and answers as the OTLP specification says.

A request is accepted (200, an ``ExportTraceServiceResponse`` in protobuf) only when it is a POST
to the backend's exact path, ``Content-Type: application/x-protobuf``, gzip or identity encoded,
its body a well-formed ``ExportTraceServiceRequest`` (ids of the right length, names, times), and
the backend's own header check passes. Anything else is refused with the status the backend would
give and recorded in ``rejected``, which every test asserts empty.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from tests.backends.calls import Received, spans_of
from tests.servers import serve_http

# headers (lower-case names) -> None when acceptable, else (status, reason)
HeaderCheck = Callable[[Mapping[str, str]], "tuple[int, str] | None"]


@dataclass
class Accepted:
    path: str
    headers: dict[str, str]  # names lower-cased
    gzip: bool
    spans: list[Received]


@dataclass
class Receiver:
    path: str
    check: HeaderCheck | None
    port: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[Received]:
        return [span for request in list(self.accepted) for span in request.spans]


def _problems(request: trace_service_pb2.ExportTraceServiceRequest) -> str | None:
    if not request.resource_spans:
        return "no resource_spans"
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    return f"bad ids on span {span.name!r}"
                if span.parent_span_id and len(span.parent_span_id) != 8:
                    return f"bad parent id on span {span.name!r}"
                if not span.name or span.end_time_unix_nano < span.start_time_unix_nano:
                    return "span without a name or ending before it starts"
    return None


@contextmanager
def otlp_receiver(path: str, check: HeaderCheck | None = None) -> Iterator[Receiver]:
    receiver = Receiver(path, check)

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self, status: int, reason: str) -> None:
            receiver.rejected.append((status, reason))
            body = reason.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._refuse(405, "GET")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path != receiver.path:
                return self._refuse(404, f"path {self.path}")
            if headers.get("content-type") != "application/x-protobuf":
                return self._refuse(415, f"content-type {headers.get('content-type')}")
            encoding = headers.get("content-encoding", "identity")
            if encoding == "gzip":
                try:
                    body = gzip.decompress(body)
                except OSError:
                    return self._refuse(400, "bad gzip")
            elif encoding != "identity":
                return self._refuse(415, f"content-encoding {encoding}")
            if receiver.check is not None:
                refused = receiver.check(headers)
                if refused is not None:
                    return self._refuse(*refused)
            try:
                request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            except DecodeError:
                return self._refuse(400, "not an ExportTraceServiceRequest")
            problem = _problems(request)
            if problem is not None:
                return self._refuse(400, problem)
            receiver.accepted.append(Accepted(self.path, headers, encoding == "gzip", list(spans_of(request))))
            reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as receiver.port:
        yield receiver
