"""Where the backend servers of the end-to-end tests live, and what to do when one is missing.

`.ci/servers/*.sh` install them into a cache directory (the README says how); a test that needs a
server skips when it is not installed, unless ``OTEL_LLM_REQUIRE_BACKENDS=1`` (set by `.ci/run`),
where a missing server is a failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("OTEL_LLM_CACHE") or Path.home() / ".cache" / "otel-llm")
BACKENDS = CACHE / "backends"
SCRIPTS = Path(__file__).resolve().parents[2] / ".ci" / "servers"


def executable(name: str, env_var: str, default: Path) -> str:
    """The path of a server's executable: ``$env_var`` if set, else ``default`` (under BACKENDS)."""
    path = Path(os.environ.get(env_var) or default)
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    message = f"{name} is not installed at {path} (run .ci/servers/ scripts, or set {env_var})"
    if os.environ.get("OTEL_LLM_REQUIRE_BACKENDS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def pinned_version(script_name: str) -> str:
    """The ``VERSION=`` of ``.ci/servers/<script_name>``: a server's version is pinned there and nowhere else."""
    script = SCRIPTS / script_name
    match = re.search(r"^VERSION=(\S+)", script.read_text(), re.M)
    if match is None:
        raise RuntimeError(f"no VERSION= line in {script}")
    return match.group(1)
