"""WebhookExporter against a real local HTTP server that checks every request strictly and answers
with scripted statuses, delays and redirects."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm import __version__
from otel_llm.exporters import ExportError, WebhookExporter
from otel_llm.records import to_record
from tests.servers import serve_http

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "record.schema.json").read_text())
TOKEN = "whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PATH = "/ingest/llm"
CONTENT_TYPES = {"json_array": "application/json", "ndjson": "application/x-ndjson"}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok":true}'
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Scripted replies (then 200s); what was received; what the strict checks rejected."""

    def __init__(self, format: str = "json_array") -> None:
        self.format = format
        self.replies: list[Reply] = []
        self.batches: list[list[dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def check(self, handler: BaseHTTPRequestHandler) -> list[dict[str, Any]] | None:
        """The records of a request that passes every check; None (and a problem noted) otherwise."""
        if handler.command != "POST":
            self.problems.append(f"method {handler.command}")
            return None
        if handler.path != PATH:
            self.problems.append(f"path {handler.path}")
            return None
        if handler.headers.get("Content-Type") != CONTENT_TYPES[self.format]:
            self.problems.append(f"content type {handler.headers.get('Content-Type')}")
            return None
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.problems.append("authorization")
            return None
        length = int(handler.headers.get("Content-Length", "-1"))
        body = handler.rfile.read(length).decode("utf-8")
        if self.format == "json_array":
            records = json.loads(body)
            if not isinstance(records, list):
                self.problems.append("body is not a JSON array")
                return None
        else:
            if not body.endswith("\n"):
                self.problems.append("ndjson body without a final newline")
                return None
            records = [json.loads(line) for line in body.splitlines()]
        for record in records:
            jsonschema.validate(record, SCHEMA)
        return records


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            records = state.check(self)
            with state.lock:
                reply = state.replies.pop(0) if state.replies else Reply()
                if records is not None:
                    state.batches.append(records)
                    state.headers.append(dict(self.headers))
            if records is None:
                reply = Reply(status=418, body=b"strict check failed")
            time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (timeout tests)

        do_POST = do_GET = do_PUT = handle_any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_http(Handler) as port:
        yield state, f"http://127.0.0.1:{port}{PATH}"
    assert not state.problems


def exporter_for(url: str, **kwargs: Any) -> WebhookExporter:
    kwargs.setdefault("headers", {"Authorization": f"Bearer {TOKEN}", "X-Team": "platform"})
    return WebhookExporter(url=url, **kwargs)


def test_posts_a_json_array_of_records(receiver, make_spans, plain_span):
    state, url = receiver
    spans = make_spans(3, content=True)
    assert exporter_for(url, timeout=5).export([*spans, plain_span]) is SpanExportResult.SUCCESS
    assert state.batches == [[to_record(s) for s in spans]]
    headers = state.headers[0]
    assert headers["User-Agent"] == f"otel-llm/{__version__}"
    assert headers["X-Team"] == "platform"


def test_ndjson_format(receiver, make_spans):
    state, url = receiver
    state.format = "ndjson"
    spans = make_spans(4)
    exporter_for(url, format="ndjson").export_batch(spans)
    assert state.batches == [[to_record(s) for s in spans]]


def test_a_user_content_type_cannot_contradict_the_body(receiver, make_spans):
    state, url = receiver
    headers = {"Authorization": f"Bearer {TOKEN}", "content-type": "text/plain"}
    exporter_for(url, headers=headers).export_batch(make_spans(1))
    assert len(state.batches) == 1  # the strict check saw application/json


def test_only_non_llm_spans_send_nothing(receiver, plain_span):
    state, url = receiver
    assert exporter_for(url).export([plain_span]) is SpanExportResult.SUCCESS
    assert state.batches == []


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (503, True), (429, True), (408, True), (400, False), (404, False), (413, False)],
)
def test_statuses(receiver, make_spans, status, retryable):
    state, url = receiver
    state.replies = [Reply(status=status, body=b'{"error":"nope"}')]
    with pytest.raises(ExportError) as caught:
        exporter_for(url).export_batch(make_spans(2))
    assert caught.value.retryable is retryable
    assert f"answered HTTP {status}" in str(caught.value)
    assert '{"error":"nope"}' in str(caught.value)
    assert TOKEN not in str(caught.value)
    # the same batch goes through once the endpoint recovers
    exporter_for(url).export_batch(make_spans(2))
    assert len(state.batches) == 2


