"""otlp_wire: bodies made by the OTel SDK's own OTLP encoder (and the OTLP spec's JSON examples)
decode into SDK spans equal to the ones the sender had; bad data is a WireError, bad spans are
rejected one by one; responses follow the partial-success rules."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import grpc
import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from otel_llm.collector import otlp_wire
from otel_llm.collector._otlp_json import MAX_DEPTH
from otel_llm.records import attribute_dict
from tests.collector.conftest import genai_spans

TENANT = "otel_llm.tenant.id"
PB = "application/x-protobuf"
JS = "application/json"


def varied_spans() -> Sequence[ReadableSpan]:
    """Spans using every field the SDK has: kinds, remote and local parents, trace state, events,
    links (with attributes and trace state), statuses, array attributes, scope attributes, a
    resource schema URL, and counts of dropped attributes, events and links."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource({"service.name": "varied", "deployment.environment": "test"}, "https://schema/1.26"),
        span_limits=SpanLimits(max_span_attributes=6, max_events=2, max_links=1, max_event_attributes=2),
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("varied.lib", "2.1", schema_url="https://schema/1.27", attributes={"lib.flag": True})
    remote = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C,
        0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState([("vendor", "v1"), ("other", "x")]),
    )
    linked = SpanContext(0x1234, 0x5678, is_remote=False, trace_state=TraceState([("lk", "lv")]))
    with tracer.start_as_current_span(
        "server work", context=set_span_in_context(NonRecordingSpan(remote)), kind=SpanKind.SERVER
    ) as root:
        root.set_attributes({"http.route": "/chat", "retries": 0, "ratio": 0.5, "ok": True})
        root.set_attribute("tags", ("a", "b"))
        root.set_attribute("counts", (1, 2, 3))
        root.set_attribute("dropped.one", "x")  # 7th attribute: over the limit of 6
        for i in range(3):  # the first is dropped: limit 2
            root.add_event(f"event {i}", {"i": i, "j": "x", "k": 1.5}, timestamp=1_700_000_000_000_000_000 + i)
        for kind in (SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL):
            with tracer.start_as_current_span(f"child {kind.name}", kind=kind, links=[Link(linked, {"why": "batch"})]):
                pass
        with tracer.start_as_current_span("failed", links=[Link(linked), Link(linked, {"n": 2})]) as failed:
            failed.set_status(Status(StatusCode.ERROR, "it broke"))
        with tracer.start_as_current_span("fine") as fine:
            fine.set_status(Status(StatusCode.OK))
    provider.shutdown()
    return exporter.get_finished_spans()


def protobuf_body(spans: Sequence[ReadableSpan]) -> bytes:
    return encode_spans(spans).SerializeToString()


def hex_ids(document: Any, upper: bool = False) -> Any:
    """The proto3 JSON mapping's base64 ids as OTLP/JSON's hex (every message, any nesting)."""
    if isinstance(document, dict):
        out = {}
        for key, value in document.items():
            if key in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"):
                text = base64.b64decode(value).hex()
                out[key] = text.upper() if upper else text
            else:
                out[key] = hex_ids(value, upper)
        return out
    if isinstance(document, list):
        return [hex_ids(item, upper) for item in document]
    return document


def json_body(request: Any, **options: Any) -> bytes:
    return orjson.dumps(hex_ids(json_format.MessageToDict(request, **options)))


def decode(body: bytes, content_type: str = PB, **kwargs: Any) -> tuple[list[ReadableSpan], int, str]:
    request = otlp_wire.parse_request("traces", body, content_type)
    kwargs.setdefault("tenant", None)
    kwargs.setdefault("trust_tenant", True)
    return otlp_wire.to_spans(request, **kwargs)


