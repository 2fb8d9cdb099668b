"""S3Exporter against moto in server mode on loopback: objects read back with boto3 and gunzipped."""

from __future__ import annotations

import gzip
import http.server
import json
import logging
import time
import uuid
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm.exporters import ExportError
from otel_llm.records import to_record
from tests.exporters._fork import in_child, needs_fork
from tests.exporters.conftest import START
from tests.servers import serve_http

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")
from otel_llm.exporters.s3 import S3Exporter, segment  # noqa: E402  (needs boto3)

CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing-secret", "session_token": "testing-token"}


def reader(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    name = f"llm-logs-{uuid.uuid4().hex[:12]}"
    reader(moto_endpoint).create_bucket(Bucket=name)
    return name


def exporter_for(endpoint: str, bucket: str, **kwargs: Any) -> S3Exporter:
    options: dict[str, Any] = {"region": "us-east-1", "endpoint_url": endpoint, **CREDENTIALS}
    options.update(kwargs)
    return S3Exporter(bucket=bucket, **options)


def objects(endpoint: str, bucket: str) -> dict[str, list[dict[str, Any]]]:
    """Key → records of every object in the bucket, checking each object's metadata."""
    client = reader(endpoint)
    out = {}
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        obj = client.get_object(Bucket=bucket, Key=item["Key"])
        assert obj["ContentType"] == "application/x-ndjson"
        assert obj["ContentEncoding"] == "gzip"
        text = gzip.decompress(obj["Body"].read()).decode("utf-8")
        assert text.endswith("\n")
        out[item["Key"]] = [json.loads(line) for line in text.splitlines()]
    return out


def sid(span: Any) -> str:
    return format(span.context.span_id, "016x")


def test_one_gzip_jsonl_object_per_batch(moto_endpoint, bucket, make_spans, plain_span):
    spans = make_spans(3, content=True)
    exporter = exporter_for(moto_endpoint, bucket, prefix="/llm/calls/")
    assert exporter.export([plain_span, *spans]) is SpanExportResult.SUCCESS
    assert objects(moto_endpoint, bucket) == {
        f"llm/calls/2026/01/02/03/20260102T030405Z-{sid(spans[0])}-3.jsonl.gz": [to_record(s) for s in spans]
    }
    exporter.shutdown()


def test_no_prefix(moto_endpoint, bucket, make_spans):
    spans = make_spans(1)
    exporter_for(moto_endpoint, bucket).export_batch(spans)
    assert list(objects(moto_endpoint, bucket)) == [f"2026/01/02/03/20260102T030405Z-{sid(spans[0])}-1.jsonl.gz"]


def test_split_per_tenant_with_safe_segments(moto_endpoint, bucket, make_spans):
    a1, a2 = make_spans(2, tenant="team-a")
    (b,) = make_spans(1, tenant="team/b", start_ns=1_767_330_000_000_000_000)  # 05:00:00 UTC
    (none,) = make_spans(1)
    (evil,) = make_spans(1, tenant="../../etc")
    (dots,) = make_spans(1, tenant="..")
    exporter_for(moto_endpoint, bucket, prefix="p", tenant_prefix=True).export_batch([a1, b, none, a2, evil, dots])
    found = objects(moto_endpoint, bucket)
    assert found == {
        f"p/tenant=team-a/2026/01/02/03/20260102T030405Z-{sid(a1)}-2.jsonl.gz": [to_record(a1), to_record(a2)],
        f"p/tenant=team%2Fb/2026/01/02/05/20260102T050000Z-{sid(b)}-1.jsonl.gz": [to_record(b)],
        f"p/tenant=_none/2026/01/02/03/20260102T030405Z-{sid(none)}-1.jsonl.gz": [to_record(none)],
        f"p/tenant=..%2F..%2Fetc/2026/01/02/03/20260102T030405Z-{sid(evil)}-1.jsonl.gz": [to_record(evil)],
        f"p/tenant=%2E%2E/2026/01/02/03/20260102T030405Z-{sid(dots)}-1.jsonl.gz": [to_record(dots)],
    }
    for key in found:
        assert len(key.split("/")) == 7  # prefix, tenant, Y, M, D, H, name: nothing injected a segment
        assert ".." not in key.split("/")


def test_split_per_tenant_and_key_alias(moto_endpoint, bucket, make_spans):
    (x,) = make_spans(1, tenant="t1", alias="prod-key")
    (y,) = make_spans(1, tenant="t1", alias="ci key")
    (z,) = make_spans(1, tenant="t1")
    exporter = exporter_for(moto_endpoint, bucket, tenant_prefix=True, key_alias_prefix=True)
    exporter.export_batch([x, y, z])
    assert sorted(objects(moto_endpoint, bucket)) == sorted(
        [
            f"tenant=t1/prod-key/2026/01/02/03/20260102T030405Z-{sid(x)}-1.jsonl.gz",
            f"tenant=t1/ci%20key/2026/01/02/03/20260102T030405Z-{sid(y)}-1.jsonl.gz",
            f"tenant=t1/_none/2026/01/02/03/20260102T030405Z-{sid(z)}-1.jsonl.gz",
        ]
    )


def test_key_alias_from_a_custom_attribute(moto_endpoint, bucket, make_spans):
    (span,) = make_spans(1, extra={"otel_llm.metadata.virtual_key": "vk-42"})
    exporter_for(moto_endpoint, bucket, key_alias_prefix=True, key_alias_attribute="otel_llm.metadata.virtual_key").export_batch([span])
    assert list(objects(moto_endpoint, bucket)) == [f"vk-42/2026/01/02/03/20260102T030405Z-{sid(span)}-1.jsonl.gz"]


def test_the_same_batch_retried_writes_the_same_object(moto_endpoint, bucket, make_spans):
    spans = make_spans(5, tenant="team-a")
    exporter = exporter_for(moto_endpoint, bucket, tenant_prefix=True)
    client = reader(moto_endpoint)
    exporter.export_batch(spans)
    first = client.list_objects_v2(Bucket=bucket)["Contents"]
    exporter_for(moto_endpoint, bucket, tenant_prefix=True).export_batch(spans)  # even from another exporter
    second = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["ETag"], o["Size"]) for o in first] == [(o["Key"], o["ETag"], o["Size"]) for o in second]
    assert len(second) == 1


