"""A self-contained demo: a local OpenAI-compatible server and the ``otel-llm demo`` app.

Everything here runs offline: the real openai SDK talks to ``DemoServer`` on loopback, so the
telemetry otel-llm produces can be seen without an API key.
"""

from __future__ import annotations

from otel_llm.demo.server import DemoServer

__all__ = ["DemoServer"]
