"""describe(config): the resolved pipelines, with secrets masked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from otel_llm.config import describe, load_config
from tests.config._docs import EXAMPLE, blocks

SECRET = "sk-ant-PLANTEDSECRET0123456789"


def lines_of(text: str, start: str) -> list[str]:
    """The line starting with ``start`` (after indentation) and its continuation lines."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(start):
            indent = len(line) - len(line.lstrip())
            found = [line]
            for more in lines[i + 1 :]:
                if more.strip() and len(more) - len(more.lstrip()) > indent + len(start) - 1:
                    found.append(more)
                else:
                    break
            return found
    raise AssertionError(f"no line starts with {start!r} in:\n{text}")


def section(text: str, name: str) -> str:
    """A destination's block: its header line up to the next blank line."""
    start = text.index(f"\n  {name}: ")
    end = text.find("\n\n", start + 1)
    return text[start + 1 : end if end != -1 else None]


def test_the_example_file_described() -> None:
    text = describe(load_config(EXAMPLE, environ={}))
    assert text.startswith(f"otel-llm configuration: {EXAMPLE} (version 1)\n")
    assert "destinations: 5 enabled, 1 disabled" in text
    assert section(text, "audit").splitlines()[0] == "  audit: file -> ./otel-llm-audit.jsonl"
    assert "  team-1-langfuse: otlp -> https://cloud.langfuse.com/api/public/otel" in text
    assert "  team-2-webhook: webhook -> http://localhost:9000/llm-records" in text
    assert "  archive: s3 -> s3://acme-llm-archive/llm-calls  (disabled)" in text
    assert section(text, "archive") == "  archive: s3 -> s3://acme-llm-archive/llm-calls  (disabled)"
    failures = section(text, "failures")
    assert "    filter:    status=error, tags=any, sample_ratio=1, genai_only=true" in failures
    sampled = section(text, "sampled")
    assert "    filter:    status=any, tags=any, sample_ratio=0.1, genai_only=false" in sampled
    assert "compression=gzip" in sampled
    langfuse = section(text, "team-1-langfuse")
    assert (
        "    queue:     max_size=4096, batch_size=512, flush_interval=2s, shutdown_timeout=5s"
        in langfuse
    )
    assert "    retry:     max_attempts=3, initial_backoff=0.5s, max_backoff=5s" in section(text, "team-2-webhook")


def test_routes_include_default_and_disabled_tenants() -> None:
    text = describe(load_config(EXAMPLE, environ={}))
    routing = text[text.index("routing (before per-request exclusions and filters):") :].splitlines()
    assert [" ".join(line.split()) for line in routing[1:]] == [
        "tenant destinations",
        "team-1 team-1-langfuse, audit",
        "team-2 team-2-webhook, audit (disabled, skipped: archive)",
        "team-eu-gdpr nothing (logging: false)",
        "(no tenant, other tenants) audit, failures, sampled (default_destinations)",
    ]


def test_tenants_without_their_own_route_and_implicit_defaults() -> None:
    config = load_config(
        {"destinations": {"a": {"type": "console"}, "b": {"type": "console"}}, "tenants": {"t": {}, "n": {"destinations": []}}}
    )
    routing = describe(config).split("routing (before per-request exclusions and filters):\n")[1].splitlines()
    assert [" ".join(line.split()) for line in routing] == [
        "tenant destinations",
        "t a, b (default destinations)",
        "n nothing",
        "(no tenant, other tenants) a, b (every enabled destination)",
    ]


def test_effective_redaction_marks_the_destinations_own_keys() -> None:
    config = load_config(
        {
            "redaction": {"content": "drop", "pii": ["email"]},
            "destinations": {
                "kept": {"type": "console", "redaction": {"content": "keep", "max_content_chars": 1000}},
                "dropped": {"type": "console"},
            },
        }
    )
    text = describe(config)
    kept = " ".join(" ".join(lines_of(section(text, "kept"), "redaction:")).split())
    assert "content=keep*," in kept and "max_content_chars=1000*," in kept and "pii=[email]," in kept
    dropped = " ".join(" ".join(lines_of(section(text, "dropped"), "redaction:")).split())
    assert "content=drop," in dropped and not re.search(r"=[^\[\s,]*\*,", dropped)  # no value marked as its own
    assert "(* set by the destination, over the global redaction)" in text


