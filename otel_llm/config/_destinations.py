"""The ``destinations`` block: one exporter each, with its own redaction, filter, queue and retries.

The exporter's keys sit flat in the destination's mapping next to the common ones; ``type``
selects the model (a discriminated union), so an otlp destination cannot carry a ``path``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from otel_llm._urls import masked_url
from otel_llm.config._redaction import RedactionBlock
from otel_llm.config._types import (
    AnyText,
    Block,
    Bool,
    Choice,
    Duration,
    HttpUrl,
    Int,
    Number,
    OptionalSecret,
    SecretText,
    Text,
    problem,
)
from otel_llm.exporters.file import DEFAULT_MAX_BYTES
from otel_llm.processing.destination import QueueSettings as RunQueue
from otel_llm.processing.destination import RetrySettings as RunRetry
from otel_llm.processing.routing import Filter as RunFilter

# The defaults are the runtime's own (one place): the pipeline's dataclasses hold them.
_RUN_FILTER = RunFilter()
_RUN_QUEUE = RunQueue()
_RUN_RETRY = RunRetry()


class FilterSettings(Block):
    """Which of the spans routed to the destination it accepts."""

    status: Choice("any", "error", "ok") = Field(  # type: ignore[valid-type]
        _RUN_FILTER.status, description="any; error: failed calls only; ok: successful calls only"
    )
    tags: tuple[Text, ...] = Field((), description="non-empty: only calls carrying at least one of these tags")
    sample_ratio: Number(0, 1) = Field(  # type: ignore[valid-type]
        _RUN_FILTER.sample_ratio,
        description="fraction of traces kept, decided by trace id (the spans of a trace stay together)",
    )
    genai_only: Bool = Field(
        _RUN_FILTER.genai_only, description="only spans of GenAI calls (with gen_ai.operation.name)"
    )


class QueueSettings(Block):
    """The destination's bounded queue: when full, new spans are dropped and counted."""

    max_size: Int(1) = Field(_RUN_QUEUE.max_size, description="spans held for this destination")  # type: ignore[valid-type]
    batch_size: Int(1) = Field(_RUN_QUEUE.batch_size, description="spans per export call, at most max_size")  # type: ignore[valid-type]
    flush_interval: Duration(positive=True) = Field(  # type: ignore[valid-type]
        _RUN_QUEUE.flush_interval, description="longest wait before a partial batch is sent"
    )
    shutdown_timeout: Duration(positive=False) = Field(  # type: ignore[valid-type]
        _RUN_QUEUE.shutdown_timeout, description="bound on the flush at shutdown"
    )

    @model_validator(mode="after")
    def _batch_fits(self) -> QueueSettings:
        if self.batch_size > self.max_size:
            raise problem(
                f"expected an integer <= max_size ({self.max_size}), got {self.batch_size}", at="batch_size"
            )
        return self


class RetrySettings(Block):
    """Retries of a failed export, with exponential backoff and jitter."""

    max_attempts: Int(1) = Field(_RUN_RETRY.max_attempts, description="attempts per batch; 1: no retry")  # type: ignore[valid-type]
    initial_backoff: Duration(positive=False) = Field(  # type: ignore[valid-type]
        _RUN_RETRY.initial_backoff, description="wait before the first retry"
    )
    max_backoff: Duration(positive=False) = Field(_RUN_RETRY.max_backoff, description="longest wait between attempts")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _ordered(self) -> RetrySettings:
        if self.max_backoff < self.initial_backoff:
            raise problem(
                f"expected a duration >= initial_backoff ({self.initial_backoff:g}s), got {self.max_backoff:g}s",
                at="max_backoff",
            )
        return self


class DestinationBase(Block):
    """The keys every destination has."""

    type: str
    enabled: Bool = Field(True, description="false: defined but not used (routes naming it skip it)")
    redaction: RedactionBlock | None = Field(None, description="overrides of the global redaction keys")
    filter: FilterSettings = FilterSettings()
    queue: QueueSettings = QueueSettings()
    retry: RetrySettings = RetrySettings()

    @property
    def target(self) -> str:
        """Where the destination sends spans, for ``describe`` and log lines: each URL in it masked
        (``masked_url``: no userinfo password, no query value)."""
        return ""


Headers = dict[Text, SecretText]


