"""Micro benchmark of the Redactor: microseconds per span for typical GenAI spans.

    python bench/redaction.py [--spans 20000]

Spans are made beforehand by a real tracer with the attributes our instrumentation writes for a
chat call. Each pass redacts every span once with a new Redactor, so per-span values such as the
response id are new to its cache, as in production; the best of 5 passes is printed.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_llm.processing.redaction import RedactionSettings, Redactor

BASE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 512,
    "gen_ai.request.stream": False,
    "server.address": "api.openai.com",
    "server.port": 443,
    "openai.api.type": "chat_completions",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 1234,
    "gen_ai.usage.output_tokens": 321,
    "gen_ai.usage.cache_read.input_tokens": 1024,
    "openai.response.system_fingerprint": "fp_0123456789",
    "otel_llm.cost.usd": 0.000432,
    "otel_llm.cost.input_usd": 0.000239,
    "otel_llm.cost.output_usd": 0.000193,
    "otel_llm.tags": ("checkout", "prod"),
    "otel_llm.metadata.feature": "summarise",
    "otel_llm.tenant.id": "team-1",
    "user.id": "user-8842",
}
USER = "Summarise this order history for me please, grouped by month and with the totals per month. " * 10
ASSISTANT = "Here is a short summary of the orders you placed this year, month by month, with totals. " * 8
KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2


def content(secret: bool, call: int = 0) -> dict[str, str]:
    """Content attributes: the system instructions repeat from call to call, the messages do not."""
    user = f"Call {call}. " + USER + (f" My key is {KEY}, do not share it." if secret else "")
    return {
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "You are a helpful assistant. " * 8}]),
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": user}]}]),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": ASSISTANT}], "finish_reason": "stop"}]
        ),
    }


def make_spans(n: int, content_of: Callable[[int], dict[str, str]] | None = None) -> list[ReadableSpan]:
    sink = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(sink))
    tracer = provider.get_tracer("otel_llm.instrumentation.openai")
    for i in range(n):
        attrs = {
            **BASE,
            **(content_of(i) if content_of else {}),
            "gen_ai.response.id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "gen_ai.conversation.id": f"conv-{uuid.uuid4().hex[:12]}",
        }
        tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs).end()
    return list(sink.get_finished_spans())


def best_us(fn: Callable[[ReadableSpan], object], spans: list[ReadableSpan], repeat: int = 5) -> float:
    """Best of ``repeat`` passes of ``fn`` over ``spans``, in µs per span (the other benches use it too)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for span in spans:
            fn(span)
        best = min(best, (time.perf_counter() - start) / len(spans) * 1e6)
    return best


def per_span(settings: RedactionSettings, spans: list[ReadableSpan], repeat: int = 5) -> float:
    """Best of ``repeat`` passes, in µs per span: each pass is a new Redactor warmed up on the first
    200 spans (constant values get cached), then timed on the others (new ids, as in production)."""
    best = float("inf")
    for _ in range(repeat):
        redactor = Redactor(settings)
        for span in spans[:200]:
            redactor.redact(span)
        timed = spans[200:]
        start = time.perf_counter()
        for span in timed:
            redactor.redact(span)
        best = min(best, (time.perf_counter() - start) / len(timed) * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    args = parser.parse_args()
    n = args.spans
    plain = make_spans(n)
    with_content = make_spans(n, lambda i: content(False, i))
    with_secret = make_spans(n, lambda i: content(True, i))
    strict = RedactionSettings(pii=("email", "phone", "card"), identifiers="hash", hash_key="bench-key")
    cases = [
        ("no content, secrets on, content keep (defaults)", RedactionSettings(), plain),
        ("no content, secrets + pii + identifiers hash", strict, plain),
        ("content kept, secrets on", RedactionSettings(), with_content),
        ("content + drop", RedactionSettings(content="drop"), with_content),
        ("content + secrets hit (kept, key scrubbed)", RedactionSettings(), with_secret),
        ("content + secrets + pii + truncation 1000", RedactionSettings(pii=("email", "phone", "card"),
                                                                        max_content_chars=1000), with_secret),
    ]
    print(f"{n} spans per case ({len(BASE) + 2} attributes; content adds 3 JSON attributes of ~0.2-1 KB)")
    for name, settings, spans in cases:
        print(f"  {name:52s} {per_span(settings, spans):7.2f} µs/span")


if __name__ == "__main__":
    main()
