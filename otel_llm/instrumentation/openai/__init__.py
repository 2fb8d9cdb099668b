"""OpenTelemetry GenAI instrumentation for the ``openai`` SDK (1.x and 2.x on httpx, 3.x on httpx2).

Zero-code: ``opentelemetry-instrument python app.py`` (entry point ``otel_llm_openai``).
In code: ``OpenAIInstrumentor().instrument()`` or ``otel_llm.instrument()``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from otel_llm.instrumentation._stainless import SDKTypes, hook_clients, make_hook, unhook_clients
from otel_llm.instrumentation.openai.patch import OpenAIMapping

INSTRUMENTATION_NAME = "otel_llm.instrumentation.openai"


def mapping() -> OpenAIMapping:
    import openai
    from openai._legacy_response import LegacyAPIResponse
    from openai._response import APIResponse, AsyncAPIResponse
    from openai.lib.azure import BaseAzureClient

    types = SDKTypes(
        stream=openai.Stream,
        async_stream=openai.AsyncStream,
        api_response=APIResponse,
        async_api_response=AsyncAPIResponse,
        legacy_response=LegacyAPIResponse,
    )
    return OpenAIMapping(types, BaseAzureClient)


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments every OpenAI client, sync and async, including Azure clients.

    Keyword arguments to ``instrument()``: ``tracer_provider``, ``meter_provider``,
    ``logger_provider``, ``capture_content`` (overrides the environment variable),
    ``provider_overrides`` (``{"host[:port]": "provider_name"}``), ``propagate_to`` (the hosts
    that receive trace headers, see ``otel_llm.propagation``) and ``http_spans``.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai >= 1.40",)

    def _instrument(self, **kwargs: Any) -> None:
        from openai._base_client import AsyncAPIClient, SyncAPIClient

        hook_clients(SyncAPIClient, AsyncAPIClient, make_hook(INSTRUMENTATION_NAME, mapping(), kwargs))

    def _uninstrument(self, **kwargs: Any) -> None:
        from openai._base_client import AsyncAPIClient, SyncAPIClient

        unhook_clients(SyncAPIClient, AsyncAPIClient)


__all__ = ["OpenAIInstrumentor"]
