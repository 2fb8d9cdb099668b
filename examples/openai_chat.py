"""A minimal openai app, unaware of OpenTelemetry: instrument it with zero code changes.

    opentelemetry-instrument --traces_exporter console --metrics_exporter none \
        --logs_exporter none python examples/openai_chat.py

Without OPENAI_BASE_URL it starts otel-llm's local demo server in-process and points the client
at it (with a dummy OPENAI_API_KEY if none is set), so it runs offline. Set OPENAI_BASE_URL
(e.g. https://api.openai.com/v1) and OPENAI_API_KEY to call a real endpoint instead.
"""

from __future__ import annotations

import os

import openai

MODEL = "gpt-4o-mini"


def main() -> None:
    server = None
    if not os.environ.get("OPENAI_BASE_URL"):
        from otel_llm.demo.server import DemoServer

        server = DemoServer().start()
        os.environ["OPENAI_BASE_URL"] = server.url
        os.environ.setdefault("OPENAI_API_KEY", "demo-key")
    try:
        client = openai.OpenAI()
        completion = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Say hello to OpenTelemetry."}],
        )
        print(completion.choices[0].message.content)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