def assert_same_span(got: ReadableSpan, sent: ReadableSpan) -> None:
    assert got.name == sent.name
    assert got.context.trace_id == sent.context.trace_id
    assert got.context.span_id == sent.context.span_id
    assert got.context.trace_flags == sent.context.trace_flags
    assert got.context.trace_state == sent.context.trace_state
    assert got.context.is_remote is False
    if sent.parent is None:
        assert got.parent is None
    else:
        assert (got.parent.trace_id, got.parent.span_id) == (sent.parent.trace_id, sent.parent.span_id)
        assert got.parent.is_remote == sent.parent.is_remote
        assert got.parent.trace_flags == sent.context.trace_flags
    assert got.kind == sent.kind
    assert got.status.status_code == sent.status.status_code
    assert got.status.description == sent.status.description
    assert (got.start_time, got.end_time) == (sent.start_time, sent.end_time)
    assert dict(attribute_dict(got)) == dict(sent.attributes)
    assert got.dropped_attributes == sent.dropped_attributes
    assert got.dropped_events == sent.dropped_events
    assert got.dropped_links == sent.dropped_links
    assert [(e.name, e.timestamp, dict(e.attributes), e.dropped_attributes) for e in got.events] == [
        (e.name, e.timestamp, dict(e.attributes), e.dropped_attributes) for e in sent.events
    ]
    assert [(lk.context.trace_id, lk.context.span_id, dict(lk.attributes or {})) for lk in got.links] == [
        (lk.context.trace_id, lk.context.span_id, dict(lk.attributes or {})) for lk in sent.links
    ]
    assert got.resource.attributes == sent.resource.attributes
    assert got.resource.schema_url == sent.resource.schema_url
    scope, sent_scope = got.instrumentation_scope, sent.instrumentation_scope
    assert (scope.name, scope.version, scope.schema_url) == (sent_scope.name, sent_scope.version, sent_scope.schema_url)
    assert dict(scope.attributes) == dict(sent_scope.attributes)


# -- round trips ------------------------------------------------------------------------------------


def test_protobuf_round_trip_keeps_every_field() -> None:
    sent = varied_spans()
    assert sent[-1].dropped_attributes == 1 and sent[-1].dropped_events == 1  # the limits did bite
    got, rejected, message = decode(protobuf_body(sent))
    assert (rejected, message) == (0, "")
    assert len(got) == len(sent) == 7
    for g, s in zip(got, sent, strict=True):
        assert_same_span(g, s)
    root = got[-1]
    assert root.parent.is_remote is True and root.kind is SpanKind.SERVER
    assert attribute_dict(root)["tags"] == ("a", "b") and attribute_dict(root)["counts"] == (1, 2, 3)
    assert [lk.context.is_remote for lk in got[0].links] == [False]


def test_one_resource_and_one_scope_object_per_request_part() -> None:
    got, _, _ = decode(protobuf_body(genai_spans(5)))
    assert len({id(s.resource) for s in got}) == 1
    assert len({id(s.instrumentation_scope) for s in got}) == 1


@pytest.mark.parametrize(
    "options",
    [
        {},  # lowerCamelCase, enum names, 64-bit integers as strings
        {"use_integers_for_enums": True},  # what the OTLP spec asks for
        {"preserving_proto_field_name": True},  # snake_case keys
    ],
)
def test_json_round_trip_equals_protobuf(options: dict[str, Any]) -> None:
    request = encode_spans(varied_spans())
    parsed = otlp_wire.parse_request("traces", json_body(request, **options), JS)
    assert parsed == request


