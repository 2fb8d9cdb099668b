"""OpenTelemetry GenAI instrumentation for the ``anthropic`` SDK (0.x on httpx, 1.x and 2.x on httpx2).

Covers ``Anthropic``, ``AsyncAnthropic`` and the platform clients (Bedrock, Vertex, Foundry), and
replaces the SDK's own call spans (anthropic >= 1.14) so that each call has exactly one GenAI span.

Zero-code: ``opentelemetry-instrument python app.py`` (entry point ``otel_llm_anthropic``).
In code: ``AnthropicInstrumentor().instrument()`` or ``otel_llm.instrument()``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from otel_llm.instrumentation._stainless import SDKTypes, hook_clients, make_hook, unhook_clients
from otel_llm.instrumentation.anthropic.patch import AnthropicMapping

INSTRUMENTATION_NAME = "otel_llm.instrumentation.anthropic"


def mapping() -> AnthropicMapping:
    import anthropic
    from anthropic._response import APIResponse, AsyncAPIResponse

    try:
        from anthropic._legacy_response import LegacyAPIResponse
    except ImportError:  # removed in the 1.x line
        legacy: type | None = None
    else:
        legacy = LegacyAPIResponse
    types = SDKTypes(
        stream=anthropic.Stream,
        async_stream=anthropic.AsyncStream,
        api_response=APIResponse,
        async_api_response=AsyncAPIResponse,
        legacy_response=legacy,
    )
    return AnthropicMapping(types)


class AnthropicInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments every Anthropic client, sync and async, including Bedrock and Vertex clients.

    Takes the same keyword arguments as ``OpenAIInstrumentor.instrument()``.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("anthropic >= 0.40",)

    def _instrument(self, **kwargs: Any) -> None:
        from anthropic._base_client import AsyncAPIClient, SyncAPIClient

        hook_clients(SyncAPIClient, AsyncAPIClient, make_hook(INSTRUMENTATION_NAME, mapping(), kwargs))

    def _uninstrument(self, **kwargs: Any) -> None:
        from anthropic._base_client import AsyncAPIClient, SyncAPIClient

        unhook_clients(SyncAPIClient, AsyncAPIClient)


__all__ = ["AnthropicInstrumentor"]
