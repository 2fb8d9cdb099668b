"""masked_url: the one URL masker of describe(), configuration errors and the webhook exporter; traces_url: the one joiner of OTLP paths."""

from __future__ import annotations

import pytest

from otel_llm._urls import masked_url
from otel_llm.exporters.otlp import traces_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://localhost:4317", "http://localhost:4317"),
        ("https://collector.example.com:4318/v1/traces", "https://collector.example.com:4318/v1/traces"),
        ("https://user:s3cr3t@otlp.example.com", "https://user:****@otlp.example.com"),
        ("https://user:p@ss:w0rd@h.example.com/x", "https://user:****@h.example.com/x"),  # '@' and ':' in the password
        ("https://:s3cr3t@h", "https://:****@h"),
        ("https://s3cr3t-token@h/x", "https://****@h/x"),  # a user name alone is often a token
        ("https://h/hook?token=s3cr3t", "https://h/hook?token=****"),
        ("https://h/hook?token=s3cr3t&team=a&empty=", "https://h/hook?token=****&team=****&empty="),
        ("https://h/hook?s3cr3t", "https://h/hook?****"),  # an item without '=' may be the value itself
        ("https://h/hook?a=1&&b=2", "https://h/hook?a=****&&b=****"),
        ("https://h/hook?", "https://h/hook?"),
        ("https://u:s3cr3t@h/p?sig=s3cr3t#access_token=s3cr3t", "https://u:****@h/p?sig=****#access_token=****"),
        ("http://[::1]:8080/p?k=v", "http://[::1]:8080/p?k=****"),
        ("http://u:s3cr3t@[::1/p?k=s3cr3t", "http://u:****@[::1/p?k=****"),  # not a valid URL (urlsplit raises): masked all the same
        ("minio:9000?key=s3cr3t", "minio:9000?key=****"),
        ("", ""),
        ("/var/log/calls.jsonl", "/var/log/calls.jsonl"),
    ],
)
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown
    assert "s3cr3t" not in masked_url(url) and "w0rd" not in masked_url(url)


def test_masking_is_idempotent() -> None:
    once = masked_url("https://u:pw@h/p?token=abc&x=")
    assert masked_url(once) == once


def test_the_webhook_exporter_and_the_configuration_use_the_same_helper() -> None:
    from otel_llm.config import _destinations, _types
    from otel_llm.exporters import webhook

    assert webhook.masked_url is masked_url
    assert _destinations.masked_url is masked_url
    assert _types.masked_url is masked_url


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("http://localhost:4318", "/v1/traces", "http://localhost:4318/v1/traces"),
        ("http://localhost:4318/", "/v1/traces", "http://localhost:4318/v1/traces"),
        ("https://h/v1/traces", "/v1/traces", "https://h/v1/traces"),  # already the full URL
        ("https://h/api/v1", "/otel/v1/traces", "https://h/api/v1/otel/v1/traces"),
        ("http://u:p@h:6006?token=abc", "/v1/traces", "http://u:p@h:6006/v1/traces?token=abc"),  # path before query
        ("https://otlp.arize.com/v1", "/v1/traces", "https://otlp.arize.com/v1/traces"),  # documented bases ...
        ("https://api.smith.langchain.com/otel", "/otel/v1/traces", "https://api.smith.langchain.com/otel/v1/traces"),
        ("https://h/api/public/otel", "/api/public/otel/v1/traces", "https://h/api/public/otel/v1/traces"),
        ("https://h/otel/v1/traces", "/otel/v1/traces", "https://h/otel/v1/traces"),  # ... and full URLs, not doubled
        ("https://h/s/space", "/v1/traces", "https://h/s/space/v1/traces"),  # Phoenix Cloud
    ],
)
def test_traces_url_appends_the_signal_path_to_the_url_path(base: str, path: str, expected: str) -> None:
    assert traces_url(base, path) == expected
