"""The provider-neutral model of one GenAI call: span, metrics, content capture.

Provider instrumentations map SDK objects onto this and never build spans themselves.
"""

from otel_llm.genai.capture import CaptureMode, parse_capture_mode
from otel_llm.genai.invocation import Invocation, to_json
from otel_llm.genai.telemetry import GenAITelemetry

__all__ = ["CaptureMode", "GenAITelemetry", "Invocation", "parse_capture_mode", "to_json"]
