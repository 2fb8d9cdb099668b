"""Each real backend server starts once per test run (they take seconds to tens of seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends.ddagent_server import DdAgent, ddagent_server
from tests.backends.jaeger_server import JaegerServer, jaeger_server


@pytest.fixture(scope="session")
def ddagent() -> Iterator[DdAgent]:
    with ddagent_server() as agent:
        yield agent


@pytest.fixture(scope="session")
def jaeger() -> Iterator[JaegerServer]:
    with jaeger_server() as server:
        yield server
