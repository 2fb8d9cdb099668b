"""Test sessions: the suite runs against every SDK line we support, three combinations in all.

openai 3.x / anthropic 2.x are on httpx2 (anthropic with native tracing); openai 2.x runs beside
anthropic 1.x (httpx2, the first line with native tracing); openai 1.x beside anthropic 0.x, the
httpx line without native tracing. Bedrock clients need boto3 for request signing.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# CI points this at a cache directory that survives between runs on the same machine.
nox.options.envdir = os.environ.get("OTEL_LLM_NOX_ENVDIR", ".nox")

SDKS = {
    "openai3-anthropic2": ["openai>=3", "anthropic>=2,<3", "httpx2", "boto3>=1.34"],
    "openai2-anthropic1": ["openai>=2,<3", "anthropic>=1.14,<2", "httpx", "httpx2", "boto3>=1.34"],
    "openai1-anthropic0": ["openai>=1.40,<2", "anthropic>=0.60,<1", "httpx", "boto3>=1.34"],
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