def test_global_settings_say_where_unset_values_come_from() -> None:
    text = describe(load_config({"requests": {"allow_no_log": False}}))
    assert "  capture_content: from OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT\n" in text
    assert "  cost: from OTEL_LLM_COST\n" in text
    assert "  propagate_to: from OTEL_LLM_PROPAGATE_TO\n" in text
    requests = " ".join(" ".join(lines_of(text, "requests:")).split())
    assert requests == (
        "requests: allow_no_log=false, allow_capture_override=from OTEL_LLM_ALLOW_CAPTURE_OVERRIDE, "
        "baggage_keys=from OTEL_LLM_BAGGAGE_KEYS"
    )
    assert "destinations: 0 enabled\n  (none: nothing is exported)" in text


def test_global_settings_given_in_the_file() -> None:
    text = describe(
        load_config(
            {
                "capture_content": True,
                "cost": False,
                "prices": {"vllm/llama": {"input": 0, "output": 0}},
                "propagation": {"propagate_to": []},
            }
        )
    )
    assert "  capture_content: span_only\n" in text
    assert "  cost: false; custom prices for vllm/llama\n" in text
    assert "  propagate_to: none\n" in text


def test_secrets_are_masked() -> None:
    config = load_config(
        {
            "redaction": {"identifiers": "hash", "hash_key": SECRET + "-hash"},
            "destinations": {
                "o": {"type": "otlp", "endpoint": f"https://user:{SECRET}@otlp.example.com", "headers": {"Authorization": SECRET}},
                "w": {"type": "webhook", "url": "http://h", "headers": {"X-Key": SECRET + "-w"}},
                "s": {"type": "s3", "bucket": "b", "access_key_id": SECRET + "-a", "secret_access_key": SECRET + "-s", "session_token": SECRET + "-t"},
            },
        }
    )
    text = describe(config)
    assert "PLANTEDSECRET" not in text
    assert "  o: otlp -> https://user:****@otlp.example.com" in text
    assert "headers={Authorization: ****}" in text and "headers={X-Key: ****}" in text
    assert "access_key_id=****" in text and "secret_access_key=****" in text and "session_token=****" in text
    assert text.count("hash_key=****") == 4  # the global line and each destination


def test_secrets_in_urls_are_masked_each_url_on_its_own() -> None:
    config = load_config(
        {
            "destinations": {
                "w": {"type": "webhook", "url": f"https://hooks.example.com/in?token={SECRET}&team=a"},
                "o": {"type": "otlp", "endpoint": f"https://u:{SECRET}@otlp.example.com:4318/v1/traces?key={SECRET}"},
                "s": {"type": "s3", "bucket": "b", "endpoint_url": f"http://minio:{SECRET}@minio.local:9000/?sig={SECRET}"},
                "t": {"type": "webhook", "url": f"https://{SECRET}@hooks.example.com/in"},
            },
        }
    )
    text = describe(config)
    assert "PLANTEDSECRET" not in text
    assert "  w: webhook -> https://hooks.example.com/in?token=****&team=****\n" in text
    assert "  o: otlp -> https://u:****@otlp.example.com:4318/v1/traces?key=****\n" in text
    # the S3 target is "s3://bucket/prefix at <endpoint_url>": the endpoint is masked as a URL of its own
    assert "  s: s3 -> s3://b/ at http://minio:****@minio.local:9000/?sig=****\n" in text
    assert "  t: webhook -> https://****@hooks.example.com/in\n" in text


def test_the_documented_check_config_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks()
    index = next(i for i, (info, _) in enumerate(found) if info == "yaml check-config")
    body, (info, output) = found[index][1], found[index + 1]
    assert info == "text"
    command, _, printed = output.partition("\n")
    assert command == "$ otel-llm check-config otel-llm.yaml"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "otel-llm.yaml").write_text(body)
    assert describe(load_config("otel-llm.yaml", environ={})) == printed
