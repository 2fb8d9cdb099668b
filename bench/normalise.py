"""Collector cost per span of ``normalise()`` + ``SpanCoster.add_cost()``, in µs. Prints figures; not a test.

    /work/venv3/bin/python bench/normalise.py [--spans 10000]

Spans are the ones recorded from the real instrumentations in tests/collector (an OpenLLMetry
0.47.5 chat call with tools and content, an OpenInference openai chat call with content), built
as the OTLP decoder builds them (immutable BoundedAttributes); best of 5 passes over ``--spans``
distinct span objects. The GenAI line is a span that needs nothing: the pass-through cost.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from redaction import best_us  # the shared timing loop

from otel_llm.collector.costing import SpanCoster
from otel_llm.collector.normalise import normalise
from tests.collector.test_normalise_openinference import OPENAI_CHAT
from tests.collector.test_normalise_openllmetry import LEGACY_OPENAI_CHAT

GENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 82,
    "gen_ai.usage.output_tokens": 17,
    "otel_llm.cost.usd": 2.25e-05,
}


def make_spans(name: str, scope: str, attributes: Mapping[str, Any], count: int) -> list[ReadableSpan]:
    scope_ = InstrumentationScope(scope)
    return [
        ReadableSpan(
            name=name,
            attributes=BoundedAttributes(attributes=dict(attributes), immutable=True),
            instrumentation_scope=scope_,
        )
        for _ in range(count)
    ]



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=10_000)
    args = parser.parse_args()
    coster = SpanCoster()
    sets = {
        "OpenLLMetry chat": make_spans(
            "openai.chat", "opentelemetry.instrumentation.openai.v1", LEGACY_OPENAI_CHAT, args.spans
        ),
        "OpenInference chat": make_spans(
            "ChatCompletion", "openinference.instrumentation.openai", OPENAI_CHAT, args.spans
        ),
        "GenAI (nothing to do)": make_spans("chat gpt-4o-mini", "otel_llm.instrumentation.openai", GENAI, args.spans),
    }
    print(f"{'span':<24}{'normalise':>14}{'+ add_cost':>14}{'added':>8}")
    for label, spans in sets.items():
        alone = best_us(normalise, spans)
        both = best_us(lambda s: coster.add_cost(normalise(s)), spans)
        result = coster.add_cost(normalise(spans[0]))
        added = len(result.attributes) - len(spans[0].attributes)
        print(f"{label:<24}{alone:>11.1f} µs{both:>11.1f} µs{added:>8}")


if __name__ == "__main__":
    main()