class OtlpDestination(DestinationBase):
    """Spans over OTLP (gRPC or HTTP/protobuf) to a collector or an observability backend."""

    type: Literal["otlp"]
    endpoint: HttpUrl = Field(description="the receiver's URL, e.g. http://localhost:4317 (gRPC)")
    protocol: Choice("grpc", "http/protobuf") = "grpc"  # type: ignore[valid-type]
    headers: Headers = Field({}, description="sent with every export; values are secrets")
    insecure: Bool | None = Field(None, description="gRPC without TLS; null: decided by the endpoint's scheme")
    timeout: Duration(positive=True) = 10.0  # type: ignore[valid-type]
    compression: Choice("gzip", "none") = "none"  # type: ignore[valid-type]
    forward: tuple[Choice("metrics", "logs"), ...] = Field(  # type: ignore[valid-type]
        (),
        description="otel-llm collector: also forward these signals as received (logs are not redacted)",
    )

    @property
    def target(self) -> str:
        return masked_url(self.endpoint)


class FileDestination(DestinationBase):
    """LLM call records as JSON Lines, rotated by size and/or time."""

    type: Literal["file"]
    path: Text = Field(description="the file written (rotated files get a suffix)")
    max_bytes: Int(0) = Field(DEFAULT_MAX_BYTES, description="rotate past this size; 0: no size rotation")  # type: ignore[valid-type]
    rotate_every: Choice("hourly", "daily") | None = Field(None, description="time rotation; null: none")  # type: ignore[valid-type]
    backups: Int(0) = Field(10, description="rotated files kept")  # type: ignore[valid-type]

    @property
    def target(self) -> str:
        return self.path


class WebhookDestination(DestinationBase):
    """LLM call records POSTed to a URL (a JSON array per batch, or NDJSON)."""

    type: Literal["webhook"]
    url: HttpUrl
    headers: Headers = Field({}, description="sent with every request; values are secrets")
    format: Choice("json_array", "ndjson") = "json_array"  # type: ignore[valid-type]
    timeout: Duration(positive=True) = 10.0  # type: ignore[valid-type]

    @property
    def target(self) -> str:
        return masked_url(self.url)


class S3Destination(DestinationBase):
    """LLM call records as gzip JSON Lines objects in Amazon S3 (or MinIO, R2, ...)."""

    type: Literal["s3"]
    bucket: Text
    prefix: AnyText = Field("", description="key prefix; keys are prefix/YYYY/MM/DD/HH/...")
    region: Text | None = None
    endpoint_url: HttpUrl | None = Field(None, description="for S3-compatible stores (MinIO, R2)")
    tenant_prefix: Bool = Field(False, description="add the tenant id to the key")
    key_alias_prefix: Bool = Field(False, description="add the key alias (key_alias_attribute) to the key")
    key_alias_attribute: Text = "otel_llm.metadata.key_alias"
    access_key_id: OptionalSecret = Field(None, description="null: the standard AWS credential chain")
    secret_access_key: OptionalSecret = None
    session_token: OptionalSecret = None

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> S3Destination:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            missing = "secret_access_key" if self.secret_access_key is None else "access_key_id"
            other = "access_key_id" if missing == "secret_access_key" else "secret_access_key"
            raise problem(f"required when {other} is given (or give neither, for the AWS chain)", at=missing)
        if self.session_token is not None and self.access_key_id is None:
            raise problem("given without access_key_id and secret_access_key", at="session_token")
        return self

    @property
    def target(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix.lstrip('/')}"
        return where + (f" at {masked_url(self.endpoint_url)}" if self.endpoint_url else "")


class ConsoleDestination(DestinationBase):
    """Spans printed to stdout (for trying a configuration out)."""

    type: Literal["console"]

    @property
    def target(self) -> str:
        return "stdout"


DESTINATION_MODELS: dict[str, type[DestinationBase]] = {
    "otlp": OtlpDestination,
    "file": FileDestination,
    "webhook": WebhookDestination,
    "s3": S3Destination,
    "console": ConsoleDestination,
}


def _add_backends() -> None:
    from otel_llm.config._backends import BACKEND_MODELS  # it builds on DestinationBase above

    DESTINATION_MODELS.update(BACKEND_MODELS)


_add_backends()
Destination = Annotated[Union[tuple(DESTINATION_MODELS.values())], Field(discriminator="type")]  # noqa: UP007

DESTINATION_TYPES = tuple(DESTINATION_MODELS)
