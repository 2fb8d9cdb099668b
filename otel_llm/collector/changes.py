"""The admin API's changes to the configuration, kept in the state directory so they survive restarts.

They are an overlay on the file, not edits of it: per tenant, a route that replaces the file's entry
for that tenant (``{"destinations": [...]}`` or ``{"logging": false}``) and the destinations the
admin API defined for it. The merged mapping goes through the same validation as the file, so an
admin change is refused with the same key-path errors. Destinations defined here are never default
destinations: only their tenant's spans reach them. The overlay holds destination secrets (API
keys), so the file is written with mode 0600.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FILE_NAME = "admin-changes.json"


class ChangeError(ValueError):
    """An admin change that cannot apply (the message says why and where)."""


class AdminChanges:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory) / FILE_NAME
        # tenant id -> {"route": tenant block or None, "destinations": {name: destination mapping}}
        self.tenants: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("tenants", {}), dict):
                raise ValueError(f"{self.path}: expected a JSON object with a 'tenants' object")
            self.tenants = data.get("tenants") or {}

    def copy(self) -> AdminChanges:
        clone = object.__new__(AdminChanges)
        clone.path = self.path
        clone.tenants = copy.deepcopy(self.tenants)
        return clone

    def entry(self, tenant: str) -> dict[str, Any]:
        return self.tenants.setdefault(tenant, {"route": None, "destinations": {}})

    def defined(self) -> dict[str, str]:
        """Destination name → the tenant that defined it."""
        return {name: t for t, e in self.tenants.items() for name in e.get("destinations") or {}}

    def merged(self, base: Mapping[str, Any], defaults: Sequence[str]) -> dict[str, Any]:
        """The file's mapping with these changes applied; ``defaults`` are the file's own default
        destinations, pinned so that destinations defined here never become defaults."""
        data = copy.deepcopy(dict(base))
        destinations = dict(data.get("destinations") or {})
        for tenant, entry in self.tenants.items():
            for name, definition in (entry.get("destinations") or {}).items():
                if name in destinations:
                    raise ChangeError(f"tenants.{tenant}: destination name {name!r} is already taken")
                destinations[name] = definition
        data["destinations"] = destinations
        tenants = dict(data.get("tenants") or {})
        for tenant, entry in self.tenants.items():
            if entry.get("route") is not None:
                tenants[tenant] = entry["route"]
        data["tenants"] = tenants
        if data.get("default_destinations") is None:
            data["default_destinations"] = list(defaults)
        return data

    def save(self) -> None:
        """Atomically: a crash leaves the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"tenants": self.tenants}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".admin-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
