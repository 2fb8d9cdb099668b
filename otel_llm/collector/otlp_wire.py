"""OTLP on the wire: request bodies in, SDK spans and Export*ServiceResponse bodies out.

Receivers (gRPC and HTTP) call ``parse_request`` on a body (HTTP; gRPC has the message already),
``to_spans`` on a trace request, ``count_items`` for metrics and logs (counted, not processed), and
``export_response`` for the reply. Nothing here raises on bad input but ``WireError``, whose
message is safe to return to the sender: fuzzed with arbitrary and mutated bodies in the tests.

The rules come from the OTLP specification: protobuf (``application/x-protobuf``) or OTLP/JSON
(``application/json``, see ``_otlp_json``); data that cannot be decoded is a 400 (not retryable);
items that decode but cannot be used (a span whose ids or times are invalid) are rejected one by
one and reported in the response's ``partial_success``, never failing the others.
"""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.collector import _otlp_json
from otel_llm.collector._otlp_spans import request_spans

SIGNALS = ("traces", "metrics", "logs")
PROTOBUF = "application/x-protobuf"
JSON = "application/json"

_REQUESTS: dict[str, Any] = {
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "logs": ExportLogsServiceRequest,
}
# signal → (response type, partial success type, name of its rejected-items field)
_RESPONSES: dict[str, tuple[Any, Any, str]] = {
    "traces": (ExportTraceServiceResponse, ExportTracePartialSuccess, "rejected_spans"),
    "metrics": (ExportMetricsServiceResponse, ExportMetricsPartialSuccess, "rejected_data_points"),
    "logs": (ExportLogsServiceResponse, ExportLogsPartialSuccess, "rejected_log_records"),
}
_GRPC_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
}
_MAX_REASON = 300  # characters of a decoder's explanation quoted back to the sender


class WireError(Exception):
    """A request that cannot be taken as it is: the sender must not retry it unchanged.

    ``status`` is the HTTP status (400 bad data, 413 too large, 415 unsupported media type),
    ``grpc_code`` the matching gRPC code, ``message`` a short English text safe to send back.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.grpc_code: grpc.StatusCode = _GRPC_CODES.get(status, grpc.StatusCode.INVALID_ARGUMENT)


def _request_type(signal: str) -> Any:
    try:
        return _REQUESTS[signal]
    except KeyError:
        raise ValueError(f"unknown OTLP signal {signal!r}: one of {', '.join(SIGNALS)}") from None


def media_type(content_type: str | None) -> str:
    """``PROTOBUF`` or ``JSON`` for a Content-Type header; WireError(415) for anything else.

    Parameters are allowed; for JSON a charset other than UTF-8 is refused (OTLP/JSON is UTF-8).
    """
    kind, _, parameters = (content_type or "").partition(";")
    kind = kind.strip().lower()
    if kind == PROTOBUF:
        return PROTOBUF
    if kind == JSON:
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
                raise WireError(415, f"unsupported charset {value.strip()!r}: OTLP/JSON is UTF-8")
        return JSON
    raise WireError(415, f"unsupported content type {content_type!r}: use {PROTOBUF} or {JSON}")


def parse_request(signal: str, body: bytes, content_type: str | None) -> Message:
    """The Export{Trace,Metrics,Logs}ServiceRequest in ``body``, protobuf or OTLP/JSON by
    ``content_type``. WireError(415) for another content type, WireError(400) for anything that
    does not decode: bad protobuf or JSON, invalid UTF-8 (also in protobuf string fields), nesting
    too deep, values of the wrong type. ValueError for a signal not in SIGNALS (a caller's bug)."""
    request_type = _request_type(signal)
    kind = media_type(content_type)
    name = request_type.DESCRIPTOR.name
    if kind == PROTOBUF:
        try:
            return request_type.FromString(body)
        except Exception as err:  # DecodeError for bad wire data, bad UTF-8 and nesting beyond upb's limit
            raise WireError(400, f"the body is not a valid {name} (protobuf): {_reason(err)}") from None
    try:
        return _otlp_json.parse(request_type, body)
    except _otlp_json.JsonError as err:
        raise WireError(400, f"the body is not a valid {name} (OTLP/JSON): {_reason(err)}") from None
    except orjson.JSONDecodeError as err:  # bad JSON, invalid UTF-8, nesting beyond orjson's limit
        raise WireError(400, f"the body is not valid JSON: {_reason(err)}") from None
    except RecursionError:
        raise WireError(400, "the body is nested too deeply") from None
    except Exception as err:  # the upb constructor's TypeError/ValueError for a value it refuses
        raise WireError(400, f"the body is not a valid {name} (OTLP/JSON): {_reason(err)}") from None


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + "…"


def to_spans(
    request: ExportTraceServiceRequest, *, tenant: str | None, trust_tenant: bool
) -> tuple[list[ReadableSpan], int, str]:
    """The request's spans as SDK ReadableSpans, ``(spans, rejected, message)``.

    A span whose trace id is not 16 bytes (not all zero), span id not 8 bytes (not all zero),
    parent span id neither empty nor 8 bytes, or end time before its start is rejected and counted;
    ``message`` says how many and why (empty when none). Links with invalid ids are dropped and
    counted in the span's dropped links. With ``trust_tenant`` False (auth on) the tenant comes
    from the credential only: ``otel_llm.tenant.id`` is removed from resource and span attributes
    and, when ``tenant`` is not None, set to it on every span. With ``trust_tenant`` True (auth
    off) attributes are kept as sent.
    """
    return request_spans(request, tenant, trust_tenant)


def count_items(signal: str, request: Message) -> int:
    """Spans, metric data points or log records in a request (the items partial success counts)."""
    _request_type(signal)
    if signal == "traces":
        return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)  # type: ignore[attr-defined]
    if signal == "logs":
        return sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)  # type: ignore[attr-defined]
    total = 0
    for resource in request.resource_metrics:  # type: ignore[attr-defined]
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                data = metric.WhichOneof("data")
                if data is not None:
                    total += len(getattr(metric, data).data_points)
    return total


def export_response(signal: str, rejected: int, message: str, *, json: bool) -> bytes:
    """The serialized Export*ServiceResponse: ``partial_success`` only when items were rejected or
    there is a message (the spec's rule: unset on full success), JSON or protobuf like the request."""
    response_type, partial_type, field = _RESPONSES[signal]
    response = response_type()
    if rejected > 0 or message:
        response.partial_success.CopyFrom(partial_type(**{field: max(rejected, 0), "error_message": message}))
    if json:
        return json_format.MessageToJson(response, indent=None).encode("utf-8")
    return response.SerializeToString()
