"""Fuzzing otlp_wire: whatever a sender puts in a body, decoding raises nothing but WireError, and
what it accepts converts (to_spans, count_items) and serializes into bytes that parse again (the
write-ahead log stores them). The OTLP/JSON decoder is also checked against json_format, the
reference implementation of the proto3 JSON mapping it follows. Bounded: about 200 examples per
test, the file runs in seconds."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_llm.collector import otlp_wire
from tests.collector.conftest import genai_spans

PB = "application/x-protobuf"
JS = "application/json"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDS = ("traceId", "spanId", "parentSpanId")


def hex_ids(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: base64.b64decode(v).hex() if k in IDS else hex_ids(v) for k, v in document.items()}
    if isinstance(document, list):
        return [hex_ids(item) for item in document]
    return document


def _metrics_request() -> Any:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("fuzz", "1.0")
    meter.create_counter("gen_ai.client.token.usage.count").add(120, {"gen_ai.token.type": "input"})
    meter.create_histogram("gen_ai.client.operation.duration").record(0.8, {"gen_ai.provider.name": "openai"})
    meter.create_up_down_counter("in.flight").add(-1)
    meter.create_gauge("queue.depth").set(4)
    return encode_metrics(reader.get_metrics_data())


def _logs_request() -> Any:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("fuzz", "1.0")
    logger.emit(body={"msg": "hello", "n": [1, 2.5, True]}, attributes={"a": 1, "b": "x"}, severity_text="INFO")
    logger.emit(body="plain", attributes={"gen_ai.provider.name": "openai"})
    return encode_logs(exporter.get_finished_logs())


REQUESTS = {
    "traces": encode_spans(genai_spans(3, error_every=2, attributes={"tags": ("a", "b"), "ratio": 0.5})),
    "metrics": _metrics_request(),
    "logs": _logs_request(),
}
SEEDS = {
    (signal, kind): body
    for signal, request in REQUESTS.items()
    for kind, body in (
        (PB, request.SerializeToString()),
        (JS, orjson.dumps(hex_ids(json_format.MessageToDict(request, use_integers_for_enums=True)))),
    )
}


def accept_or_refuse(signal: str, body: bytes, content_type: str) -> None:
    """The property: WireError(400) or a request that converts and parses again once serialized."""
    try:
        request = otlp_wire.parse_request(signal, body, content_type)
    except otlp_wire.WireError as err:
        assert err.status == 400 and err.message
        return
    again = type(request).FromString(request.SerializeToString())
    assert again == request
    count = otlp_wire.count_items(signal, request)
    if signal == "traces":
        for trust in (True, False):
            spans, rejected, message = otlp_wire.to_spans(request, tenant="t", trust_tenant=trust)
            assert len(spans) + rejected == count
            assert bool(message) == bool(rejected)
            for span in spans:
                assert span.context.is_valid and span.end_time >= span.start_time
    otlp_wire.export_response(signal, count, "x", json=content_type == JS)


signals = st.sampled_from(otlp_wire.SIGNALS)
kinds = st.sampled_from((PB, JS))


@FUZZ
@given(signals, kinds, st.binary(max_size=512))
def test_random_bytes_never_raise_anything_but_wire_error(signal: str, content_type: str, body: bytes) -> None:
    accept_or_refuse(signal, body, content_type)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 16)),
)


def mutate(body: bytes, operations: list[tuple[str, int, Any]]) -> bytes:
    data = bytearray(body)
    for operation, at, argument in operations:
        if not data:
            break
        at %= len(data)
        if operation == "flip":
            data[at] ^= 1 << argument
        elif operation == "cut":
            del data[at:]
        elif operation == "insert":
            data[at:at] = argument
        else:
            del data[at : at + argument]
    return bytes(data)


@FUZZ
@given(signals, kinds, st.lists(mutation, min_size=1, max_size=6))
def test_mutated_valid_bodies_never_raise_anything_but_wire_error(
    signal: str, content_type: str, operations: list[tuple[str, int, Any]]
) -> None:
    accept_or_refuse(signal, mutate(SEEDS[(signal, content_type)], operations), content_type)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def replace_at(document: Any, steps: list[int], value: Any) -> Any:
    """``document`` with the node reached by ``steps`` (child indexes, modulo) replaced by ``value``."""
    if not steps or not isinstance(document, (dict, list)) or not document:
        return value
    if isinstance(document, list):
        index = steps[0] % len(document)
        return [replace_at(item, steps[1:], value) if i == index else item for i, item in enumerate(document)]
    key = list(document)[steps[0] % len(document)]
    return {k: replace_at(v, steps[1:], value) if k == key else v for k, v in document.items()}


@FUZZ
@given(signals, st.lists(st.integers(0, 64), max_size=12), json_values)
def test_json_with_any_value_anywhere_never_raises_anything_but_wire_error(
    signal: str, steps: list[int], value: Any
) -> None:
    document = replace_at(orjson.loads(SEEDS[(signal, JS)]), steps, value)
    accept_or_refuse(signal, json.dumps(document).encode(), JS)


# -- the JSON decoder against json_format ------------------------------------------------------------

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
int64 = st.integers(-(2**63), 2**63 - 1)
uint64 = st.integers(0, 2**64 - 1)


def as_json_int(strategy: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """64-bit integers are numbers or decimal strings in proto3 JSON; both must be read."""
    return strategy.flatmap(lambda n: st.sampled_from((n, str(n))))


any_values = st.recursive(
    st.one_of(
        st.builds(lambda v: {"stringValue": v}, text),
        st.builds(lambda v: {"boolValue": v}, st.booleans()),
        st.builds(lambda v: {"intValue": v}, as_json_int(int64)),
        st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=False, allow_infinity=False)),
        st.builds(lambda v: {"doubleValue": v}, st.sampled_from(("NaN", "Infinity", "-Infinity"))),
        st.builds(lambda v: {"bytesValue": base64.b64encode(v).decode()}, st.binary(max_size=6)),
        st.just({}),
    ),
    lambda inner: st.one_of(
        st.builds(lambda vs: {"arrayValue": {"values": vs}}, st.lists(inner, max_size=3)),
        st.builds(
            lambda kvs: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kvs]}},
            st.lists(st.tuples(text, inner), max_size=3),
        ),
    ),
    max_leaves=8,
)
attributes = st.lists(st.builds(lambda k, v: {"key": k, "value": v}, text, any_values), max_size=5)
hex_id = st.sampled_from((8, 16)).flatmap(lambda n: st.binary(min_size=n, max_size=n)).map(bytes.hex)
spans = st.fixed_dictionaries(
    {
        "traceId": st.binary(min_size=16, max_size=16).map(bytes.hex),
        "spanId": st.binary(min_size=8, max_size=8).map(bytes.hex),
        "name": text,
        "kind": st.integers(0, 6) | st.sampled_from(("SPAN_KIND_CLIENT", "SPAN_KIND_SERVER")),
        "startTimeUnixNano": as_json_int(uint64),
        "endTimeUnixNano": as_json_int(uint64),
        "attributes": attributes,
    },
    optional={
        "parentSpanId": st.just("") | st.binary(min_size=8, max_size=8).map(bytes.hex),
        "traceState": text,
        "flags": st.integers(0, 2**32 - 1),
        "droppedAttributesCount": st.integers(0, 2**32 - 1),
        "status": st.fixed_dictionaries({}, optional={"code": st.integers(0, 2), "message": text}),
        "events": st.lists(
            st.fixed_dictionaries({"name": text, "timeUnixNano": as_json_int(uint64), "attributes": attributes}),
            max_size=2,
        ),
        "links": st.lists(
            st.fixed_dictionaries({"traceId": hex_id, "spanId": hex_id, "attributes": attributes}), max_size=2
        ),
    },
)
documents = st.builds(
    lambda resource, scope, items: {
        "resourceSpans": [
            {"resource": {"attributes": resource}, "scopeSpans": [{"scope": {"name": scope}, "spans": items}]}
        ]
    },
    attributes,
    text,
    st.lists(spans, max_size=3),
)


def base64_ids(document: Any) -> Any:
    """What json_format reads: the standard mapping's base64 for bytes."""
    if isinstance(document, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode() if k in IDS else base64_ids(v) for k, v in document.items()
        }
    if isinstance(document, list):
        return [base64_ids(item) for item in document]
    return document