def test_json_numbers_upper_case_hex_unknown_fields_and_charset() -> None:
    request = encode_spans(genai_spans(2))
    document = hex_ids(json_format.MessageToDict(request, use_integers_for_enums=True), upper=True)
    document["newTopLevelField"] = {"anything": [1, 2]}
    for span in document["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        span["startTimeUnixNano"] = int(span["startTimeUnixNano"])  # numbers, not strings
        span["futureField"] = "ignored"
        span["attributes"][0]["value"]["futureValue"] = 1
        span["attributes"][0]["value"] = {"stringValue": "chat"}
    body = json.dumps(document).encode()
    parsed = otlp_wire.parse_request("traces", body, "Application/JSON; charset=UTF-8")
    assert parsed == request
    assert otlp_wire.parse_request("traces", b"\xef\xbb\xbf" + body, JS) == request  # a BOM is skipped


def test_base64_ids_of_the_plain_protobuf_mapping_are_accepted() -> None:
    request = encode_spans(genai_spans(2))
    body = orjson.dumps(json_format.MessageToDict(request))  # ids in base64, as some senders do
    assert otlp_wire.parse_request("traces", body, JS) == request


# The OTLP specification's trace example (opentelemetry-proto examples/trace.json), as written there.
SPEC_TRACE = b"""{"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
  "value": {"stringValue": "my.service"}}]}, "scopeSpans": [{"scope": {"name": "my.library",
  "version": "1.0.0", "attributes": [{"key": "my.scope.attribute", "value": {"stringValue":
  "some scope attribute"}}]}, "spans": [{"traceId": "5B8EFFF798038103D269B633813FC60C",
  "spanId": "EEE19B7EC3C1B174", "parentSpanId": "EEE19B7EC3C1B173", "name": "I'm a server span",
  "startTimeUnixNano": 1544712660000000000, "endTimeUnixNano": 1544712661000000000, "kind": 2,
  "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}]}]}]}]}"""


def test_spec_trace_example() -> None:
    (span,), rejected, _ = decode(SPEC_TRACE, JS)
    assert rejected == 0
    assert span.context.trace_id == 0x5B8EFFF798038103D269B633813FC60C
    assert span.context.span_id == 0xEEE19B7EC3C1B174
    assert span.parent.span_id == 0xEEE19B7EC3C1B173 and span.parent.is_remote is False
    assert span.name == "I'm a server span" and span.kind is SpanKind.SERVER
    assert (span.start_time, span.end_time) == (1544712660000000000, 1544712661000000000)
    assert dict(attribute_dict(span)) == {"my.span.attr": "some value"}
    assert span.resource.attributes["service.name"] == "my.service"
    scope = span.instrumentation_scope
    assert (scope.name, scope.version, dict(scope.attributes)) == (
        "my.library",
        "1.0.0",
        {"my.scope.attribute": "some scope attribute"},
    )
    assert span.context.trace_flags.sampled  # no W3C bits sent: an exported span was sampled


SPEC_LOGS = b"""{"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value":
  {"stringValue": "my.service"}}]}, "scopeLogs": [{"scope": {"name": "my.library"}, "logRecords":
  [{"timeUnixNano": 1544712660300000000, "observedTimeUnixNano": 1544712660300000000,
  "severityText": "Information", "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId":
  "EEE19B7EC3C1B174", "body": {"stringValue": "Example log record"}, "attributes": [{"key":
  "int.attribute", "value": {"intValue": 10}}, {"key": "double.attribute", "value": {"doubleValue":
  637.704}}, {"key": "array.attribute", "value": {"arrayValue": {"values": [{"stringValue": "many"},
  {"stringValue": "values"}]}}}, {"key": "map.attribute", "value": {"kvlistValue": {"values":
  [{"key": "some.map.key", "value": {"stringValue": "some value"}}]}}}]}]}]}]}"""

SPEC_METRICS = b"""{"resourceMetrics": [{"scopeMetrics": [{"metrics": [
  {"name": "my.counter", "sum": {"aggregationTemporality": 1, "isMonotonic": true, "dataPoints":
    [{"asDouble": 5, "startTimeUnixNano": 1544712660300000000, "timeUnixNano": 1544712660300000000}]}},
  {"name": "my.gauge", "gauge": {"dataPoints": [{"asDouble": 10, "timeUnixNano": 1544712660300000000,
    "exemplars": [{"asInt": "3", "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174"}]}]}},
  {"name": "my.histogram", "histogram": {"aggregationTemporality": 1, "dataPoints": [{"count": 3,
    "sum": 3, "bucketCounts": [1, 1, 1], "explicitBounds": [1], "min": 1, "max": 1}]}},
  {"name": "no data"}]}]}]}"""


def test_spec_logs_and_metrics_examples_decode_and_count() -> None:
    logs = otlp_wire.parse_request("logs", SPEC_LOGS, JS)
    record = logs.resource_logs[0].scope_logs[0].log_records[0]
    assert record.trace_id == bytes.fromhex("5B8EFFF798038103D269B633813FC60C")
    assert record.span_id == bytes.fromhex("EEE19B7EC3C1B174")
    assert record.body.string_value == "Example log record"
    assert record.attributes[3].value.kvlist_value.values[0].key == "some.map.key"
    assert otlp_wire.count_items("logs", logs) == 1
    metrics = otlp_wire.parse_request("metrics", SPEC_METRICS, JS)
    exemplar = metrics.resource_metrics[0].scope_metrics[0].metrics[1].gauge.data_points[0].exemplars[0]
    assert exemplar.span_id == bytes.fromhex("EEE19B7EC3C1B174") and exemplar.as_int == 3
    assert metrics.resource_metrics[0].scope_metrics[0].metrics[2].histogram.data_points[0].bucket_counts == [1, 1, 1]
    assert otlp_wire.count_items("metrics", metrics) == 3
    assert otlp_wire.count_items("traces", otlp_wire.parse_request("traces", SPEC_TRACE, JS)) == 1


# -- attribute values -------------------------------------------------------------------------------


def request_with_attributes(values: dict[str, Any]) -> ExportTraceServiceRequest:
    """One valid span whose attributes are AnyValue dicts as in the proto3 JSON mapping."""
    document = json.loads(SPEC_TRACE)
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
        {"key": k, "value": v} for k, v in values.items()
    ]
    return otlp_wire.parse_request("traces", json.dumps(document).encode(), JS)


