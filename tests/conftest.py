"""Fixtures: an instrumented openai SDK reporting into in-memory pipelines (see support.py), and the real
backend servers shared by tests/backends and tests/collector_config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.anthropic_support import atelemetry, atelemetry_content  # noqa: F401  (fixtures)
from tests.backends.ddagent_server import DdAgent, ddagent_server
from tests.backends.jaeger_server import JaegerServer, jaeger_server
from tests.backends.mlflow_server import MlflowServer, mlflow_server
from tests.backends.phoenix_server import PhoenixServer, phoenix_server
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


# Real backend servers (tests/backends, tests/collector_config): each starts once per test run,
# since they take seconds to tens of seconds.


@pytest.fixture(scope="session")
def ddagent() -> Iterator[DdAgent]:
    with ddagent_server() as agent:
        yield agent


@pytest.fixture(scope="session")
def jaeger() -> Iterator[JaegerServer]:
    with jaeger_server() as server:
        yield server


@pytest.fixture(scope="session")
def phoenix() -> Iterator[PhoenixServer]:
    with phoenix_server() as server:
        yield server


@pytest.fixture(scope="session")
def mlflow() -> Iterator[MlflowServer]:
    with mlflow_server() as server:
        yield server
