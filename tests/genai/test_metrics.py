"""Measurements are buffered on the request path and replayed at collection: bounded, never lost."""

import threading

from otel_llm.genai.metrics import DEFERRED_CALLS_METRIC, GenAIMetrics
from tests.support import Telemetry

ATTRS = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m"}
USAGE = {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2}


def _metrics(max_pending=100):
    t = Telemetry()
    return t, GenAIMetrics(t.meter_provider.get_meter("test"), max_pending=max_pending)


def _times(gaps):
    times = [1_000_000_000]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times if gaps else []


def _record(m, gaps=()):
    m.record(ATTRS, USAGE, duration_s=0.5, time_to_first_chunk_s=None, chunk_times_ns=_times(gaps))


def test_collection_replays_buffered_calls_and_reports_how_many():
    t, m = _metrics()
    for _ in range(3):
        _record(m, gaps=[1_000_000] * 9)
    data = t.all_metrics()
    assert data["gen_ai.client.operation.duration"][0].count == 3
    assert data["gen_ai.client.operation.time_per_output_chunk"][0].count == 27
    assert abs(data["gen_ai.client.operation.time_per_output_chunk"][0].sum - 0.027) < 1e-9
    assert data[DEFERRED_CALLS_METRIC][0].value == 3
    # nothing is replayed twice
    data = t.all_metrics()
    assert data["gen_ai.client.operation.duration"][0].count == 3
    assert data[DEFERRED_CALLS_METRIC][0].value == 0


def test_a_full_buffer_is_replayed_by_the_caller_not_dropped():
    t, m = _metrics(max_pending=3)
    for _ in range(5):
        _record(m)
    data = t.all_metrics()
    assert data["gen_ai.client.operation.duration"][0].count == 5
    assert data[DEFERRED_CALLS_METRIC][0].value == 1  # 4 were replayed when the bound was passed


def test_concurrent_callers_and_collections_lose_nothing():
    t, m = _metrics(max_pending=50)
    counts = []

    def work():
        for _ in range(200):
            _record(m)

    def collect():
        for _ in range(20):
            counts.append(t.all_metrics().get(DEFERRED_CALLS_METRIC, [None])[0])

    threads = [threading.Thread(target=work) for _ in range(4)] + [threading.Thread(target=collect)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t.all_metrics()["gen_ai.client.operation.duration"][0].count == 800
