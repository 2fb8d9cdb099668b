"""One GenAI call in flight: its span, its timing, and the metrics it records when it ends.

Provider modules never touch spans: they start an Invocation from request facts, feed it the
response facts (or chunks, or an error) and it ends exactly once.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Mapping, Sequence
from time import time_ns
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode

from otel_llm._safety import report
from otel_llm.genai import attributes as A
from otel_llm.genai.capture import CaptureMode
from otel_llm.request_context import current as current_scope

if TYPE_CHECKING:
    from otel_llm.genai.telemetry import GenAITelemetry

_CONTENT_KEYS = (A.SYSTEM_INSTRUCTIONS, A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.TOOL_DEFINITIONS)


def _json_default(value: Any) -> Any:
    """bytes as their UTF-8 text; anything else unserialisable as its string."""
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def to_json(value: Any) -> str:
    """Compact JSON for content attributes, as the instrumentation and the redactor write them."""
    return _ENCODER.encode(value)


def error_type(exc: BaseException) -> str:
    return type(exc).__qualname__ or "_OTHER"


class Invocation:
    """A started GenAI span plus what is learned about the call until it ends."""

    __slots__ = (
        "_ended",
        "_error_message",
        "_telemetry",
        "attributes",
        "capture",
        "chunk_times_ns",
        "input_messages",
        "no_log",
        "output_messages",
        "request_attributes",
        "span",
        "start_ns",
        "system_instructions",
        "tool_definitions",
    )

    def __init__(
        self,
        telemetry: GenAITelemetry,
        operation: str,
        request_model: str | None,
        attributes: dict[str, Any],
    ) -> None:
        self._telemetry = telemetry
        self.capture = telemetry.capture
        self.no_log = False
        scope = current_scope()
        if scope is not None:  # labels and controls of an otel_llm.context(...) block or baggage
            attributes.update(scope.attributes)
            self.capture = scope.capture_for(self.capture)
            self.no_log = scope.no_log
        self.start_ns = time_ns()
        name = f"{operation} {request_model}" if request_model else operation
        if self.no_log:  # no span for any destination; metrics and cost still count the call
            self.span: Span = INVALID_SPAN
            self.capture = CaptureMode.NO_CONTENT
        else:
            self.span = telemetry.tracer.start_span(
                name, kind=SpanKind.CLIENT, attributes=attributes, start_time=self.start_ns
            )
        self.request_attributes = attributes
        self.attributes: dict[str, Any] = {}  # response-side attributes, set on the span at the end
        # Arrival time of each streamed chunk; empty until the call streams (see chunk_clock).
        self.chunk_times_ns: Sequence[int] = ()
        self.input_messages: list[dict[str, Any]] | None = None
        self.output_messages: list[dict[str, Any]] | None = None
        self.system_instructions: list[dict[str, Any]] | None = None
        self.tool_definitions: list[dict[str, Any]] | None = None
        self._ended = False
        self._error_message: str | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    # -- facts from the response -------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Record a response attribute; None means the provider did not say."""
        if value is not None:
            self.attributes[key] = value

    def set_identity(self, response_id: Any, model: Any) -> None:
        """The response's id and the model that answered, when the provider says them as strings."""
        if isinstance(response_id, str):
            self.attributes[A.RESPONSE_ID] = response_id
        if isinstance(model, str):
            self.attributes[A.RESPONSE_MODEL] = model

    def set_usage(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        *,
        cache_read: int | None = None,
        cache_creation: int | None = None,
        reasoning: int | None = None,
    ) -> None:
        """Usage as the conventions count it: input includes cached, output includes reasoning."""
        attrs = self.attributes
        if input_tokens is not None:
            attrs[A.USAGE_INPUT_TOKENS] = input_tokens
        if output_tokens is not None:
            attrs[A.USAGE_OUTPUT_TOKENS] = output_tokens
        if cache_read is not None:
            attrs[A.USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
        if cache_creation is not None:
            attrs[A.USAGE_CACHE_CREATION_INPUT_TOKENS] = cache_creation
        if reasoning is not None:
            attrs[A.USAGE_REASONING_OUTPUT_TOKENS] = reasoning

    def set_error(self, error_type: str, message: str | None = None) -> None:
        """Mark the call failed though no exception was raised (e.g. a response with status failed)."""
        self.attributes[A.ERROR_TYPE] = error_type
        self._error_message = message

    def chunk_clock(self) -> Callable[[int], None]:
        """Where a stream notes each chunk's arrival: call the result with ``time_ns()`` per chunk.

        An unboxed array, so a long stream holds no int objects for the GC to see.
        """
        if not isinstance(self.chunk_times_ns, array):
            self.chunk_times_ns = array("q")
        return self.chunk_times_ns.append

    def on_chunk(self) -> None:
        """Note the arrival of one streamed chunk now."""
        self.chunk_clock()(time_ns())

    # -- ending ----------------------------------------------------------------------------------

    def end(self) -> None:
        """End successfully with whatever was recorded. Later calls do nothing."""
        self._finish(None)

    def fail(self, exc: BaseException) -> None:
        """End as failed by ``exc``. Later calls do nothing."""
        self._finish(exc)

    def _finish(self, exc: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        end_ns = time_ns()
        span = self.span
        try:
            attrs = self.attributes
            ttfc = None
            if self.chunk_times_ns:
                ttfc = (self.chunk_times_ns[0] - self.start_ns) / 1e9
                attrs[A.RESPONSE_TIME_TO_FIRST_CHUNK] = ttfc
            try:
                cost = self._telemetry.pricer.price(
                    self.request_attributes.get(A.PROVIDER_NAME),
                    attrs.get(A.RESPONSE_MODEL) or self.request_attributes.get(A.REQUEST_MODEL),
                    attrs,
                    request_model=self.request_attributes.get(A.REQUEST_MODEL),
                )
            except Exception as err:
                report("genai.cost", err)
            else:
                if cost:
                    attrs.update(cost)
            if self.capture.enabled:
                self._record_content(attrs)
            if exc is not None:
                attrs[A.ERROR_TYPE] = error_type(exc)
                self._error_message = str(exc)
                span.record_exception(exc)
            etype = attrs.get(A.ERROR_TYPE)
            if etype is not None:
                span.set_status(StatusCode.ERROR, self._error_message or etype)
            if attrs:
                span.set_attributes(attrs)
        except Exception as err:
            report("genai.finish", err)
            ttfc = None
        finally:
            span.end(end_time=end_ns)
        try:
            self._telemetry.metrics.record(
                self.request_attributes,
                self.attributes,
                duration_s=(end_ns - self.start_ns) / 1e9,
                time_to_first_chunk_s=ttfc,
                chunk_times_ns=self.chunk_times_ns,
            )
        except Exception as err:
            report("genai.metrics", err)

    def _record_content(self, attrs: dict[str, Any]) -> None:
        values = (self.system_instructions, self.input_messages, self.output_messages, self.tool_definitions)
        present = {k: v for k, v in zip(_CONTENT_KEYS, values, strict=True) if v is not None}
        if self.capture.on_span:
            for key, value in present.items():
                attrs[key] = to_json(value)
        if self.capture.on_event:
            self._telemetry.emit_details_event(self.span, self._event_attributes(present))

    def _event_attributes(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The span's facts plus the content in structured form (not JSON strings)."""
        # From our own record, not the span: a sampled-out span keeps no attributes.
        merged: dict[str, Any] = dict(self.request_attributes)
        merged.update(self.attributes)
        for key in _CONTENT_KEYS:
            merged.pop(key, None)
        merged.update(content)
        return merged
