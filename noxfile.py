"""Test sessions: the suite runs against every openai SDK line (3.x on httpx2, 2.x and 1.x on httpx)."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# CI points this at a cache directory that survives between runs on the same machine.
nox.options.envdir = os.environ.get("OTEL_LLM_NOX_ENVDIR", ".nox")

SDKS = {
    "openai3": ["openai>=3", "httpx2"],
    "openai2": ["openai>=2,<3", "httpx"],
    "openai1": ["openai>=1.40,<2", "httpx"],
}


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")


@nox.session
@nox.parametrize("sdk", list(SDKS))
def tests(session: nox.Session, sdk: str) -> None:
    session.install("-e", ".[dev]", *SDKS[sdk])
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
