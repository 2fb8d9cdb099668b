"""The four GenAI client metrics, with the bucket boundaries the conventions advise.

Measurements are taken on the request path but handed to the SDK's histograms later, when a
metric reader collects: each histogram ``record()`` of the Python SDK costs about as much as a
third of a span, and a stream has one ``time_per_output_chunk`` point per chunk. The buffer is
bounded; when it is full the calling thread replays it, so nothing is ever dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_llm._safety import report
from otel_llm.genai import attributes as A

TOKEN_BUCKETS: tuple[float, ...] = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
DURATION_BUCKETS: tuple[float, ...] = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip


# (attribute here, metric name, unit, advised buckets, description)
HISTOGRAMS = (
    ("token_usage", A.METRIC_TOKEN_USAGE, "{token}", TOKEN_BUCKETS, "Number of input and output tokens used."),
    ("duration", A.METRIC_OPERATION_DURATION, "s", DURATION_BUCKETS, "GenAI operation duration."),
    ("time_to_first_chunk", A.METRIC_TIME_TO_FIRST_CHUNK, "s", DURATION_BUCKETS,
     "Time to receive the first chunk of a streamed response."),
    ("time_per_output_chunk", A.METRIC_TIME_PER_OUTPUT_CHUNK, "s", DURATION_BUCKETS,
     "Time between consecutive chunks of a streamed response, after the first."),
)  # fmt: skip
DEFERRED_CALLS_METRIC = "otel_llm.metrics.deferred_calls"
# Span attributes that also dimension the metrics: from the request, then from the response.
REQUEST_KEYS = (A.OPERATION_NAME, A.PROVIDER_NAME, A.REQUEST_MODEL, A.SERVER_ADDRESS, A.SERVER_PORT)
RESPONSE_KEYS = (A.RESPONSE_MODEL, A.ERROR_TYPE)
MAX_PENDING_CALLS = 4096


class GenAIMetrics:
    """Histograms shared by every call of one instrumentation, fed from a bounded buffer."""

    __slots__ = (
        "_max_pending",
        "_pending",
        "cost",
        "duration",
        "time_per_output_chunk",
        "time_to_first_chunk",
        "token_usage",
    )

    def __init__(self, meter: Meter, *, max_pending: int = MAX_PENDING_CALLS) -> None:
        self._pending: deque[tuple[Any, ...]] = deque()
        self._max_pending = max_pending
        made = {
            slot: meter.create_histogram(name, unit=unit, description=text, explicit_bucket_boundaries_advisory=list(b))
            for slot, name, unit, b, text in HISTOGRAMS
        }
        self.token_usage = made["token_usage"]
        self.duration = made["duration"]
        self.time_to_first_chunk = made["time_to_first_chunk"]
        self.time_per_output_chunk = made["time_per_output_chunk"]
        self.cost = meter.create_counter(
            A.METRIC_COST, unit="{USD}", description="USD cost of GenAI calls, from their usage and model prices."
        )

        meter.create_observable_gauge(
            DEFERRED_CALLS_METRIC,
            callbacks=[self._on_collect],
            unit="{call}",
            description="GenAI calls whose measurements were recorded into the gen_ai.client.* histograms "
            "at this collection.",
        )

    def record(
        self,
        request_attributes: Mapping[str, Any],
        response_attributes: Mapping[str, Any],
        *,
        duration_s: float,
        time_to_first_chunk_s: float | None,
        chunk_times_ns: Sequence[int],
    ) -> None:
        """Buffer one call's measurements; they reach the histograms at the next collection.

        The attribute mappings are the call's span attributes; the metric dimensions and the token
        counts are read from them at replay, off the request path. They must not change after the
        call ended.
        """
        pending = self._pending
        pending.append(
            (request_attributes, response_attributes, duration_s, time_to_first_chunk_s, chunk_times_ns)
        )  # fmt: skip
        if len(pending) > self._max_pending:
            self.flush()

    def flush(self) -> int:
        """Record every buffered call now; returns how many there were. Safe from any thread."""
        count = 0
        pop = self._pending.popleft
        while True:
            try:
                item = pop()
            except IndexError:
                return count
            self._record_now(*item)
            count += 1

    def _on_collect(self, options: CallbackOptions) -> Iterable[Observation]:
        try:
            count = self.flush()
        except Exception as err:
            report("genai.metrics.flush", err)
            count = 0
        return [Observation(count)]

    def _record_now(
        self,
        request_attributes: Mapping[str, Any],
        response_attributes: Mapping[str, Any],
        duration_s: float,
        time_to_first_chunk_s: float | None,
        chunk_times_ns: Sequence[int],
    ) -> None:
        attributes = {k: request_attributes[k] for k in REQUEST_KEYS if k in request_attributes}
        attributes.update((k, response_attributes[k]) for k in RESPONSE_KEYS if k in response_attributes)
        self.duration.record(duration_s, attributes)
        input_tokens = response_attributes.get(A.USAGE_INPUT_TOKENS)
        output_tokens = response_attributes.get(A.USAGE_OUTPUT_TOKENS)
        if input_tokens is not None:
            self.token_usage.record(input_tokens, {**attributes, A.TOKEN_TYPE: A.TOKEN_INPUT})
        if output_tokens is not None:
            self.token_usage.record(output_tokens, {**attributes, A.TOKEN_TYPE: A.TOKEN_OUTPUT})
        cost = response_attributes.get(A.COST_USD)
        if cost:
            self._add_cost(cost, request_attributes, response_attributes)
        if time_to_first_chunk_s is not None:
            self.time_to_first_chunk.record(time_to_first_chunk_s, attributes)
        if len(chunk_times_ns) > 1:
            record = self.time_per_output_chunk.record
            previous = chunk_times_ns[0]
            for arrival in chunk_times_ns[1:]:
                record((arrival - previous) / 1e9, attributes)
                previous = arrival

    def _add_cost(self, cost: float, request: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        """The cost counter's dimensions: provider, model and tenant (chargeback needs no more)."""
        attributes = {A.PROVIDER_NAME: request.get(A.PROVIDER_NAME)}
        model = response.get(A.RESPONSE_MODEL) or request.get(A.REQUEST_MODEL)
        if model is not None:
            attributes[A.REQUEST_MODEL] = model
        tenant = request.get(A.TENANT_ID)
        if tenant is not None:
            attributes[A.TENANT_ID] = tenant
        self.cost.add(cost, attributes)
