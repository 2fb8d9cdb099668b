"""The tracer, meter, logger and capture setting that one instrumentation's calls share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import get_logger
from opentelemetry.metrics import get_meter
from opentelemetry.trace import Span, set_span_in_context

from otel_llm.genai import attributes as A
from otel_llm.genai.capture import CaptureMode, capture_mode_from_env, parse_capture_mode
from otel_llm.genai.cost import NoPricer, Pricer, cost_from_env, make_pricer
from otel_llm.genai.invocation import Invocation
from otel_llm.genai.metrics import GenAIMetrics
from otel_llm.version import __version__

SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.0"


class GenAITelemetry:
    """Starts Invocations; owns everything they need to report."""

    def __init__(
        self,
        instrumentation_name: str,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        logger_provider: Any = None,
        capture_content: str | bool | CaptureMode | None = None,
        pricer: Pricer | None = None,
        prices: Mapping[str, Mapping[str, float]] | None = None,
        cost: bool | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(instrumentation_name, __version__, tracer_provider, schema_url=SCHEMA_URL)
        self.metrics = GenAIMetrics(get_meter(instrumentation_name, __version__, meter_provider, schema_url=SCHEMA_URL))
        if cost is None:
            cost = cost_from_env()
        if pricer is None:
            pricer = make_pricer(prices) if cost else NoPricer()
        self.pricer = pricer
        self._logger_provider = logger_provider
        self._logger: Any = None
        self._name = instrumentation_name
        self.capture = (
            capture_mode_from_env()
            if capture_content is None
            else parse_capture_mode(capture_content, source="capture_content")
        )

    def start(self, operation: str, request_model: str | None, attributes: dict[str, Any]) -> Invocation:
        """Start the CLIENT span of one call. ``attributes`` must already hold the request facts."""
        return Invocation(self, operation, request_model, attributes)

    def emit_details_event(self, span: Span, attributes: dict[str, Any]) -> None:
        """Emit gen_ai.client.inference.operation.details, parented to the call's span."""
        if self._logger is None:
            self._logger = get_logger(self._name, __version__, self._logger_provider, schema_url=SCHEMA_URL)
        self._logger.emit(
            event_name=A.INFERENCE_DETAILS_EVENT,
            attributes=attributes,
            context=set_span_in_context(span),
        )