def test_any_values_the_sdk_has_no_type_for_become_json_strings() -> None:
    request = request_with_attributes(
        {
            "map": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}, {"key": "b", "value": {}}]}},
            "raw": {"bytesValue": base64.b64encode(b"\x00\xffhi").decode()},
            "mixed": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}},
            "nested": {"arrayValue": {"values": [{"arrayValue": {"values": [{"boolValue": True}]}}]}},
            "bytes.in.array": {"arrayValue": {"values": [{"bytesValue": "AAE="}]}},
            "ints": {"arrayValue": {"values": [{"intValue": "1"}, {"intValue": 0}]}},
            "with.empty": {"arrayValue": {"values": [{"stringValue": "a"}, {}]}},
            "empty.array": {"arrayValue": {}},
            "no.value": {},
            "zero": {"intValue": 0},
            "false": {"boolValue": False},
            "empty.string": {"stringValue": ""},
            "nan": {"doubleValue": "NaN"},
            "double": {"doubleValue": 2},
        }
    )
    (span,), _, _ = otlp_wire.to_spans(request, tenant=None, trust_tenant=True)
    values = attribute_dict(span)
    assert json.loads(values["map"]) == {"a": 1, "b": None}
    assert values["raw"] == base64.b64encode(b"\x00\xffhi").decode()
    assert json.loads(values["mixed"]) == ["a", 2]
    assert json.loads(values["nested"]) == [[True]]
    assert json.loads(values["bytes.in.array"]) == ["AAE="]
    assert values["ints"] == (1, 0)
    assert values["with.empty"] == ("a", None)
    assert values["empty.array"] == ()
    assert "no.value" not in values
    assert values["zero"] == 0 and type(values["zero"]) is int
    assert values["false"] is False
    assert values["empty.string"] == ""
    assert values["nan"] != values["nan"]
    assert values["double"] == 2.0 and type(values["double"]) is float


# -- rejected spans (partial success) and tenant ----------------------------------------------------


def test_spans_with_bad_ids_or_times_are_rejected_one_by_one() -> None:
    request = encode_spans(genai_spans(8))
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[0].trace_id = b"\x01" * 15
    spans[1].trace_id = bytes(16)
    spans[2].span_id = b"\x01" * 9
    spans[3].span_id = bytes(8)
    spans[4].parent_span_id = b"\x01" * 4
    spans[5].end_time_unix_nano = spans[5].start_time_unix_nano - 1
    spans[6].parent_span_id = bytes(8)  # all zero: no parent
    spans[7].links.add(trace_id=b"\x01" * 3, span_id=b"\x02" * 8)  # a bad link is dropped, not the span
    got, rejected, message = decode(request.SerializeToString())
    assert rejected == 6 and len(got) == 2
    assert got[0].parent is None
    assert list(got[1].links) == [] and got[1].dropped_links == 1
    assert message.startswith("rejected 6 of 8 spans: ")
    assert "2 with an invalid trace id" in message and "2 with an invalid span id" in message
    assert "1 with an invalid parent span id" in message and "1 with an end time before" in message
    assert otlp_wire.export_response("traces", rejected, message, json=False)


def test_json_ids_of_the_wrong_length_or_not_hex_reject_the_span_not_the_request() -> None:
    document = json.loads(SPEC_TRACE)
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    good = dict(spans[0])
    spans[:] = [
        {**good, "traceId": "5B8EFFF798038103D269B633813FC6"},  # 15 bytes
        {**good, "spanId": "EEE19B7EC3C1B17"},  # odd length
        {**good, "spanId": "zzz19B7EC3C1B174"},  # not hex, and 16 characters
        {**good, "parentSpanId": "0102"},
        good,
    ]
    got, rejected, message = decode(json.dumps(document).encode(), JS)
    assert (len(got), rejected) == (1, 4)
    assert "1 with an invalid trace id" in message and "2 with an invalid span id" in message