@FUZZ
@given(documents)
def test_json_decoder_agrees_with_json_format(document: dict[str, Any]) -> None:
    ours = otlp_wire.parse_request("traces", json.dumps(document).encode(), JS)
    reference = json_format.ParseDict(base64_ids(document), ExportTraceServiceRequest(), ignore_unknown_fields=True)
    assert ours == reference
    accept_or_refuse("traces", json.dumps(document).encode(), JS)


# -- nesting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signal", otlp_wire.SIGNALS)
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
def test_deep_json_is_400(signal: str, body: bytes) -> None:
    with pytest.raises(otlp_wire.WireError) as caught:
        otlp_wire.parse_request(signal, body, JS)
    assert caught.value.status == 400


def nested_kvlists(levels: int) -> str:
    """The JSON text of an AnyValue nesting ``levels`` kvlists (4 JSON levels each)."""
    return '{"kvlistValue":{"values":[{"key":"k","value":' * levels + '{"stringValue":"x"}' + "}]}}" * levels


@pytest.mark.parametrize("levels", [40, 250])  # 40: past the message depth limit; 250: just under orjson's
def test_deep_attribute_values_in_valid_places_are_400_for_every_signal(levels: int) -> None:
    deep = nested_kvlists(levels)
    bodies = {
        "traces": '{"resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": %s}]}}]}',
        "metrics": '{"resourceMetrics": [{"scopeMetrics": [{"scope": {"attributes": [{"key": "a", "value": %s}]}}]}]}',
        "logs": '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": %s}]}]}]}',
    }
    for signal, template in bodies.items():
        body = (template % deep).encode()
        assert orjson.loads(body)  # valid JSON: refused for its nesting, not its syntax
        with pytest.raises(otlp_wire.WireError) as caught:
            otlp_wire.parse_request(signal, body, JS)
        assert caught.value.status == 400 and "nested" in caught.value.message
        with pytest.raises(otlp_wire.WireError) as caught:  # the same nesting in protobuf
            otlp_wire.parse_request(signal, _deep_protobuf(signal, levels), PB)
        assert caught.value.status == 400


