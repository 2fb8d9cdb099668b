#!/usr/bin/env bash
# Datadog's APM test agent (PyPI ddapm-test-agent), so the end-to-end tests can export to a real
# Datadog-compatible intake (OTLP, agent trace API, LLM Obs EVP proxy) and read back what it recorded.
# 1.69.1 is the first release whose OTLP receiver accepts traces (/v1/traces).
# tests/backends/ddagent_server.py reads VERSION from this line: change it only here.
set -euo pipefail
VERSION=1.69.1
exec bash "$(dirname "$0")/lib/pip-venv.sh" ddapm ddapm-test-agent "$VERSION" ddapm-test-agent
