"""LLM call records as gzip JSON Lines objects in Amazon S3 (or MinIO, R2, any S3 API), via boto3.

One object per batch, or per tenant / key alias of the batch when those prefixes are on::

    {prefix}/{tenant=<id>/}{<alias>/}YYYY/MM/DD/HH/<YYYYMMDDTHHMMSSZ>-<first span id>-<count>.jsonl.gz

The time is the start of the object's first record (UTC). The key depends only on the batch, so a
batch the pipeline retries overwrites its own object instead of writing a second one, and gzip's
header carries no timestamp, so the retried object is byte-identical. Tenant ids and aliases are
percent-encoded into one path segment each: an id cannot add a ``/`` or climb with ``..``.
"""

from __future__ import annotations

import gzip
import hashlib
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.exporters._records import ExportError, RecordExporter
from otel_llm.records import attribute_dict, encode
from otel_llm.version import __version__

CONTENT_TYPE = "application/x-ndjson"
NONE_SEGMENT = "_none"  # tenant or alias missing
_MAX_SEGMENT = 128
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
    at an S3-compatible store (path-style addressing is used there). botocore retries little (the
    pipeline retries whole batches with backoff). The client is created once; boto3 clients are
    thread-safe.
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
        self._client = client if client is not None else _make_client(
            region, endpoint_url, access_key_id, secret_access_key, session_token
        )
        import botocore.exceptions as botocore_errors

        self._errors = botocore_errors

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
            self._client.put_object(
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
        close = getattr(self._client, "close", None)
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
        "retries": {"mode": "standard", "max_attempts": 3},  # the pipeline retries whole batches
        "connect_timeout": 10,
        "read_timeout": 60,
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
