"""LLM call records as gzip JSON Lines objects in Amazon S3 (or MinIO, R2, any S3 API), via boto3.

One object per batch, or per tenant / key alias of the batch when those prefixes are on::

    {prefix}/{tenant=<id>/}{<alias>/}YYYY/MM/DD/HH/<YYYYMMDDTHHMMSSZ>-<first span id>-<count>.jsonl.gz

The time is the start of the object's first record (UTC). The key depends only on the batch, so a
batch the pipeline retries overwrites its own object instead of writing a second one, and gzip's
header carries no timestamp, so the retried object is byte-identical. Tenant ids and aliases are
percent-encoded into one path segment each: an id cannot add a ``/`` or climb with ``..``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._fork import after_fork_in_child
from otel_llm.exporters._records import ExportError, RecordExporter
from otel_llm.records import attribute_dict, encode
from otel_llm.version import __version__

CONTENT_TYPE = "application/x-ndjson"
NONE_SEGMENT = "_none"  # tenant or alias missing
_MAX_SEGMENT = 128
# botocore's defaults (60 s read timeout, 3 attempts in standard mode) times the pipeline's retries
# could hold a destination's worker for many minutes on a store that hangs.
CONNECT_TIMEOUT = 5  # seconds to open a connection
READ_TIMEOUT = 30  # seconds without a byte from the store, per read
MAX_ATTEMPTS = 2  # botocore's attempts per put_object (one quick retry); the pipeline retries batches
# Error codes S3 (and S3-compatible stores) use to say "slow down", whatever the HTTP status.
_THROTTLING = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "RequestTimeout"}
)


def segment(value: Any) -> str:
    """``value`` as one safe key segment: percent-encoded, never empty, ``.`` or ``..``, bounded in length."""
    text = str(value) if value is not None else ""
    if not text:
        return NONE_SEGMENT
    safe = urllib.parse.quote(text, safe="-_@+=,")
    if safe.strip(".") == "":
        safe = safe.replace(".", "%2E")
    if len(safe) > _MAX_SEGMENT:  # keep keys under S3's 1024 bytes, still one segment per distinct id
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        safe = f"{safe[: _MAX_SEGMENT - 17]}~{digest}"
    return safe


class S3Exporter(RecordExporter):
    """Writes each batch as gzip JSON Lines objects to ``bucket``.

    Credentials: the three key arguments when given, else the standard AWS chain (environment,
    shared config and credentials files, SSO, container and instance roles). ``endpoint_url`` points
    at an S3-compatible store (path-style addressing is used there).

    Time bounds: the client connects within ``CONNECT_TIMEOUT`` (5 s), waits at most
    ``READ_TIMEOUT`` (30 s) for each read of the answer, and botocore makes at most
    ``MAX_ATTEMPTS`` (2) attempts per object: a store that hangs holds one object for about
    2 x (5 + 30) s (plus botocore's short backoff), where botocore's defaults (60 s reads, 3
    attempts) allowed minutes. The pipeline retries the whole batch (``retry.max_attempts``, with
    backoff) on top of that, so a hung store costs about ``retry.max_attempts`` x 70 s per batch.

    The client is created once; boto3 clients are thread-safe. After ``os.fork()`` the child makes
    its own client on its first batch: the parent's pooled connections (and any lock a parent
    thread held) are not used there. A ``client`` passed in is kept as it is, also in a child.
    """

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        tenant_prefix: bool = False,
        key_alias_prefix: bool = False,
        key_alias_attribute: str = "otel_llm.metadata.key_alias",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        client: Any = None,
    ) -> None:
        super().__init__()
        if not bucket:
            raise ValueError("bucket: expected a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.tenant_prefix = tenant_prefix
        self.key_alias_prefix = key_alias_prefix
        self.key_alias_attribute = key_alias_attribute
        self._make: Callable[[], Any] | None = None
        if client is None:
            self._make = functools.partial(
                _make_client, region, endpoint_url, access_key_id, secret_access_key, session_token
            )
            client = self._make()  # now: a missing boto3 or a bad option fails at start-up
        self._client: Any = client
        self._client_lock = threading.Lock()
        import botocore.exceptions as botocore_errors

        self._errors = botocore_errors
        after_fork_in_child(self, S3Exporter._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """In a forked child: a new lock, and a new client on the first batch (not the parent's)."""
        self._client_lock = threading.Lock()
        if self._make is not None:
            self._client = None  # the parent's client is dropped unused: its sockets are the parent's too

    def client(self) -> Any:
        """The boto3 S3 client (made again, once, in a forked child)."""
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    assert self._make is not None
                    self._client = self._make()
                client = self._client
        return client

    # -- keys ------------------------------------------------------------------------------------

    def groups(self, records: list[dict], spans: Sequence[ReadableSpan]) -> dict[tuple[str, ...], list[dict]]:
        """Records by object: one group, or one per tenant and/or key alias, in batch order."""
        if not (self.tenant_prefix or self.key_alias_prefix):
            return {(): records}
        out: dict[tuple[str, ...], list[dict]] = {}
        for record, span in zip(records, spans, strict=True):
            parts: list[str] = []
            if self.tenant_prefix:
                parts.append("tenant=" + segment(record.get("tenant_id")))
            if self.key_alias_prefix:
                parts.append(segment(attribute_dict(span).get(self.key_alias_attribute)))
            out.setdefault(tuple(parts), []).append(record)
        return out

    def key(self, parts: tuple[str, ...], records: list[dict]) -> str:
        first = records[0]
        stamp = first.get("start_time") or ""
        # start_time is RFC 3339 UTC ("2025-01-02T03:04:05.123456Z"); fall back to now if absent.
        if len(stamp) >= 19:
            y, mo, d, h, mi, s = stamp[0:4], stamp[5:7], stamp[8:10], stamp[11:13], stamp[14:16], stamp[17:19]
        else:
            y, mo, d, h, mi, s = time.strftime("%Y %m %d %H %M %S", time.gmtime()).split()
        name = f"{y}{mo}{d}T{h}{mi}{s}Z-{first.get('id') or 'none'}-{len(records)}.jsonl.gz"
        return "/".join([*([self.prefix] if self.prefix else []), *parts, y, mo, d, h, name])

    # -- RecordExporter --------------------------------------------------------------------------

    def send(self, records: list[dict], spans: Sequence[ReadableSpan]) -> None:
        for parts, group in self.groups(records, spans).items():
            key = self.key(parts, group)
            body = gzip.compress(b"".join(encode(r) + b"\n" for r in group), compresslevel=6, mtime=0)
            self._put(key, body)

    def _put(self, key: str, body: bytes) -> None:
        errors = self._errors
        where = f"s3://{self.bucket}/{key}"
        try:
            self.client().put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE, ContentEncoding="gzip"
            )
        except errors.ClientError as err:
            response = getattr(err, "response", None) or {}
            code = str(response.get("Error", {}).get("Code", ""))
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            retryable = status >= 500 or status == 429 or code in _THROTTLING or status == 0
            raise ExportError(f"{where}: {err}", retryable) from None
        except (errors.ConnectionError, errors.HTTPClientError) as err:  # refused, timed out, reset
            raise ExportError(f"{where}: {err}", True) from None
        except (errors.NoCredentialsError, errors.PartialCredentialsError, errors.ParamValidationError) as err:
            raise ExportError(f"{where}: {err}", False) from None
        except errors.BotoCoreError as err:
            raise ExportError(f"{where}: {type(err).__name__}: {err}", True) from None

    def close(self) -> None:
        close = getattr(self._client, "close", None)  # None also when a forked child made none yet
        if close is not None:
            close()


def _make_client(
    region: str | None,
    endpoint_url: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    session_token: str | None,
) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the s3 destination needs boto3: pip install 'otel-llm[s3]'") from err
    options: dict[str, Any] = {
        # total_max_attempts counts the first attempt (botocore's max_attempts counts retries only).
        "retries": {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},  # the pipeline retries batches
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "user_agent_extra": f"otel-llm/{__version__}",
    }
    if endpoint_url:
        options["s3"] = {"addressing_style": "path"}  # MinIO and most S3-compatible stores
        # botocore >= 1.36 adds CRC checksums to every upload; several S3-compatible stores reject them.
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    try:
        config = Config(**options)
    except TypeError:  # pragma: no cover - botocore < 1.36 has no checksum options
        options.pop("request_checksum_calculation", None)
        options.pop("response_checksum_validation", None)
        config = Config(**options)
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        region_name=region,
    )
    return session.client("s3", endpoint_url=endpoint_url or None, config=config)
