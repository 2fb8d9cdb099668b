#!/usr/bin/env bash
# Install Datadog's APM test agent (ddapm-test-agent, PyPI) into its own venv, so the end-to-end tests can
# export to a real Datadog-compatible intake (OTLP + agent trace API + LLM Obs EVP proxy) and read back
# what it recorded. Idempotent: a complete venv at the pinned version's path is reused.
# 1.69.1 is the first release whose OTLP receiver accepts traces (/v1/traces); earlier ones take logs/metrics.
# tests/backends/ddagent_server.py reads VERSION from this file: change it only here.
set -euo pipefail

VERSION=1.69.1
DEST="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/ddapm/$VERSION"
BIN="$DEST/venv/bin/ddapm-test-agent"
MARKER="$DEST/venv/.otel-llm-installed"  # written last: an interrupted install is redone, not reused

if [[ -x "$BIN" && -f "$MARKER" ]]; then
    echo "ddapm-test-agent $VERSION already installed: $BIN"
    exit 0
fi

start=$SECONDS
rm -rf "$DEST/venv"
mkdir -p "$DEST"
python3 -m venv "$DEST/venv"
"$DEST/venv/bin/pip" install --quiet --disable-pip-version-check "ddapm-test-agent==$VERSION"
touch "$MARKER"
echo "ddapm-test-agent $VERSION installed in $((SECONDS - start))s: $BIN"
