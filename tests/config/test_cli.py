"""``otel-llm check-config FILE`` run as a user runs it: exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from otel_llm.config import describe, load_config
from otel_llm.config.schema import json_schema
from tests.config._docs import EXAMPLE, ROOT

SECRET = "AKIAPLANTEDSECRET0123"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_LLM_", "LANGFUSE_", "TEAM2_"))}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, env=environ, cwd=ROOT, timeout=60
    )


def test_a_valid_file_prints_its_pipelines_and_exits_0() -> None:
    result = run("otel_llm.cli", "check-config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == describe(load_config(EXAMPLE, environ={}))


def test_the_file_is_read_with_the_callers_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("destinations:\n  f: {type: file, path: '${env:CHECK_CONFIG_TEST_PATH}'}\n")
    ok = run("otel_llm.cli", "check-config", str(path), env={"CHECK_CONFIG_TEST_PATH": "/srv/x.jsonl"})
    assert ok.returncode == 0 and "  f: file -> /srv/x.jsonl\n" in ok.stdout
    unset = run("otel_llm.cli", "check-config", str(path))
    assert unset.returncode == 1 and unset.stdout == ""
    assert unset.stderr == (
        f"invalid configuration in {path} (1 problem):\n"
        "  destinations.f.path: environment variable CHECK_CONFIG_TEST_PATH is not set "
        "(give a default: ${env:CHECK_CONFIG_TEST_PATH:-default})\n"
    )


def test_an_invalid_file_lists_its_problems_on_stderr_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "destinations:\n"
        "  audit: {type: file, path: a.jsonl, queue: {max_size: -5}}\n"
        f"  s3: {{type: s3, bucket: b, access_key_id: {SECRET}, colour: red}}\n"
        "tenants:\n"
        "  team-1: {destinations: [audit, langfuse]}\n"
    )
    result = run("otel_llm.cli", "check-config", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"invalid configuration in {path} (3 problems):\n"
        "  destinations.audit.queue.max_size: expected an integer >= 1, got -5\n"
        "  destinations.s3.colour: unknown key (expected one of: type, enabled, redaction, filter, queue, retry, "
        "bucket, prefix, region, endpoint_url, tenant_prefix, key_alias_prefix, key_alias_attribute, access_key_id, "
        "secret_access_key, session_token)\n"
        "  tenants.team-1.destinations[1]: expected the name of a destination (defined: audit, s3), got 'langfuse'\n"
    )
    assert SECRET not in result.stderr


def test_secrets_are_not_printed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "redaction: {identifiers: hash, hash_key: '${env:HASH_KEY}'}\n"
        "destinations:\n"
        "  o: {type: otlp, endpoint: 'http://h:4317', headers: {authorization: 'Bearer ${env:TOKEN}'}}\n"
    )
    result = run("otel_llm.cli", "check-config", str(path), env={"HASH_KEY": SECRET + "h", "TOKEN": SECRET + "t"})
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout and "headers={authorization: ****}" in result.stdout


def test_secrets_in_urls_are_not_printed(tmp_path: Path) -> None:
    """The review's case: a webhook token in the query string, a password in an S3 endpoint_url."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "destinations:\n"
        "  w: {type: webhook, url: 'https://hooks.example.com/llm?token=${env:TOKEN}'}\n"
        "  s: {type: s3, bucket: b, endpoint_url: 'http://minio:${env:TOKEN}@minio.local:9000'}\n"
    )
    result = run("otel_llm.cli", "check-config", str(path), env={"TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout
    assert "  w: webhook -> https://hooks.example.com/llm?token=****\n" in result.stdout
    assert "  s: s3 -> s3://b/ at http://minio:****@minio.local:9000\n" in result.stdout


def test_a_file_that_cannot_be_read_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = run("otel_llm.cli", "check-config", str(missing))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"otel-llm check-config: cannot read the configuration file {missing}: No such file or directory\n"
    directory = run("otel_llm.cli", "check-config", str(tmp_path))
    assert directory.returncode == 2 and "Is a directory" in directory.stderr


def test_invalid_yaml_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("destinations: [\n")
    result = run("otel_llm.cli", "check-config", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"invalid configuration in {path} (1 problem):\n  line 2, column 1: invalid YAML: ")


def test_check_config_needs_a_file() -> None:
    result = run("otel_llm.cli", "check-config")
    assert result.returncode == 2 and "FILE" in result.stderr


def test_the_help_lists_check_config() -> None:
    result = run("otel_llm.cli", "--help")
    assert result.returncode == 0 and "check-config" in result.stdout and "demo" in result.stdout


def test_the_schema_module_prints_the_schema() -> None:
    result = run("otel_llm.config.schema")
    assert result.returncode == 0 and json.loads(result.stdout) == json_schema()