def test_the_hour_is_that_of_the_first_record(moto_endpoint, bucket, make_spans):
    spans = make_spans(3, start_ns=1_767_326_399_000_000_000, step_ns=1_000_000_000)  # 03:59:59, 04:00:00, ...
    exporter_for(moto_endpoint, bucket).export_batch(spans)
    ((key, records),) = objects(moto_endpoint, bucket).items()
    assert key == f"2026/01/02/03/20260102T035959Z-{sid(spans[0])}-3.jsonl.gz"
    assert [r["start_time"][11:19] for r in records] == ["03:59:59", "04:00:00", "04:00:01"]


def test_credentials_from_the_standard_chain(moto_endpoint, bucket, make_spans, aws_env):
    spans = make_spans(1)
    exporter = S3Exporter(bucket=bucket, endpoint_url=moto_endpoint)  # no keys, no region: from the environment
    exporter.export_batch(spans)
    assert len(objects(moto_endpoint, bucket)) == 1


def test_missing_bucket_is_not_retryable(moto_endpoint, make_spans, caplog):
    exporter = exporter_for(moto_endpoint, f"no-such-bucket-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ExportError) as caught:
        exporter.export_batch(make_spans(1))
    assert caught.value.retryable is False
    assert "NoSuchBucket" in str(caught.value)
    assert CREDENTIALS["secret_access_key"] not in str(caught.value)
    with caplog.at_level(logging.WARNING, logger="otel_llm.exporters"):
        assert exporter.export(make_spans(1)) is SpanExportResult.FAILURE
    assert "S3Exporter failed to export 1 spans" in caplog.text


def test_stopped_server_is_retryable(make_spans):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    reader(endpoint).create_bucket(Bucket="short-lived")
    exporter = exporter_for(endpoint, "short-lived")
    exporter.export_batch(make_spans(1))  # works while the server is up
    server.stop()
    server._server.server_close()  # moto's stop() keeps the socket; release the port so connections are refused
    started = time.monotonic()
    with pytest.raises(ExportError) as caught:
        exporter.export_batch(make_spans(1))
    assert caught.value.retryable is True
    assert "Could not connect to the endpoint URL" in str(caught.value)
    assert time.monotonic() - started < 10


def test_export_is_never_traced(moto_endpoint, bucket, make_spans, http_tracing):
    exporter = exporter_for(moto_endpoint, bucket)
    user = TracerProvider().get_tracer("app")
    with user.start_as_current_span("handle request"):
        exporter.export_batch(make_spans(2))
        assert http_tracing.span_names() == []
        reader(moto_endpoint).list_objects_v2(Bucket=bucket)  # control: an application call is traced
    assert http_tracing.span_names() == ["HTTP GET"]
    assert len(objects(moto_endpoint, bucket)) == 1


def test_segment():
    assert segment(None) == "_none"
    assert segment("") == "_none"
    assert segment("team-1") == "team-1"
    assert segment("a/b") == "a%2Fb"
    assert segment("..") == "%2E%2E"
    assert segment(".") == "%2E"
    assert segment("ünï") == "%C3%BCn%C3%AF"
    long = segment("x" * 500)
    assert len(long) == 128 and "/" not in long
    assert segment("x" * 500) != segment("x" * 499 + "y")


def test_bucket_is_required():
    with pytest.raises(ValueError, match="bucket: expected a bucket name"):
        S3Exporter(bucket="")


def test_the_client_is_bounded_in_time(moto_endpoint, bucket):
    """botocore's defaults (60 s reads, 3 attempts) times the pipeline's retries could hold a worker
    for many minutes: the client connects within 5 s, waits 30 s per read, makes 2 attempts."""
    from otel_llm.exporters import s3

    config = exporter_for(moto_endpoint, bucket).client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (s3.CONNECT_TIMEOUT, s3.READ_TIMEOUT) == (5, 30)
    assert config.retries == {"mode": "standard", "total_max_attempts": s3.MAX_ATTEMPTS} and s3.MAX_ATTEMPTS == 2


def test_botocore_makes_two_attempts_per_object(make_spans):
    """A store answering 503 gets 2 PUTs per object from botocore (then the pipeline decides)."""
    puts: list[str] = []

    class Unavailable(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            puts.append(self.path)
            body = b"<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Unavailable) as port:
        exporter = exporter_for(f"http://127.0.0.1:{port}", "b")
        with pytest.raises(ExportError) as caught:
            exporter.export_batch(make_spans(1))
        assert caught.value.retryable is True
        assert len(puts) == 2


@needs_fork
def test_a_forked_child_makes_its_own_client(moto_endpoint, bucket, make_spans):
    exporter = exporter_for(moto_endpoint, bucket)
    first, in_the_child, last = make_spans(1), make_spans(1, start_ns=START + 10**9), make_spans(1, start_ns=START + 2 * 10**9)
    exporter.export_batch(first)  # the parent's client now holds a pooled connection
    parent_client = exporter.client()

    def child() -> None:
        assert exporter._client is None  # dropped at the fork, unused: its connections are the parent's
        exporter.export_batch(in_the_child)
        assert exporter.client() is not parent_client

    in_child(child)
    exporter.export_batch(last)  # the parent's connection was not disturbed
    assert exporter.client() is parent_client
    assert len(objects(moto_endpoint, bucket)) == 3


def test_an_injected_client_is_kept_after_fork():
    sentinel = object()
    exporter = S3Exporter(bucket="b", client=sentinel)
    exporter._after_fork_in_child()
    assert exporter.client() is sentinel