@pytest.mark.parametrize("signal", otlp_wire.SIGNALS)
def test_protobuf_nesting_10000_kvlists_deep_is_400(signal: str) -> None:
    with pytest.raises(otlp_wire.WireError) as caught:
        otlp_wire.parse_request(signal, _deep_protobuf(signal, 10_000), PB)
    assert caught.value.status == 400


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    length, size = bytearray(), len(payload)
    while True:
        byte, size = size & 0x7F, size >> 7
        length.append(byte | (0x80 if size else 0))
        if not size:
            break
    return _varint_key(number) + bytes(length) + payload


def _varint_key(number: int) -> bytes:
    return bytes([number << 3 | 2])


def _deep_protobuf(signal: str, levels: int) -> bytes:
    """Hand-made bytes (upb would not build them): an AnyValue nesting ``levels`` kvlists, placed
    as a resource attribute (traces), a scope attribute (metrics) or a log body (logs)."""
    value = _field(1, b"x")  # AnyValue.string_value
    for _ in range(levels):
        value = _field(6, _field(1, _field(1, b"k") + _field(2, value)))  # AnyValue.kvlist_value
    key_value = _field(1, b"a") + _field(2, value)
    if signal == "traces":
        return _field(1, _field(1, _field(1, key_value)))  # request.resource_spans.resource.attributes
    if signal == "metrics":
        return _field(1, _field(2, _field(1, _field(3, key_value))))  # …scope_metrics.scope.attributes
    return _field(1, _field(2, _field(2, _field(5, value))))  # …scope_logs.log_records.body