def test_untrusted_tenant_comes_from_the_credential_only() -> None:
    body = protobuf_body(
        genai_spans(3, attributes={TENANT: "forged-span"}, resource={TENANT: "forged-resource", "keep": "me"})
    )
    got, _, _ = decode(body, tenant="team-a", trust_tenant=False)
    for span in got:
        assert attribute_dict(span)[TENANT] == "team-a"
        assert TENANT not in span.resource.attributes and span.resource.attributes["keep"] == "me"
    got, _, _ = decode(body, tenant=None, trust_tenant=False)
    assert all(TENANT not in attribute_dict(s) and TENANT not in s.resource.attributes for s in got)
    got, _, _ = decode(body, tenant="ignored", trust_tenant=True)
    assert {attribute_dict(s)[TENANT] for s in got} == {"forged-span"}
    assert got[0].resource.attributes[TENANT] == "forged-resource"
    got, _, _ = decode(protobuf_body(genai_spans(1)), tenant=None, trust_tenant=True)
    assert TENANT not in attribute_dict(got[0])


# -- responses --------------------------------------------------------------------------------------


RESPONSES = {
    "traces": (ExportTraceServiceResponse, "rejected_spans"),
    "metrics": (ExportMetricsServiceResponse, "rejected_data_points"),
    "logs": (ExportLogsServiceResponse, "rejected_log_records"),
}


@pytest.mark.parametrize("signal", otlp_wire.SIGNALS)
def test_export_response_sets_partial_success_only_when_needed(signal: str) -> None:
    response_type, field = RESPONSES[signal]
    full = response_type.FromString(otlp_wire.export_response(signal, 0, "", json=False))
    assert not full.HasField("partial_success")
    assert json.loads(otlp_wire.export_response(signal, 0, "", json=True)) == {}
    partial = response_type.FromString(otlp_wire.export_response(signal, 3, "3 bad", json=False))
    assert getattr(partial.partial_success, field) == 3 and partial.partial_success.error_message == "3 bad"
    body = otlp_wire.export_response(signal, 3, "3 bad", json=True)
    assert json_format.Parse(body, response_type()) == partial
    camel = "".join(w.capitalize() if i else w for i, w in enumerate(field.split("_")))
    assert json.loads(body)["partialSuccess"][camel] in ("3", 3)
    warning = response_type.FromString(otlp_wire.export_response(signal, 0, "a warning", json=False))
    assert warning.HasField("partial_success") and warning.partial_success.error_message == "a warning"


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/grpc", "application/json; charset=latin-1", "application/xml"]
)
def test_unsupported_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(otlp_wire.WireError) as caught:
        otlp_wire.parse_request("traces", b"{}", content_type)
    assert caught.value.status == 415 and caught.value.grpc_code is grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_signal_is_a_callers_bug() -> None:
    with pytest.raises(ValueError):
        otlp_wire.parse_request("profiles", b"", PB)


def bad_utf8_protobuf() -> bytes:
    request = encode_spans(genai_spans(1))
    request.resource_spans[0].scope_spans[0].spans[0].name = "abcXYZ"
    return request.SerializeToString().replace(b"abcXYZ", b"abc\xff\xfeZ")


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PB, "protobuf"),
        (bad_utf8_protobuf(), PB, "UTF-8"),
        (b"[]", JS, "JSON object"),
        (b'"text"', JS, "JSON object"),
        (b"{", JS, "not valid JSON"),
        (b'{"resourceSpans": [{"resource": {"attributes": [{"key": "a\xff"}]}}]}', JS, "not valid JSON"),
        (b'{"resourceSpans": {"not": "a list"}}', JS, "resourceSpans: expected an array"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5}]}]}]}', JS, "spans.0.name: expected a string"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": true}]}]}]}', JS, "kind"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"droppedEventsCount": -1}]}]}]}', JS, "out of range"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "1e3"}]}]}]}', JS, "integer"),
        (b'{"resourceSpans": [null]}', JS, "null"),
        (
            b'{"resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": {"bytesValue": "!"}}]}}]}',
            JS,
            "base64",
        ),
        (
            b'{"resourceSpans": [{"resource": {"attributes": [{"value": {"stringValue": "a", "intValue": 1}}]}}]}',
            JS,
            "both",
        ),
        (b"[" * 100_000 + b"]" * 100_000, JS, "not valid JSON"),
    ],
)
def test_bad_data_is_400(body: bytes, content_type: str, words: str) -> None:
    with pytest.raises(otlp_wire.WireError) as caught:
        otlp_wire.parse_request("traces", body, content_type)
    assert caught.value.status == 400 and caught.value.grpc_code is grpc.StatusCode.INVALID_ARGUMENT
    assert words in caught.value.message and len(caught.value.message) < 500


