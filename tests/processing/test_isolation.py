"""Tenants under concurrent load: each tenant's calls reach its own destinations and no one else's.

Real openai SDK calls from many threads and asyncio tasks at once, each inside its own
``otel_llm.context(tenant_id=...)``, through a configuration with a file destination per tenant,
a default destination and a tenant whose logging is disabled (the GDPR case).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider

import otel_llm
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client

CALLS_PER_WORKER = 25
THREADS_PER_TENANT = 4
TENANTS = ("team-1", "team-2", "team-3", None)  # team-3: logging disabled; None: no tenant


def handler(request: Any) -> Any:
    return json_response(chat_completion_payload((chat_message("ok"), "stop")))


def config(tmp: Path) -> dict[str, Any]:
    def file(name: str) -> dict[str, Any]:
        return {"type": "file", "path": str(tmp / f"{name}.jsonl"), "queue": {"flush_interval": 0.05}}

    return {
        "destinations": {"team-1-logs": file("team-1"), "team-2-logs": file("team-2"), "shared": file("shared")},
        "tenants": {
            "team-1": {"destinations": ["team-1-logs"]},
            "team-2": {"destinations": ["team-2-logs"]},
            "team-3": {"logging": False},
        },
        "default_destinations": ["shared"],
    }


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_no_record_crosses_tenants_under_concurrent_load(tmp_path: Path) -> None:
    telemetry = Telemetry()
    instrumentor = instrument(telemetry)
    pipeline = otel_llm.configure(
        config(tmp_path), tracer_provider=telemetry.tracer_provider, meter_provider=MeterProvider(), instrument=False
    )
    start = threading.Barrier(THREADS_PER_TENANT * len(TENANTS) + 1)

    def worker(tenant: str | None, index: int) -> None:
        client = make_client(handler)
        start.wait()
        for i in range(CALLS_PER_WORKER):
            with otel_llm.context(tenant_id=tenant, metadata={"worker": f"{tenant}/{index}/{i}"}):
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

    async def async_workers() -> None:
        client = make_client(handler, is_async=True)

        async def one(tenant: str | None, i: int) -> None:
            with otel_llm.context(tenant_id=tenant):
                await asyncio.sleep(0)  # interleave the tasks inside their blocks
                await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

        await asyncio.gather(*(one(TENANTS[i % len(TENANTS)], i) for i in range(200)))

    threads = [
        threading.Thread(target=worker, args=(tenant, n)) for tenant in TENANTS for n in range(THREADS_PER_TENANT)
    ]
    for t in threads:
        t.start()
    start.wait()
    asyncio.run(async_workers())
    for t in threads:
        t.join()
    instrumentor.uninstrument()
    assert pipeline.force_flush(20_000)
    telemetry.tracer_provider.shutdown()

    per_tenant = THREADS_PER_TENANT * CALLS_PER_WORKER + 200 // len(TENANTS)
    team1 = records(tmp_path / "team-1.jsonl")
    team2 = records(tmp_path / "team-2.jsonl")
    shared = records(tmp_path / "shared.jsonl")
    assert Counter(r["tenant_id"] for r in team1) == {"team-1": per_tenant}
    assert Counter(r["tenant_id"] for r in team2) == {"team-2": per_tenant}
    assert Counter(r["tenant_id"] for r in shared) == {None: per_tenant}
    # the GDPR tenant's calls are nowhere, and every span is accounted for
    stats = pipeline.stats()
    assert all(s["dropped_total"] == 0 for s in stats.values())
    assert sum(s["exported"] for s in stats.values()) == 3 * per_tenant
