"""An async openai app that streams a chat reply, printing it as it arrives.

    opentelemetry-instrument --traces_exporter console --metrics_exporter none \
        --logs_exporter none python examples/openai_stream_async.py

The span ends when the stream is exhausted and carries the usage the last chunk reports
(``stream_options={"include_usage": True}``). Without OPENAI_BASE_URL it runs offline against
otel-llm's local demo server, as examples/openai_chat.py does.
"""

from __future__ import annotations

import asyncio
import os

import openai

MODEL = "gpt-4o-mini"


async def main() -> None:
    server = None
    if not os.environ.get("OPENAI_BASE_URL"):
        from otel_llm.demo.server import DemoServer

        server = DemoServer(chunk_delay=0.01).start()  # paced, so the reply visibly streams
        os.environ["OPENAI_BASE_URL"] = server.url
        os.environ.setdefault("OPENAI_API_KEY", "demo-key")
    try:
        async with openai.AsyncOpenAI() as client:
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "Write a haiku about distributed tracing."}],
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print(chunk.choices[0].delta.content, end="", flush=True)
            print()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