def nested_json(levels: int) -> bytes:
    """A span attribute whose value is an array nested ``levels`` deep (each level 2 messages)."""
    value: dict[str, Any] = {"stringValue": "x"}
    for _ in range(levels):
        value = {"arrayValue": {"values": [value]}}
    document = json.loads(SPEC_TRACE)
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [{"key": "deep", "value": value}]
    return json.dumps(document).encode()


def test_json_nesting_limit_matches_what_protobuf_parses_again() -> None:
    # request 1, resource spans 2, scope spans 3, span 4, key value 5, value 6, +2 per array level
    deepest = (MAX_DEPTH - 6) // 2
    request = otlp_wire.parse_request("traces", nested_json(deepest), JS)
    assert ExportTraceServiceRequest.FromString(request.SerializeToString()) == request  # the WAL reads it back
    (span,), _, _ = otlp_wire.to_spans(request, tenant=None, trust_tenant=True)
    assert attribute_dict(span)["deep"].startswith("[[[")
    with pytest.raises(otlp_wire.WireError) as caught:
        otlp_wire.parse_request("traces", nested_json(deepest + 1), JS)
    assert caught.value.status == 400 and "nested" in caught.value.message
    with pytest.raises(otlp_wire.WireError):  # what the JSON path refuses, protobuf refuses too
        request_bytes = otlp_wire.parse_request("traces", nested_json(deepest), JS)
        deeper = PbSpan.FromString(request_bytes.resource_spans[0].scope_spans[0].spans[0].SerializeToString())
        value = deeper.attributes[0].value
        while value.HasField("array_value"):
            value = value.array_value.values[0]
        value.array_value.values.add(string_value="one more")
        request_bytes.resource_spans[0].scope_spans[0].spans[0].CopyFrom(deeper)
        otlp_wire.parse_request("traces", request_bytes.SerializeToString(), PB)


@pytest.mark.parametrize("levels", [300, 3000])  # past orjson's limit; past Python's recursion limit
@pytest.mark.parametrize("where", ["span", "event", "resource"])
def test_deep_message_built_in_process_rejects_its_spans_instead_of_raising(levels: int, where: str) -> None:
    request = encode_spans(genai_spans(2))
    span = request.resource_spans[0].scope_spans[0].spans[0]
    owner = {"span": span, "event": span.events.add(name="e"), "resource": request.resource_spans[0].resource}[where]
    value = owner.attributes.add(key="deep").value
    for _ in range(levels):  # in process, upb builds what it would not parse
        value = value.array_value.values.add()
    value.string_value = "bottom"
    got, rejected, message = otlp_wire.to_spans(request, tenant=None, trust_tenant=True)
    assert rejected == (2 if where == "resource" else 1) and len(got) == 2 - rejected
    assert "nested too deeply" in message


def test_wire_error_codes() -> None:
    assert otlp_wire.WireError(413, "too big").grpc_code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert otlp_wire.WireError(400, "bad").message == "bad"


def test_invalid_trace_state_and_empty_keys_are_dropped_without_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    request = encode_spans(genai_spans(3))
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[0].trace_state = "vendor=ok,tenant@system=v2"
    spans[1].trace_state = "Not Valid=\x01" * 50
    spans[2].trace_state = ",".join(f"k{i}=v" for i in range(33))  # more keys than W3C allows
    for span in spans:
        span.attributes.add(key="", value={"string_value": "no key"})
    request.resource_spans[0].resource.attributes.add(key="", value={"string_value": "no key"})
    with caplog.at_level("DEBUG"):
        got, rejected, _ = otlp_wire.to_spans(request, tenant=None, trust_tenant=True)
    assert rejected == 0
    assert dict(got[0].context.trace_state) == {"vendor": "ok", "tenant@system": "v2"}
    assert dict(got[1].context.trace_state) == {} and dict(got[2].context.trace_state) == {}
    assert all("" not in attribute_dict(s) for s in got) and "" not in got[0].resource.attributes
    assert caplog.records == []


def test_json_tables_made_on_several_threads_at_once_decode_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from otel_llm.collector import _otlp_json

    request = encode_spans(varied_spans())
    body = json_body(request, use_integers_for_enums=True)
    monkeypatch.setattr(_otlp_json, "_TABLES", {})  # as at start-up: every table still to make
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: otlp_wire.parse_request("traces", body, JS), range(32)))
    assert all(result == request for result in results)
