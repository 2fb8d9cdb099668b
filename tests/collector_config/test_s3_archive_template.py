"""``collector-config/s3-archive.yaml`` through the real collector into moto's S3 (server mode, on
loopback): real instrumented calls go app -> collector (OTLP/HTTP) -> awss3 exporter, and the test
reads the objects back with boto3: keys under the prefix in today's (UTC) hourly Hive partition,
gzipped OTLP/JSON holding the calls' spans with their GenAI attributes."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.backends._process import poll_until
from tests.backends.calls import MODEL, QUESTION, send_calls
from tests.collector_config.otelcol import Otelcol, otelcol
from tests.servers import moto_s3

PREFIX = "team-a/traces"
KEY = re.compile(
    rf"^{re.escape(PREFIX)}/year=(\d{{4}})/month=(\d{{2}})/day=(\d{{2}})/hour=(\d{{2}})/traces_[0-9a-f-]{{36}}\.json\.gz$"
)


@dataclass
class S3:
    endpoint: str
    client: Any
    bucket: str


@pytest.fixture
def s3() -> Iterator[S3]:
    """moto's S3 on loopback with a new bucket (moto keeps its state per process, across servers)."""
    import boto3

    bucket = f"llm-archive-{uuid.uuid4().hex[:12]}"
    with moto_s3() as endpoint:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket=bucket)
        yield S3(endpoint, client, bucket)


def collector_env(s3: S3, **extra: str) -> dict[str, str]:
    return {
        "S3_BUCKET": s3.bucket,
        "S3_PREFIX": PREFIX,
        "S3_ENDPOINT": s3.endpoint,
        "S3_FORCE_PATH_STYLE": "true",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def send(collector: Otelcol, tenants: tuple[str | None, ...] = (None,)) -> set[str]:
    """Real openai calls through otel-llm to the collector; the trace ids sent."""
    sent = send_calls(
        {
            "destinations": {
                "col": {
                    "type": "otlp",
                    "endpoint": collector.http_endpoint,
                    "protocol": "http/protobuf",
                    "queue": {"flush_interval": 0.05},
                }
            }
        },
        tenants=tenants,
    )
    return sent.trace_ids()


def objects(s3: S3) -> dict[str, Any]:
    """key -> the object's OTLP/JSON document (gunzipped)."""
    out: dict[str, Any] = {}
    for item in s3.client.list_objects_v2(Bucket=s3.bucket).get("Contents", []):
        body = s3.client.get_object(Bucket=s3.bucket, Key=item["Key"])["Body"].read()
        assert body[:2] == b"\x1f\x8b", f"{item['Key']} is not gzip"
        out[item["Key"]] = json.loads(gzip.decompress(body))
    return out


def any_value(value: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue as a Python value (int64 values are JSON strings in OTLP/JSON)."""
    (kind, inner), *_ = value.items()
    if kind == "intValue":
        return int(inner)
    if kind == "arrayValue":
        return [any_value(v) for v in inner.get("values", [])]
    if kind == "kvlistValue":
        return {kv["key"]: any_value(kv["value"]) for kv in inner.get("values", [])}
    return inner


def spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The spans of one OTLP/JSON ExportTraceServiceRequest, attributes decoded."""
    out = []
    for rs in document["resourceSpans"]:
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                attributes = {kv["key"]: any_value(kv["value"]) for kv in span.get("attributes", [])}
                out.append({**span, "attributes": attributes})
    return out


def hours_between(start: datetime, end: datetime) -> set[tuple[str, str, str, str]]:
    """The (year, month, day, hour) partitions a write between start and end can land in."""
    return {(t.strftime("%Y"), t.strftime("%m"), t.strftime("%d"), t.strftime("%H")) for t in (start, end)}


def test_spans_are_archived_as_gzipped_otlp_json_in_todays_utc_hour_partition(s3: S3) -> None:
    start = datetime.now(timezone.utc)
    with otelcol("s3-archive.yaml", collector_env(s3, S3_FLUSH_TIMEOUT="200ms")) as collector:
        trace_ids = send(collector)
        found = poll_until(
            lambda: objects(s3),
            lambda docs: trace_ids <= {s["traceId"] for d in docs.values() for s in spans(d)},
            timeout=10,
            interval=0.2,
            failure=lambda docs: f"archived: {sorted(docs)}\ncollector log:\n{collector.log()[-3000:]}",
        )
    end = datetime.now(timezone.utc)

    partitions = hours_between(start, end)
    for key in found:
        match = KEY.match(key)
        assert match, f"unexpected key {key!r}"
        assert match.groups() in partitions, f"{key} is not in the UTC hour of the test ({partitions})"

    archived = {s["traceId"]: s for d in found.values() for s in spans(d)}
    by_op = {s["attributes"]["gen_ai.operation.name"]: s for s in archived.values()}
    assert set(by_op) == {"chat", "embeddings"}
    assert {s["traceId"] for s in by_op.values()} == trace_ids
    chat = by_op["chat"]
    assert chat["name"] == "chat gpt-4o"
    assert len(chat["spanId"]) == 16 and int(chat["endTimeUnixNano"]) >= int(chat["startTimeUnixNano"])
    attrs = chat["attributes"]
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o" and attrs["gen_ai.response.model"] == MODEL
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1200, 300)
    assert attrs["otel_llm.cost.usd"] == pytest.approx(0.00475)
    assert attrs["user.id"] == "user-42"
    assert QUESTION in json.dumps(attrs["gen_ai.input.messages"])  # content archived as received
    assert by_op["embeddings"]["attributes"]["gen_ai.usage.input_tokens"] == 5
    # The resource travels with the spans (the archive is self-describing).
    resources = [rs["resource"] for d in found.values() for rs in d["resourceSpans"]]
    assert all(any(kv["key"] == "service.name" for kv in r.get("attributes", [])) for r in resources)


def test_many_requests_become_one_object_flushed_at_shutdown(s3: S3) -> None:
    """The queue batches: several app exports (a flush each) are one object, not one per request, and a
    graceful stop uploads the partial batch instead of dropping it (the template's 60 s flush timeout
    has not elapsed)."""
    with otelcol("s3-archive.yaml", collector_env(s3)) as collector:
        trace_ids: set[str] = set()
        for tenant in ("a", "b", "c"):
            trace_ids |= send(collector, tenants=(tenant,))  # one pipeline and flush per round
        poll_until(
            collector.metrics,
            lambda text: accepted_spans(text) >= len(trace_ids),
            timeout=10,
            interval=0.1,
            failure=lambda text: f"collector accepted {accepted_spans(text)} of {len(trace_ids)} spans",
        )
        assert objects(s3) == {}, "uploaded before the batch filled or timed out"
    found = objects(s3)
    assert len(found) == 1, sorted(found)
    (document,) = found.values()
    assert {s["traceId"] for s in spans(document)} == trace_ids


def accepted_spans(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("otelcol_receiver_accepted_spans")
    )
