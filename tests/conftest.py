"""Fixtures: an instrumented openai SDK reporting into in-memory pipelines (see support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.anthropic_support import atelemetry, atelemetry_content  # noqa: F401  (fixtures)
from tests.support import Telemetry, instrument


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Instrumented openai with content capture off (the default).

    Pricing is off in the shared helpers (tests.support.instrument), so exact-attribute tests stay
    about their subject; the cost tests (tests/**/test_cost*.py) instrument with cost=True.
    """
    t = Telemetry()
    instrumentor = instrument(t)
    yield t
    instrumentor.uninstrument()


@pytest.fixture
def telemetry_content() -> Iterator[Telemetry]:
    """Instrumented openai with content captured on spans."""
    t = Telemetry()
    instrumentor = instrument(t, capture_content="SPAN_ONLY")
    yield t
    instrumentor.uninstrument()


@pytest.fixture(autouse=True)
def _restore_request_policy() -> Iterator[None]:
    """otel_llm.configure() changes the process-wide request policy: each test starts from the one before."""
    from otel_llm.request_context import current_policy, reset_policy

    previous = current_policy()
    yield
    reset_policy(previous)
