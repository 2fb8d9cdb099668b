"""Micro benchmark of the collector's OTLP decoding: microseconds per span, and spans/s on one core.

    python bench/otlp_wire.py [--requests 8] [--spans 512] [--passes 7] [--json-format]

Requests of 512 GenAI chat spans (about 15 attributes each, as our instrumentation writes them,
without content) are made by a real TracerProvider and encoded by the OTel SDK's own OTLP encoder;
the OTLP/JSON bodies are the proto3 JSON mapping with hex ids, as the OTLP spec asks. Each step is
timed one request at a time on fresh messages (upb builds its Python wrappers on first access, as
in production), with the garbage collector on, and the best of ``--passes`` passes is printed.
``--json-format`` adds google.protobuf.json_format's parser for comparison (slow: it is what the
JSON path replaced). Figures vary with other load on the machine: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import base64
import gc
import time
from typing import Any

import orjson
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_llm.collector import otlp_wire

ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 512,
    "server.address": "api.openai.com",
    "server.port": 443,
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 1234,
    "gen_ai.usage.output_tokens": 321,
    "openai.response.system_fingerprint": "fp_0123456789",
    "otel_llm.cost.usd": 0.000432,
    "otel_llm.tags": ("checkout", "prod"),
    "user.id": "user-8842",
}


def make_spans(count: int) -> list[ReadableSpan]:
    """Finished chat spans from a real tracer: one in 20 with an error status."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout", "deployment.environment": "prod"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("otel_llm", "0.1.0")
    for i in range(count):
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
            span.set_attributes(ATTRIBUTES)
            span.set_attribute("gen_ai.response.id", f"chatcmpl-{i:08d}")
            if i % 20 == 0:
                span.set_attribute("error.type", "RateLimitError")
                span.set_status(Status(StatusCode.ERROR, "rate limited"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def hex_ids(document: Any) -> Any:
    """The proto3 JSON mapping's base64 ids as the hex the OTLP spec asks for."""
    if isinstance(document, dict):
        return {
            k: base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") else hex_ids(v)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [hex_ids(item) for item in document]
    return document


def timed(bodies: list[bytes], content_type: str, passes: int) -> tuple[float, float]:
    """Best microseconds per span over ``passes`` of (parse_request, to_spans), one request at a
    time as a receiver thread does (each request's spans are let go before the next is read)."""
    best_parse = best_convert = float("inf")
    spans = 0
    for _ in range(passes):
        gc.collect()
        parse = convert = 0.0
        spans = 0
        for body in bodies:
            started = time.perf_counter()
            request = otlp_wire.parse_request("traces", body, content_type)
            parsed = time.perf_counter()
            converted, _, _ = otlp_wire.to_spans(request, tenant="team-1", trust_tenant=False)
            convert += time.perf_counter() - parsed
            parse += parsed - started
            spans += len(converted)
            del request, converted
        best_parse, best_convert = min(best_parse, parse), min(best_convert, convert)
    return best_parse / spans * 1e6, best_convert / spans * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--spans", type=int, default=512, help="spans per request")
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--json-format", action="store_true", help="also time json_format.Parse")
    args = parser.parse_args()

    requests = [encode_spans(make_spans(args.spans)) for _ in range(args.requests)]
    protobuf = [r.SerializeToString() for r in requests]
    json_bodies = [orjson.dumps(hex_ids(json_format.MessageToDict(r))) for r in requests]
    total = args.requests * args.spans
    attributes = len(make_spans(1)[0].attributes or {})
    print(f"{args.requests} requests x {args.spans} spans, {attributes} attributes per span")
    print(f"protobuf {len(protobuf[0]) / args.spans:.0f} B/span, JSON {len(json_bodies[0]) / args.spans:.0f} B/span")

    rows = []
    parse_pb, convert = timed(protobuf, otlp_wire.PROTOBUF, args.passes)
    rows += [
        ("parse_request protobuf", parse_pb),
        ("to_spans", convert),
        ("protobuf body -> spans", parse_pb + convert),
    ]
    parse_json, convert_json = timed(json_bodies, otlp_wire.JSON, args.passes)
    rows += [("parse_request OTLP/JSON", parse_json), ("OTLP/JSON body -> spans", parse_json + convert_json)]
    if args.json_format:
        documents = [orjson.loads(b) for b in json_bodies]
        times = []
        for _ in range(max(1, args.passes // 3)):
            gc.collect()
            started = time.perf_counter()
            for document in documents:
                json_format.ParseDict(document, ExportTraceServiceRequest(), ignore_unknown_fields=True)
            times.append(time.perf_counter() - started)
        rows.append(("json_format.ParseDict (reference)", min(times) / total * 1e6))
    width = max(len(name) for name, _ in rows)
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:8.2f} us/span  {1e6 / micros:10,.0f} spans/s")


if __name__ == "__main__":
    main()
