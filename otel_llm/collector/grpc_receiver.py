"""OTLP/gRPC: the TraceService, MetricsService and LogsService ``Export`` calls on a grpcio server.

Status codes as the OTLP specification asks: UNAUTHENTICATED without a valid credential,
UNAVAILABLE (retryable) when the collector cannot take data now; partial success in the reply when
some items were rejected. grpcio itself refuses messages over the size limit (RESOURCE_EXHAUSTED)
and undecodable ones, and decompresses gzip.
"""

from __future__ import annotations

import logging
import time
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from otel_llm._safety import report
from otel_llm.collector import otlp_wire
from otel_llm.collector.service import Refused, Service, TooLarge

_log = logging.getLogger("otel_llm.collector")

_RESPONSES = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
    "logs": logs_service_pb2.ExportLogsServiceResponse,
}


class _Export:
    def __init__(self, service: Service, signal: str) -> None:
        self.service = service
        self.signal = signal

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            headers = {k.lower(): v for k, v in context.invocation_metadata() if isinstance(v, str)}
            sender = self.service.auth.sender(headers)
            if sender is None:
                code = grpc.StatusCode.UNAUTHENTICATED
                context.abort(code, "missing or unknown credential: send authorization: Bearer <token>")
            try:
                rejected, message = self.service.export(self.signal, sender, request)
            except Refused as err:
                code = grpc.StatusCode.UNAVAILABLE
                context.abort(code, f"try again later: {err.reason}")
            except TooLarge as err:  # as grpcio's own size limit: not retried without RetryInfo
                code = grpc.StatusCode.RESOURCE_EXHAUSTED
                context.abort(code, str(err))
            return _RESPONSES[self.signal].FromString(
                otlp_wire.export_response(self.signal, rejected, message, json=False)
            )
        except Exception as err:
            if code is grpc.StatusCode.OK:  # not an abort of ours: a bug, reported, and a retryable reply
                report("collector.grpc", err)
                code = grpc.StatusCode.INTERNAL
                context.abort(code, "internal error")
            raise
        finally:
            metrics = self.service.metrics
            metrics.requests.labels("grpc", self.signal, code.name).inc()
            metrics.request_seconds.labels("grpc").observe(time.perf_counter() - started)


class _Traces(_Export, trace_service_pb2_grpc.TraceServiceServicer):
    pass


class _Metrics(_Export, metrics_service_pb2_grpc.MetricsServiceServicer):
    pass


class _Logs(_Export, logs_service_pb2_grpc.LogsServiceServicer):
    pass


def grpc_server(service: Service, address: str, credentials: grpc.ServerCredentials | None) -> tuple[grpc.Server, int]:
    """A started server on ``address`` (``host:port``; port 0 picks one) and the port it listens on."""
    limit = service.settings.max_request_bytes
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="otel-llm-grpc"),
        options=[("grpc.max_receive_message_length", limit), ("grpc.so_reuseport", 0)],
        maximum_concurrent_rpcs=64,
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(service, "traces"), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(service, "metrics"), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(service, "logs"), server)
    secure = credentials is not None
    port = server.add_secure_port(address, credentials) if secure else server.add_insecure_port(address)
    server.start()
    return server, port


def server_credentials(tls: Any) -> grpc.ServerCredentials:
    with open(tls.cert_file, "rb") as f:
        cert = f.read()
    with open(tls.key_file, "rb") as f:
        key = f.read()
    ca = None
    if tls.client_ca_file:
        with open(tls.client_ca_file, "rb") as f:
            ca = f.read()
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)
