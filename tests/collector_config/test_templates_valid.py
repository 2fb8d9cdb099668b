"""Every template in collector-config/ against the real collector: ``otelcol validate`` passes, the
collector starts with it (extension references, such as authenticators and queue storage, are only
checked at start), and the manifest builds exactly the components the templates use."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.collector_config.otelcol import MANIFEST, TEMPLATES, binary, otelcol, templates, validate

SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")
REQUIRED_ENV = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")  # no ":-default": the template needs it


def test_there_is_a_template_for_each_need() -> None:
    names = {p.name for p in templates()}
    expected = {
        "honeycomb.yaml",
        "jaeger.yaml",
        "langfuse.yaml",
        "arize.yaml",
        "datadog.yaml",
        "s3-archive.yaml",
        "redaction.yaml",
        "tenant-routing.yaml",
        "gateway.yaml",
        "agent.yaml",
    }
    assert expected <= names, f"missing: {sorted(expected - names)}"
    readme = (TEMPLATES / "README.md").read_text()
    for name in names:
        assert f"`{name}`" in readme, f"README.md does not describe {name}"


def placeholder_env(template: Path, workdir: Path) -> dict[str, str]:
    """A value for every variable the template requires, plausible enough for the collector to start:
    endpoints point at a closed loopback port (exporters just retry), directories at ``workdir``."""
    env: dict[str, str] = {"OTELCOL_STORAGE_DIR": str(workdir / "storage")}  # not /var/lib/otelcol
    for name in REQUIRED_ENV.findall(template.read_text()):
        upper = name.upper()
        if upper.endswith(("_DIR", "_DIRECTORY")):
            env[name] = str(workdir)
        elif upper.endswith(("_ENDPOINT", "_HOST", "_URL")):
            env[name] = "http://127.0.0.1:9"
        elif upper.endswith(("_HOSTNAMES", "_GATEWAYS")):
            env[name] = "[127.0.0.1:9]"
        else:
            env[name] = "placeholder-value"
    return env


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.mark.parametrize("template", templates(), ids=_ids(templates()))
def test_template_validates(template: Path, tmp_path: Path) -> None:
    result = validate(template, placeholder_env(template, tmp_path))
    assert result.returncode == 0, f"{template.name}: otelcol validate failed:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("template", templates(), ids=_ids(templates()))
def test_template_starts_and_reports_healthy(template: Path, tmp_path: Path) -> None:
    with otelcol(template, placeholder_env(template, tmp_path), workdir=tmp_path) as collector:
        assert collector.process is not None and collector.process.poll() is None
    assert "Everything is ready" in collector.log(), collector.log()[-2000:]


def test_validate_catches_a_broken_ottl_statement(tmp_path: Path) -> None:
    """The check above can fail: a template with a bad statement does not validate."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        """\
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  transform:
    trace_statements:
      - set(span.attributes["x"], NoSuchFunction())
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:9
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [transform]
      exporters: [otlp_http]
"""
    )
    result = validate(broken, {})
    assert result.returncode != 0
    assert "NoSuchFunction" in result.stdout + result.stderr


def used_components() -> set[tuple[str, str]]:
    """(section, type) of every component the templates configure (``otlp_http/team-a`` is ``otlp_http``)."""
    used: set[tuple[str, str]] = set()
    for template in templates():
        config = yaml.safe_load(template.read_text())
        for section in SECTIONS:
            for key in config.get(section) or {}:
                used.add((section, key.split("/", 1)[0]))
    return used


def built_components() -> set[tuple[str, str]]:
    listed = yaml.safe_load(subprocess.run([binary(), "components"], capture_output=True, text=True, check=True).stdout)
    return {(section, item["name"]) for section in SECTIONS for item in listed.get(section) or []}


def test_the_collector_is_built_with_exactly_the_components_the_templates_use() -> None:
    used, built = used_components(), built_components()
    assert used - built == set(), "used by a template but not in builder-config.yaml"
    assert built - used == set(), "built (builder-config.yaml) but used by no template"


def test_the_manifest_pins_one_release() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    release = manifest["dist"]["version"]
    minor = release.split(".")[1]
    for section in (*SECTIONS, "providers"):
        for entry in manifest.get(section) or []:
            module, version = entry["gomod"].split()
            # core's stable modules carry v1.(minor - 94) in the same release (v0.152.0 with v1.58.0)
            assert version in (f"v0.{minor}.0", f"v1.{int(minor) - 94}.0"), f"{module} {version} is not {release}"