def test_credentials_echoed_by_the_server_never_reach_messages_or_logs(receiver, make_spans, caplog):
    state, url = receiver
    echo = f'{{"error":"invalid Authorization: Bearer {TOKEN}","token":"{TOKEN}"}}'.encode()
    state.replies = [Reply(status=401, body=echo), Reply(status=401, body=echo)]
    exporter = exporter_for(url)
    with pytest.raises(ExportError) as caught:
        exporter.export_batch(make_spans(1))
    assert caught.value.retryable is False
    assert TOKEN not in str(caught.value)
    assert '{"error":"invalid Authorization: [REDACTED]","token":"[REDACTED]"}' in str(caught.value)
    with caplog.at_level(logging.DEBUG):
        assert exporter.export(make_spans(1)) is SpanExportResult.FAILURE
    assert "WebhookExporter failed to export 1 spans" in caplog.text
    assert TOKEN not in caplog.text


def test_redirects_are_not_followed(receiver, make_spans):
    state, url = receiver
    state.replies = [Reply(status=302, headers={"Location": PATH + "/elsewhere"})]
    with pytest.raises(ExportError) as caught:
        exporter_for(url).export_batch(make_spans(1))
    assert caught.value.retryable is False
    assert "HTTP 302" in str(caught.value)
    assert len(state.batches) == 1  # one POST, no follow-up request (the strict server would flag a GET)


def test_slow_endpoint_times_out_as_retryable(receiver, make_spans):
    state, url = receiver
    state.replies = [Reply(delay=2.0)]
    started = time.monotonic()
    with pytest.raises(ExportError) as caught:
        exporter_for(url, timeout=0.3).export_batch(make_spans(1))
    assert time.monotonic() - started < 1.5
    assert caught.value.retryable is True
    assert "timed out" in str(caught.value)


def test_connection_refused_is_retryable(make_spans):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port now
    with pytest.raises(ExportError) as caught:
        exporter_for(f"http://127.0.0.1:{port}{PATH}?token=querysecret").export_batch(make_spans(1))
    assert caught.value.retryable is True
    assert "refused" in str(caught.value).lower()
    assert f"webhook http://127.0.0.1:{port}{PATH}?token=****: " in str(caught.value)  # the key stays, not the value
    assert "querysecret" not in str(caught.value)


def test_export_is_never_traced(receiver, make_spans, http_tracing):
    state, url = receiver
    user = TracerProvider().get_tracer("app")
    with user.start_as_current_span("handle request"):
        exporter_for(url).export_batch(make_spans(2))
        assert len(state.batches) == 1
        assert http_tracing.span_names() == []  # our POST made no span
        # control: the stand-in instrumentation does trace an ordinary request
        request = urllib.request.Request(
            url, data=b"[]", method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        urllib.request.urlopen(request, timeout=5).read()
    assert http_tracing.span_names() == ["HTTP POST"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://example.com/x"}, "url: expected an http:// or https:// URL, got 'ftp://example.com/x'"),
        (
            {"url": "ftp://u:s3cr3t@example.com/x?k=s3cr3t"},
            "url: expected an http:// or https:// URL, got 'ftp://u:****@example.com/x?k=****'",
        ),
        ({"url": "https://u:pw@example.com/x?k=s3cr3t"}, None),
        ({"url": "http://example.com", "format": "xml"}, "format: expected 'json_array' or 'ndjson', got 'xml'"),
        ({"url": "http://example.com", "timeout": 0}, "timeout: expected seconds > 0, got 0"),
        ({"url": "http://example.com", "headers": {"X-Key": "s3cr3t\r\nEvil: 1"}}, "headers['X-Key']: expected a string without line breaks"),
    ],
)
def test_invalid_arguments(kwargs, message):
    if message is None:  # a valid URL with credentials: accepted
        WebhookExporter(**kwargs)
        return
    with pytest.raises(ValueError) as caught:
        WebhookExporter(**kwargs)
    assert str(caught.value) == message
    assert "s3cr3t" not in str(caught.value)
