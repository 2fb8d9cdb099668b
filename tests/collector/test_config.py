"""The collector's configuration: the example validates, and `otel-llm collector` names what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from otel_llm.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
ENV = {"TEAM_A_TOKEN": "a", "PLATFORM_TOKEN": "p", "OTEL_LLM_ADMIN_KEY": "k"}


def test_the_example_validates() -> None:
    config = load_config(ROOT / "examples" / "collector.yaml", environ=ENV)
    assert config.collector is not None and config.collector.persistence.enabled
    assert config.collector.auth.enabled
    assert config.destinations["team-a-traces"].forward == ("metrics",)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"grpc": {"endpoint": "4317"}}, "collector.grpc.endpoint: expected host:port"),
        ({"grpc": {"endpoint": False}, "http": {"endpoint": False}}, "expected at least one receiver"),
        ({"auth": {"required": True}}, "collector.auth.required: required: true needs at least one entry in tokens"),
        ({"auth": {"tokens": [{"tenant": "x"}]}}, "collector.auth.tokens[0].token: required key is missing"),
        ({"max_request_bytes": "lots"}, "collector.max_request_bytes: expected a size in bytes"),
        ({"persistence": {"enabled": "maybe"}}, "collector.persistence.enabled: expected true or false"),
        ({"tls": {"cert_file": "c.pem"}}, "collector.tls.key_file"),
        ({"listen": 1}, "collector.listen: unknown key"),
    ],
)
def test_bad_blocks_name_the_key(block: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"collector": block})
    assert message in str(err.value)


def test_the_command_reports_problems_and_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("collector:\n  http: {endpoint: nowhere}\n")
    command = [sys.executable, "-m", "otel_llm.cli", "collector", "--config"]
    result = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "collector.http.endpoint: expected host:port" in result.stderr
    missing = subprocess.run([*command, str(tmp_path / "missing.yaml")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "missing.yaml" in missing.stderr


def test_a_token_listed_twice() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"collector": {"auth": {"tokens": [{"token": "a"}, {"token": "a", "tenant": "t"}]}}})
    assert "collector.auth.tokens[1]: the same token is listed twice" in str(err.value)
    assert "'a'" not in str(err.value)  # the token itself is never printed
