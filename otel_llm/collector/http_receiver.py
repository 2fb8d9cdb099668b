"""OTLP/HTTP: ``POST /v1/traces`` (and ``/v1/metrics``, ``/v1/logs``), protobuf or JSON, gzip or not.

Replies follow the OTLP specification: 200 with the Export*ServiceResponse (partial success when
some items were rejected) in the request's encoding; 400 with a google.rpc.Status for data that
cannot be decoded; 401 without a valid credential; 413 beyond the size limit; 415 for other
content types or encodings; 503 with Retry-After when the collector cannot take data now (the
sender retries). Decoding and queueing run on a thread pool, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from google.protobuf import json_format
from google.rpc import status_pb2

from otel_llm._safety import report
from otel_llm.collector import otlp_wire
from otel_llm.collector._asgi import HttpError, Receive, Scope, Send, gunzip, headers_of, read_body, reply
from otel_llm.collector.service import Refused, Service, TooLarge

_log = logging.getLogger("otel_llm.collector")

PATHS = {"/v1/traces": "traces", "/v1/metrics": "metrics", "/v1/logs": "logs"}
_JSON, _PROTOBUF = otlp_wire.JSON, otlp_wire.PROTOBUF
# gRPC status codes in the google.rpc.Status of error replies
_CODES = {400: 3, 401: 16, 413: 3, 415: 3, 503: 14}


def _is_json(content_type: str | None) -> bool:
    """Whether error replies are JSON: they follow the request's encoding, even one we refuse."""
    return (content_type or "").split(";", 1)[0].strip().lower() == _JSON


class OtlpHttpReceiver:
    """The ASGI app of the OTLP/HTTP port (``/healthz`` is answered here too, for load balancers)."""

    def __init__(self, service: Service, executor: ThreadPoolExecutor) -> None:
        self.service = service
        self.executor = executor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path == "/healthz":
            await reply(send, 200, b"ok\n")
            return
        signal = PATHS.get(path)
        if signal is None:
            await reply(send, 404, b"not found: OTLP/HTTP takes POST /v1/traces, /v1/metrics, /v1/logs\n")
            return
        if scope["method"] != "POST":
            await reply(send, 405, b"method not allowed: use POST\n", headers=[("allow", "POST")])
            return
        started = time.perf_counter()
        headers = headers_of(scope)
        as_json = _is_json(headers.get("content-type"))
        extra: list[tuple[str, str]] = []
        try:
            status, body = await self._export(signal, headers, receive)
        except HttpError as err:
            status, body = err.status, self._status_body(err, as_json)
        except Exception as err:  # a bug of ours: the sender gets a 500, we get a report
            report("collector.http", err)
            status, body = 500, self._status_body(HttpError(500, "internal error"), as_json)
        if status == 503:
            extra.append(("retry-after", "1"))
        await reply(send, status, body, _JSON if as_json else _PROTOBUF, extra)
        self._count(signal, status, started)

    def _count(self, signal: str, status: int, started: float) -> None:
        metrics = self.service.metrics
        metrics.requests.labels("http", signal, str(status)).inc()
        metrics.request_seconds.labels("http").observe(time.perf_counter() - started)

    async def _export(self, signal: str, headers: dict[str, str], receive: Receive) -> tuple[int, bytes]:
        service = self.service
        sender = service.auth.sender(headers)
        if sender is None:
            raise HttpError(401, "missing or unknown credential: send Authorization: Bearer <token>")
        content_type = headers.get("content-type")
        try:  # before the body is read: an unsupported type is refused without taking it in
            media = otlp_wire.media_type(content_type)
        except otlp_wire.WireError as err:
            raise HttpError(err.status, err.message) from None
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
            raise HttpError(415, f"unsupported content encoding {encoding!r}: use gzip or none")
        limit = service.settings.max_request_bytes
        body = await read_body(receive, limit)
        if encoding == "gzip":
            body = gunzip(body, limit)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._handle, signal, sender, body, media)

    def _handle(self, signal: str, sender: Any, body: bytes, media: str) -> tuple[int, bytes]:
        try:
            request = otlp_wire.parse_request(signal, body, media)
        except otlp_wire.WireError as err:
            raise HttpError(err.status, err.message) from None
        raw = body if media == otlp_wire.PROTOBUF else None
        try:
            rejected, message = self.service.export(signal, sender, request, raw)
        except Refused as err:
            raise HttpError(503, f"try again later: {err.reason}") from None
        except TooLarge as err:
            raise HttpError(413, str(err)) from None
        return 200, otlp_wire.export_response(signal, rejected, message, json=media == otlp_wire.JSON)

    @staticmethod
    def _status_body(err: HttpError, as_json: bool) -> bytes:
        status = status_pb2.Status(code=_CODES.get(err.status, 2), message=err.message)
        if as_json:
            return json_format.MessageToJson(status, indent=None).encode()
        return status.SerializeToString()
