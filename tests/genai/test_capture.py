import logging

import pytest

from otel_llm.genai.capture import CaptureMode, capture_mode_from_env, parse_capture_mode


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, CaptureMode.NO_CONTENT),
        ("", CaptureMode.NO_CONTENT),
        ("true", CaptureMode.SPAN_ONLY),
        ("True", CaptureMode.SPAN_ONLY),
        ("false", CaptureMode.NO_CONTENT),
        ("NO_CONTENT", CaptureMode.NO_CONTENT),
        ("SPAN_ONLY", CaptureMode.SPAN_ONLY),
        ("event_only", CaptureMode.EVENT_ONLY),
        (" SPAN_AND_EVENT ", CaptureMode.SPAN_AND_EVENT),
        (True, CaptureMode.SPAN_ONLY),
        (False, CaptureMode.NO_CONTENT),
        (CaptureMode.EVENT_ONLY, CaptureMode.EVENT_ONLY),
    ],
)
def test_both_spellings_are_accepted(value, expected):
    assert parse_capture_mode(value) is expected


def test_unknown_value_captures_nothing_and_says_what_was_expected(caplog):
    with caplog.at_level(logging.WARNING):
        assert parse_capture_mode("everything") is CaptureMode.NO_CONTENT
    message = caplog.records[-1].getMessage()
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT='everything'" in message
    assert "SPAN_AND_EVENT" in message


def test_env_var_is_read(monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    mode = capture_mode_from_env()
    assert mode.on_span and mode.on_event and mode.enabled


def test_mode_flags():
    assert not CaptureMode.NO_CONTENT.enabled
    assert CaptureMode.EVENT_ONLY.on_event and not CaptureMode.EVENT_ONLY.on_span
    assert CaptureMode.SPAN_ONLY.on_span and not CaptureMode.SPAN_ONLY.on_event
