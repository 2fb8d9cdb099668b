"""Cost of a backend's view per span, in µs: what ``BackendSpanExporter.seen`` adds (view +
new span) in the destination's worker thread, before OTLP encoding. Prints figures; not a test.

    /work/venv3/bin/python bench/backends.py [--spans 20000]

Spans are bench/redaction.py's realistic chat spans, without content (the default) and with
~2 KB of content that differs on every call. The reference line is the OTLP protobuf encoding
of the same span, which every OTLP destination pays anyway.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from redaction import best_us, content, make_spans

from otel_llm.backends import BACKENDS, BackendSpanExporter

ENV = {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "ARIZE_SPACE_ID": "s", "ARIZE_API_KEY": "k"}
ENV |= {"HONEYCOMB_API_KEY": "k", "LANGSMITH_API_KEY": "k", "DD_API_KEY": "k"}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    args = parser.parse_args()
    sets = {
        "no content": make_spans(args.spans),
        "~2 KB content": make_spans(args.spans, lambda i: content(False, i)),
    }
    print(f"{'backend':<12}" + "".join(f"{name:>18}" for name in sets))
    encode = [best_us(lambda s: encode_spans([s]), spans) for spans in sets.values()]
    print(f"{'(OTLP encode)':<12}" + "".join(f"{us:>15.1f} µs" for us in encode))
    for name, backend in BACKENDS.items():
        exporter = BackendSpanExporter(backend, environ=ENV)
        print(f"{name:<12}" + "".join(f"{best_us(exporter.seen, spans):>15.1f} µs" for spans in sets.values()))
        exporter.shutdown()


if __name__ == "__main__":
    main()
