"""The four GenAI client metrics, with the bucket boundaries the conventions advise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.metrics import Meter

from otel_llm.genai import attributes as A

TOKEN_BUCKETS: tuple[float, ...] = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
DURATION_BUCKETS: tuple[float, ...] = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip


class GenAIMetrics:
    """Histograms shared by every call of one instrumentation."""

    __slots__ = ("duration", "time_per_output_chunk", "time_to_first_chunk", "token_usage")

    def __init__(self, meter: Meter) -> None:
        self.token_usage = meter.create_histogram(
            A.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
        )
        self.duration = meter.create_histogram(
            A.METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self.time_to_first_chunk = meter.create_histogram(
            A.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self.time_per_output_chunk = meter.create_histogram(
            A.METRIC_TIME_PER_OUTPUT_CHUNK,
            unit="s",
            description="Time between consecutive chunks of a streamed response, after the first.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )

    def record(
        self,
        attributes: Mapping[str, Any],
        *,
        duration_s: float,
        input_tokens: int | None,
        output_tokens: int | None,
        time_to_first_chunk_s: float | None,
        chunk_gaps_ns: Sequence[int],
    ) -> None:
        self.duration.record(duration_s, attributes)
        if input_tokens is not None:
            self.token_usage.record(input_tokens, {**attributes, A.TOKEN_TYPE: A.TOKEN_INPUT})
        if output_tokens is not None:
            self.token_usage.record(output_tokens, {**attributes, A.TOKEN_TYPE: A.TOKEN_OUTPUT})
        if time_to_first_chunk_s is not None:
            self.time_to_first_chunk.record(time_to_first_chunk_s, attributes)
        if chunk_gaps_ns:
            record = self.time_per_output_chunk.record
            for gap in chunk_gaps_ns:
                record(gap / 1e9, attributes)
