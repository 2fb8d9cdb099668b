"""How the demo prints telemetry: spans and metrics for people, or OTLP/JSON lines for tools."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from opentelemetry.sdk.metrics.export import Gauge, Histogram, MetricsData, Sum
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


def _value_text(value: Any) -> str:
    """Strings as they are (content attributes are JSON already); everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return json.dumps(value)


class ReadableSpanPrinter(SpanExporter):  # type: ignore[misc]
    """Prints each finished span for a human: header lines, then sorted attributes, one per line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            for span in spans:
                self._out.write(format_span(span))
            self._out.flush()
        except BrokenPipeError:  # `otel-llm demo | head`: the reader left; the CLI exits quietly
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def format_span(span: ReadableSpan) -> str:
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    status = span.status.status_code.name
    if span.status.description:
        status += f" ({span.status.description})"
    scope = span.instrumentation_scope
    lines = [
        f"span: {span.name}",
        f"  kind: {span.kind.name}",
        f"  status: {status}",
        f"  duration: {duration_ms:.1f} ms",
    ]
    if scope is not None:
        lines.append(f"  scope: {scope.name} {scope.version or ''}".rstrip())
    lines.append("  attributes:")
    for key in sorted(span.attributes or {}):
        lines.append(f"    {key}: {_value_text(span.attributes[key])}")  # type: ignore[index]
    if span.events:
        lines.append("  events:")
        for event in span.events:
            lines.append(f"    {event.name}")
            for key in sorted(event.attributes or {}):
                lines.append(f"      {key}: {_value_text(event.attributes[key])}")  # type: ignore[index]
    return "\n".join(lines) + "\n\n"


def format_metrics(data: MetricsData | None) -> str:
    """Each metric with its unit, then each data point: count and sum, and its attributes."""
    lines = ["metrics:"]
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = type(metric.data).__name__.lower()
                lines.append(f"  {metric.name} [{metric.unit}] {kind}")
                points = sorted(metric.data.data_points, key=lambda p: sorted((p.attributes or {}).items()))
                for point in points:
                    if isinstance(metric.data, Histogram):
                        lines.append(f"    - count: {point.count}  sum: {_number(point.sum)}")
                    else:
                        lines.append(f"    - value: {_number(point.value)}")
                    attrs = ", ".join(f"{k}={_value_text(v)}" for k, v in sorted((point.attributes or {}).items()))
                    lines.append(f"      {{{attrs}}}")
    if len(lines) == 1:
        lines.append("  (none recorded)")
    return "\n".join(lines) + "\n"


def format_destinations(stats: Mapping[str, Mapping[str, Any]]) -> str:
    """What each destination of the pipeline did, in the words of its shutdown log line."""
    from otel_llm.processing.accounting import totals

    lines = ["", "Destinations (otel-llm pipeline):"]
    for name, s in stats.items():
        lines.append(f"  {name}: {totals(s)}")
        if s.get("last_error"):
            lines.append(f"    last error: {s['last_error']}")
    return "\n".join(lines)


def _number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


# OTLP/JSON encoding (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): hex ids,
# 64-bit integers as strings, enums as numbers, attributes as key/AnyValue lists.


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (tuple, list)):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _key_values(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any_value(v)} for k, v in sorted((attributes or {}).items())]


def _scope(scope: Any) -> dict[str, Any]:
    return {"name": scope.name, "version": scope.version or ""} if scope is not None else {"name": ""}


def otlp_span(span: ReadableSpan) -> dict[str, Any]:
    """One span as an OTLP/JSON TracesData document (the OTLP file format: one per line)."""
    ctx = span.get_span_context()
    body: dict[str, Any] = {
        "traceId": f"{ctx.trace_id:032x}",
        "spanId": f"{ctx.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,  # the OTLP enum reserves 0 for UNSPECIFIED
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": _key_values(span.attributes),
        "status": {"code": span.status.status_code.value, "message": span.status.description or ""},
    }
    if span.parent is not None:
        body["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.events:
        body["events"] = [
            {"name": e.name, "timeUnixNano": str(e.timestamp), "attributes": _key_values(e.attributes)}
            for e in span.events
        ]
    scope = span.instrumentation_scope
    scope_spans = {"scope": _scope(scope), "spans": [body]}
    if scope is not None and scope.schema_url:
        scope_spans["schemaUrl"] = scope.schema_url
    return {
        "resourceSpans": [
            {"resource": {"attributes": _key_values(span.resource.attributes)}, "scopeSpans": [scope_spans]}
        ]
    }


def otlp_metrics(data: MetricsData | None) -> dict[str, Any]:
    """The collected metrics as an OTLP/JSON MetricsData document."""
    resource_metrics = []
    for rm in data.resource_metrics if data else ():
        scope_metrics = []
        for sm in rm.scope_metrics:
            metrics = [_otlp_metric(m) for m in sm.metrics]
            scope_metrics.append({"scope": _scope(sm.scope), "metrics": metrics})
        resource_metrics.append(
            {"resource": {"attributes": _key_values(rm.resource.attributes)}, "scopeMetrics": scope_metrics}
        )
    return {"resourceMetrics": resource_metrics}


def _otlp_metric(metric: Any) -> dict[str, Any]:
    data = metric.data
    out: dict[str, Any] = {"name": metric.name, "unit": metric.unit or "", "description": metric.description or ""}
    points = []
    for p in data.data_points:
        point: dict[str, Any] = {
            "attributes": _key_values(p.attributes),
            "startTimeUnixNano": str(getattr(p, "start_time_unix_nano", 0) or 0),
            "timeUnixNano": str(p.time_unix_nano),
        }
        if isinstance(data, Histogram):
            point |= {
                "count": str(p.count),
                "sum": p.sum,
                "min": p.min,
                "max": p.max,
                "bucketCounts": [str(c) for c in p.bucket_counts],
                "explicitBounds": list(p.explicit_bounds),
            }
        elif isinstance(p.value, int):
            point["asInt"] = str(p.value)
        else:
            point["asDouble"] = p.value
        points.append(point)
    if isinstance(data, Histogram):
        out["histogram"] = {"dataPoints": points, "aggregationTemporality": data.aggregation_temporality.value}
    elif isinstance(data, Sum):
        out["sum"] = {
            "dataPoints": points,
            "aggregationTemporality": data.aggregation_temporality.value,
            "isMonotonic": data.is_monotonic,
        }
    elif isinstance(data, Gauge):
        out["gauge"] = {"dataPoints": points}
    return out


class JsonSpanPrinter(SpanExporter):  # type: ignore[misc]
    """Prints each finished span as one line of OTLP/JSON, so the output pipes into jq."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            for span in spans:
                self._out.write(json.dumps(otlp_span(span)) + "\n")
            self._out.flush()
        except BrokenPipeError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass
