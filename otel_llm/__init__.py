"""otel-llm: OpenTelemetry-native observability for every LLM call.

``otel_llm.instrument()`` instruments every supported SDK that is installed;
``otel_llm.uninstrument()`` undoes it. ``otel_llm.configure("otel-llm.yaml")`` also puts the
destinations pipeline (redaction, tenant routing, record exporters) in place from one file.
Zero-code use: ``opentelemetry-instrument python app.py`` (with ``OTEL_LLM_CONFIG`` for the file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from otel_llm.genai.capture import CaptureMode
from otel_llm.instrumentation import installed_sdks, load_instrumentor
from otel_llm.request_context import context
from otel_llm.version import __version__

if TYPE_CHECKING:
    from otel_llm._configure import configure


def instrument(
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
    capture_content: str | bool | CaptureMode | None = None,
    provider_overrides: Mapping[str, str] | None = None,
    propagate_to: Iterable[str] | str | None = None,
    http_spans: bool | None = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    cost: bool | None = None,
) -> list[str]:
    """Instrument every supported, installed SDK; returns their names. Safe to call twice.

    ``capture_content`` overrides OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
    ``provider_overrides`` maps ``host[:port]`` to a ``gen_ai.provider.name``;
    ``propagate_to`` overrides OTEL_LLM_PROPAGATE_TO, the hosts that receive trace headers
    (see ``otel_llm.propagation``); ``http_spans`` overrides OTEL_LLM_HTTP_SPANS;
    ``prices`` are custom prices per million tokens (see docs/cost.md), over OTEL_LLM_PRICES;
    ``cost=False`` (or OTEL_LLM_COST=false) turns cost attributes and the cost metric off.
    """
    done = []
    for sdk in installed_sdks():
        load_instrumentor(sdk).instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
            capture_content=capture_content,
            provider_overrides=provider_overrides,
            propagate_to=propagate_to,
            http_spans=http_spans,
            prices=prices,
            cost=cost,
        )
        done.append(sdk)
    return done


def uninstrument() -> None:
    """Remove every hook ``instrument()`` (or ``opentelemetry-instrument``) installed."""
    for sdk in installed_sdks():
        load_instrumentor(sdk).uninstrument()


def __getattr__(name: str) -> Any:
    """``otel_llm.configure`` is imported on first use: the configuration models (pydantic) cost
    about 0.3 s to import, which applications that never call it should not pay."""
    if name == "configure":
        from otel_llm._configure import configure

        return configure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CaptureMode", "__version__", "configure", "context", "instrument", "uninstrument"]
