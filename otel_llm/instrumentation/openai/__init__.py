"""OpenTelemetry GenAI instrumentation for the ``openai`` SDK (1.x and 2.x on httpx, 3.x on httpx2).

Zero-code: ``opentelemetry-instrument python app.py`` (entry point ``otel_llm_openai``).
In code: ``OpenAIInstrumentor().instrument()`` or ``otel_llm.instrument()``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap

from otel_llm.genai import GenAITelemetry
from otel_llm.instrumentation.openai.patch import RequestHook, SDKTypes, async_wrapper, sync_wrapper
from otel_llm.instrumentation.providers import ProviderResolver
from otel_llm.propagation import PropagationPolicy, http_spans_from_env

INSTRUMENTATION_NAME = "otel_llm.instrumentation.openai"
_MARK = "_self_otel_llm_hook"  # wrapt keeps `_self_` attributes on the proxy, not the function


def _sdk_types() -> SDKTypes:
    import openai
    from openai._legacy_response import LegacyAPIResponse
    from openai._response import APIResponse, AsyncAPIResponse
    from openai.lib.azure import BaseAzureClient

    return SDKTypes(
        stream=openai.Stream,
        async_stream=openai.AsyncStream,
        api_response=APIResponse,
        async_api_response=AsyncAPIResponse,
        legacy_response=LegacyAPIResponse,
        azure_client=BaseAzureClient,
    )


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

        if getattr(SyncAPIClient.__dict__.get("request"), _MARK, False):
            return  # already hooked (e.g. by a second instrumentor instance after a reload)
        telemetry = GenAITelemetry(
            INSTRUMENTATION_NAME,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
            capture_content=kwargs.get("capture_content"),
        )
        overrides: Mapping[str, str] | None = kwargs.get("provider_overrides")
        propagate_to = kwargs.get("propagate_to")
        http_spans = kwargs.get("http_spans")
        hook = RequestHook(
            telemetry,
            ProviderResolver(overrides),
            _sdk_types(),
            PropagationPolicy(propagate_to),
            http_spans=http_spans_from_env() if http_spans is None else bool(http_spans),
        )
        for cls, wrapper in ((SyncAPIClient, sync_wrapper(hook)), (AsyncAPIClient, async_wrapper(hook))):
            wrapt.wrap_function_wrapper(cls, "request", wrapper)
            setattr(cls.__dict__["request"], _MARK, True)

    def _uninstrument(self, **kwargs: Any) -> None:
        from openai._base_client import AsyncAPIClient, SyncAPIClient

        for cls in (SyncAPIClient, AsyncAPIClient):
            unwrap(cls, "request")


__all__ = ["OpenAIInstrumentor"]
