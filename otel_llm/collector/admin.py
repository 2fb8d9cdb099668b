"""The admin listener: health, readiness, Prometheus metrics, and the admin API under ``/admin``.

``/healthz``, ``/readyz`` and ``/metrics`` need no credential (probes and scrapers); every
``/admin`` route needs ``Authorization: Bearer <collector.admin.key>`` and is off when no key is
set. The admin routes are LiteLLM's team-callback and key-health endpoints, for tenants:

- ``GET  /admin/tenants``: every tenant, where its spans go, and whether the route is the file's or the API's
- ``GET  /admin/tenants/{id}``
- ``PUT  /admin/tenants/{id}/destinations``: replace the tenant's destinations
- ``POST /admin/tenants/{id}/destinations``: add to them
  (body: ``{"destinations": ["shared-name", ...], "define": {"name": {destination keys...}}}``)
- ``PUT  /admin/tenants/{id}/logging``: ``{"enabled": false}`` stops exporting the tenant's spans
- ``DELETE /admin/tenants/{id}``: forget the API's changes for the tenant (the file's entry applies again)
- ``GET  /admin/destinations``: per destination: last success, last error, queue depth, drops
- ``GET  /admin/destinations/{name}``
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any
from urllib.parse import unquote

import orjson

from otel_llm.collector._asgi import HttpError, Receive, Scope, Send, headers_of, read_body, reply, reply_json
from otel_llm.collector.auth import bearer_token
from otel_llm.collector.changes import AdminChanges, ChangeError
from otel_llm.collector.metrics import CONTENT_TYPE
from otel_llm.collector.service import Service
from otel_llm.config import ConfigError

_MAX_BODY = 1 << 20


class AdminApp:
    def __init__(self, service: Service) -> None:
        self.service = service
        key = service.settings.admin.key
        self._key = key.get_secret_value().encode() if key is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        try:
            if path == "/healthz":
                await reply_json(send, 200, {"status": "ok"})
            elif path == "/readyz":
                ready = self.service.ready
                await reply_json(send, 200 if ready else 503, {"ready": ready})
            elif path == "/metrics":
                body = await asyncio.get_running_loop().run_in_executor(None, self.service.metrics.render)
                await reply(send, 200, body, CONTENT_TYPE)
            elif path == "/admin" or path.startswith("/admin/"):
                self._authorise(headers_of(scope))
                body = await read_body(receive, _MAX_BODY) if method in ("PUT", "POST") else b""
                status, data = await asyncio.get_running_loop().run_in_executor(None, self._admin, method, path, body)
                await reply_json(send, status, data)
            else:
                raise HttpError(404, "not found")
        except HttpError as err:
            extra = [("www-authenticate", "Bearer")] if err.status == 401 else []
            await reply_json(send, err.status, {"error": err.message, **getattr(err, "detail", {})}, extra)

    def _authorise(self, headers: dict[str, str]) -> None:
        if self._key is None:
            raise HttpError(404, "the admin API is off: set collector.admin.key")
        token = bearer_token(headers.get("authorization", "")) or ""
        if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), self._key):
            raise HttpError(401, "missing or wrong admin key")

    # -- routes (on a worker thread: changes validate and start destinations) --------------------

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.split("/")[2:] if p]
        service = self.service
        if parts == ["tenants"] and method == "GET":
            return 200, service.tenants()
        if len(parts) >= 2 and parts[0] == "tenants":
            tenant = parts[1]
            if len(parts) == 2 and method == "GET":
                return 200, {"tenant": tenant, **service.tenant(tenant)}
            if len(parts) == 2 and method == "DELETE":
                return self._change(tenant, lambda c: c.tenants.pop(tenant, None))
            if parts[2:] == ["destinations"] and method in ("PUT", "POST"):
                names, define = _destinations_body(body)
                return self._change(
                    tenant, lambda c: _set_destinations(c, service, tenant, names, define, method == "POST")
                )
            if parts[2:] == ["logging"] and method == "PUT":
                enabled = _json(body).get("enabled")
                if not isinstance(enabled, bool):
                    raise HttpError(400, 'expected a JSON body {"enabled": true|false}')
                return self._change(tenant, lambda c: _set_logging(c, service, tenant, enabled))
        if parts == ["destinations"] and method == "GET":
            return 200, {"destinations": service.health()}
        if len(parts) == 2 and parts[0] == "destinations" and method == "GET":
            health = service.health()
            if parts[1] not in health:
                raise HttpError(404, f"no destination {parts[1]!r}")
            return 200, {"destination": parts[1], **health[parts[1]]}
        raise HttpError(404 if method in ("GET", "DELETE", "PUT", "POST") else 405, f"no route {method} {path}")

    def _change(self, tenant: str, edit: Any) -> tuple[int, Any]:
        try:
            self.service.change(edit)
        except ConfigError as err:
            error = HttpError(400, "the change does not make a valid configuration")
            error.detail = {"problems": [{"path": p.path, "message": p.message} for p in err.problems]}  # type: ignore[attr-defined]
            raise error from None
        except ChangeError as err:
            raise HttpError(400, str(err)) from None
        return 200, {"tenant": tenant, **self.service.tenant(tenant)}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as err:
        raise HttpError(400, f"the body is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise HttpError(400, "expected a JSON object")
    return data


def _destinations_body(body: bytes) -> tuple[list[str], dict[str, Any]]:
    data = _json(body)
    unknown = set(data) - {"destinations", "define"}
    if unknown:
        raise HttpError(400, f"unknown keys {sorted(unknown)}: expected destinations (names) and define (new ones)")
    names, define = data.get("destinations", []), data.get("define", {})
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise HttpError(400, "destinations: expected a list of destination names")
    if not isinstance(define, dict) or not all(isinstance(v, dict) for v in define.values()):
        raise HttpError(400, "define: expected an object of destination name -> destination keys")
    return names, define


def _current(service: Service, tenant: str) -> list[str]:
    return list(service.config.destinations_for_tenant(tenant))


def _set_destinations(
    changes: AdminChanges, service: Service, tenant: str, names: list[str], define: dict[str, Any], add: bool
) -> None:
    owners = changes.defined()
    for name in define:
        if name in service.config.destinations and owners.get(name) != tenant:
            raise ChangeError(f"define.{name}: a destination of that name exists already")
    entry = changes.entry(tenant)
    route = (_current(service, tenant) if add else []) + names + list(define)
    entry["destinations"] = {**(entry.get("destinations") or {}), **define} if add else dict(define)
    entry["route"] = {"destinations": list(dict.fromkeys(route))}


def _set_logging(changes: AdminChanges, service: Service, tenant: str, enabled: bool) -> None:
    """Disabling keeps the route it replaces, so enabling again brings back the same destinations."""
    entry = changes.entry(tenant)
    route = entry.get("route")
    disabled = route is not None and route.get("logging") is False
    if not enabled and not disabled:
        entry["paused"], entry["route"] = route, {"logging": False}
    elif enabled and disabled:
        restored = entry.pop("paused", None)
        file_entry = service.file_tenant(tenant)
        if restored is None and file_entry is not None and file_entry.get("logging") in (False, "false"):
            restored = {}  # the file disables it: an empty entry means the default destinations
        entry["route"] = restored
    elif enabled and route is None and not getattr(service.config.tenants.get(tenant), "logging", True):
        entry["route"] = {}  # the file disables it: an empty entry means the default destinations
