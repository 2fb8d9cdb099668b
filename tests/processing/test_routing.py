"""Routing: tenants, defaults, per-request exclusions and destination filters, on real SDK spans."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from otel_llm.genai import attributes as A
from otel_llm.processing.routing import Filter, Router


def make_span(attributes: dict[str, Any] | None = None, *, error: bool = False) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("chat m", attributes=attributes or {}) as span:
        if error:
            span.set_status(Status(StatusCode.ERROR, "boom"))
    (finished,) = exporter.get_finished_spans()
    return finished


FILTERS = {"a": Filter(), "b": Filter(), "c": Filter()}


def test_no_tenant_goes_to_defaults() -> None:
    router = Router(FILTERS, ["a", "b"], {"t1": ["c"]})
    assert router.route(make_span()) == ("a", "b")


def test_tenant_with_own_destinations() -> None:
    router = Router(FILTERS, ["a"], {"t1": ["b", "c"]})
    assert router.route(make_span({A.TENANT_ID: "t1"})) == ("b", "c")


def test_unknown_tenant_goes_to_defaults() -> None:
    router = Router(FILTERS, ["a"], {"t1": ["b"]})
    assert router.route(make_span({A.TENANT_ID: "someone-else"})) == ("a",)


def test_tenant_with_logging_disabled_goes_nowhere() -> None:
    router = Router(FILTERS, ["a", "b", "c"], {"gdpr": []})
    assert router.route(make_span({A.TENANT_ID: "gdpr", A.OPERATION_NAME: "chat"})) == ()


def test_exclusions_remove_destinations() -> None:
    router = Router(FILTERS, ["a", "b", "c"])
    assert router.route(make_span({A.EXCLUDE_DESTINATIONS: ("b", "zzz")})) == ("a", "c")


def test_exclusions_apply_to_tenant_routes_too() -> None:
    router = Router(FILTERS, ["a"], {"t1": ["b", "c"]})
    assert router.route(make_span({A.TENANT_ID: "t1", A.EXCLUDE_DESTINATIONS: ("c",)})) == ("b",)


def test_status_filter() -> None:
    router = Router({"all": Filter(), "failures": Filter(status="error"), "ok": Filter(status="ok")}, ["all", "failures", "ok"])
    assert router.route(make_span()) == ("all", "ok")
    assert router.route(make_span(error=True)) == ("all", "failures")
    # error.type without an ERROR status (e.g. a span from another library) counts as a failure too
    assert router.route(make_span({A.ERROR_TYPE: "RateLimitError"})) == ("all", "failures")


def test_tag_filter_needs_one_of_the_tags() -> None:
    router = Router({"a": Filter(tags=frozenset({"prod", "eval"}))}, ["a"])
    assert router.route(make_span({A.TAGS: ("eval", "x")})) == ("a",)
    assert router.route(make_span({A.TAGS: ("dev",)})) == ()
    assert router.route(make_span()) == ()


def test_genai_only() -> None:
    router = Router({"a": Filter(genai_only=True), "b": Filter()}, ["a", "b"])
    assert router.route(make_span({A.OPERATION_NAME: "chat"})) == ("a", "b")
    assert router.route(make_span({"http.request.method": "GET"})) == ("b",)


def test_sampling_keeps_about_the_ratio_and_is_stable_per_trace() -> None:
    router = Router({"s": Filter(sample_ratio=0.25)}, ["s"])
    spans = [make_span() for _ in range(2000)]
    kept = [s for s in spans if router.route(s)]
    assert 380 < len(kept) < 620
    # the decision depends on the trace id alone
    assert all(router.route(s) == ("s",) for s in kept)
    zero = Router({"s": Filter(sample_ratio=0.0)}, ["s"])
    assert not any(zero.route(s) for s in spans[:200])


def test_unknown_destination_names_are_refused() -> None:
    with pytest.raises(ValueError, match=r"tenant 't1': unknown destination\(s\) \['nope'\]"):
        Router(FILTERS, ["a"], {"t1": ["nope"]})
    with pytest.raises(ValueError, match="default destinations"):
        Router(FILTERS, ["x"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"status": "failed"}, "filter.status"), ({"sample_ratio": 1.5}, "filter.sample_ratio")],
)
def test_bad_filters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Filter(**kwargs)
