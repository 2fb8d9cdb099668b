"""Each real backend server starts once per test run (they take seconds to tens of seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends.ddagent_server import DdAgent, ddagent_server
from tests.backends.jaeger_server import JaegerServer, jaeger_server
from tests.backends.mlflow_server import MlflowServer, mlflow_server
from tests.backends.phoenix_server import PhoenixServer, phoenix_server


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
