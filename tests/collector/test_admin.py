"""The admin API: tenants and their destinations, logging off, destination health; changes persist."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.conftest import collector_config, genai_spans, read_records, running, wait_records
from tests.servers import wait_for

KEY = "admin-key"


def call(method: str, url: str, body: Any = None, key: str | None = KEY) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _file(tmp_path: Path, name: str) -> dict[str, Any]:
    return {"type": "file", "path": str(tmp_path / f"{name}.jsonl"), "queue": {"flush_interval": "50ms"}}


def _config(tmp_path: Path) -> dict[str, Any]:
    return {
        "destinations": {"shared": _file(tmp_path, "shared")},
        "tenants": {"team-a": {}},
        "collector": collector_config(
            tmp_path / "state",
            auth={"tokens": [{"token": "token-a", "tenant": "team-a"}, {"token": "token-b", "tenant": "team-b"}]},
        ),
    }


def _send(c: Any, token: str, count: int = 1) -> None:
    exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": f"Bearer {token}"})
    assert exporter.export(genai_spans(count)) is SpanExportResult.SUCCESS


def test_admin_routes_need_the_key(tmp_path: Path) -> None:
    with running(_config(tmp_path)) as c:
        assert call("GET", f"{c.admin}/admin/tenants", key=None)[0] == 401
        assert call("GET", f"{c.admin}/admin/tenants", key="wrong")[0] == 401
        assert call("GET", f"{c.admin}/healthz", key=None) == (200, {"status": "ok"})
        assert call("GET", f"{c.admin}/readyz", key=None) == (200, {"ready": True})
        status, body = call("GET", f"{c.admin}/admin/tenants")
    assert status == 200
    assert body["tenants"]["team-a"] == {"destinations": ["shared"], "logging": True, "source": "file", "tokens": 1}


def test_tenant_gets_its_own_destination_and_it_persists(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with running(config) as c:
        status, body = call(
            "PUT", f"{c.admin}/admin/tenants/team-b/destinations", {"define": {"b-file": _file(tmp_path, "b")}}
        )
        assert status == 200, body
        assert body["destinations"] == ["b-file"] and body["source"] == "admin"
        _send(c, "token-b", 2)
        _send(c, "token-a", 1)
        assert len(wait_records(tmp_path / "b.jsonl", 2)) == 2
        assert len(wait_records(tmp_path / "shared.jsonl", 1)) == 1
        wait_for(lambda: call("GET", f"{c.admin}/admin/destinations/b-file")[1]["exported"] == 2)
        status, health = call("GET", f"{c.admin}/admin/destinations/b-file")
        assert status == 200 and health["last_success"] is not None and health["queue_depth"] == 0
    # a restart keeps the change: team-b still goes to its own file, never to the shared one
    with running(config) as c:
        assert call("GET", f"{c.admin}/admin/tenants/team-b")[1]["destinations"] == ["b-file"]
        _send(c, "token-b", 1)
        assert len(wait_records(tmp_path / "b.jsonl", 3)) == 3
    assert all(r["tenant_id"] == "team-a" for r in read_records(tmp_path / "shared.jsonl"))
    stored = (tmp_path / "state" / "admin-changes.json").stat().st_mode & 0o777
    assert stored == 0o600


def test_logging_off_and_on_again(tmp_path: Path) -> None:
    with running(_config(tmp_path)) as c:
        assert call("PUT", f"{c.admin}/admin/tenants/team-a/logging", {"enabled": False})[1]["destinations"] == []
        _send(c, "token-a", 2)
        _send(c, "token-b", 1)
        wait_records(tmp_path / "shared.jsonl", 1)
        status, body = call("PUT", f"{c.admin}/admin/tenants/team-a/logging", {"enabled": True})
        assert status == 200 and body["destinations"] == ["shared"]
        _send(c, "token-a", 1)
        records = wait_records(tmp_path / "shared.jsonl", 2)
        time.sleep(0.3)  # let any stray span arrive before asserting there is none
    assert sorted(r["tenant_id"] for r in read_records(tmp_path / "shared.jsonl")) == ["team-a", "team-b"]
    assert len(records) == 2


def test_bad_changes_name_the_problem(tmp_path: Path) -> None:
    with running(_config(tmp_path)) as c:
        url = f"{c.admin}/admin/tenants/team-b/destinations"
        status, body = call("PUT", url, {"destinations": ["nowhere"]})
        assert status == 400
        assert any("nowhere" in p["message"] or "nowhere" in p["path"] for p in body["problems"]), body
        status, body = call("PUT", url, {"define": {"x": {"type": "file"}}})
        assert status == 400 and any(p["path"].endswith("x.path") for p in body["problems"]), body
        status, body = call("PUT", url, {"define": {"shared": _file(tmp_path, "other")}})
        assert status == 400 and "shared" in body["error"]
        assert call("PUT", url, {"destinations": "shared"})[0] == 400
        assert call("PUT", f"{c.admin}/admin/tenants/team-b/logging", {"enabled": "no"})[0] == 400
        assert call("GET", f"{c.admin}/admin/tenants")[1]["tenants"].get("team-b") is None


def test_delete_returns_to_the_file(tmp_path: Path) -> None:
    with running(_config(tmp_path)) as c:
        call("PUT", f"{c.admin}/admin/tenants/team-a/destinations", {"define": {"a-file": _file(tmp_path, "a")}})
        assert call("GET", f"{c.admin}/admin/tenants/team-a")[1]["destinations"] == ["a-file"]
        status, body = call("DELETE", f"{c.admin}/admin/tenants/team-a")
        assert status == 200 and body["destinations"] == ["shared"] and body["source"] == "file"
        assert "a-file" not in call("GET", f"{c.admin}/admin/destinations")[1]["destinations"] or not call(
            "GET", f"{c.admin}/admin/destinations"
        )[1]["destinations"]["a-file"]["active"]
