"""Whether message content is captured, and where it goes (span attributes, an event, both)."""

from __future__ import annotations

import enum
import logging
import os

_log = logging.getLogger(__name__)

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


class CaptureMode(enum.Enum):
    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (CaptureMode.SPAN_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        return self in (CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def enabled(self) -> bool:
        return self is not CaptureMode.NO_CONTENT


# Both spellings in use: the latest-experimental enum names, and the older true/false that users
# of openai-v2, OpenLLMetry and others already set. `true` means content on the span.
_ALIASES = {
    "true": CaptureMode.SPAN_ONLY,
    "1": CaptureMode.SPAN_ONLY,
    "yes": CaptureMode.SPAN_ONLY,
    "on": CaptureMode.SPAN_ONLY,
    "false": CaptureMode.NO_CONTENT,
    "0": CaptureMode.NO_CONTENT,
    "no": CaptureMode.NO_CONTENT,
    "off": CaptureMode.NO_CONTENT,
    "": CaptureMode.NO_CONTENT,
}


def parse_capture_mode(value: str | bool | CaptureMode | None, *, source: str = CAPTURE_ENV) -> CaptureMode:
    """Read a capture setting; an unknown value logs what was expected and captures nothing."""
    if value is None:
        return CaptureMode.NO_CONTENT
    if isinstance(value, CaptureMode):
        return value
    if isinstance(value, bool):
        return CaptureMode.SPAN_ONLY if value else CaptureMode.NO_CONTENT
    text = value.strip()
    alias = _ALIASES.get(text.lower())
    if alias is not None:
        return alias
    try:
        return CaptureMode[text.upper()]
    except KeyError:
        _log.warning(
            "%s=%r is not a capture mode; expected one of true, false, NO_CONTENT, SPAN_ONLY, "
            "EVENT_ONLY, SPAN_AND_EVENT. Capturing no content.",
            source,
            value,
        )
        return CaptureMode.NO_CONTENT


def capture_mode_from_env() -> CaptureMode:
    return parse_capture_mode(os.environ.get(CAPTURE_ENV))
