#!/usr/bin/env bash
# Install Arize Phoenix (PyPI arize-phoenix) into its own venv, since it pins its own opentelemetry
# versions, so the end-to-end tests can export OTLP to a real Phoenix and read back what it stored.
# Idempotent: a complete venv at the pinned version's path is reused; a version bump installs anew.
# tests/backends/phoenix_server.py reads VERSION from this line: change the version only here.
set -euo pipefail

VERSION=20.26.1
DEST="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/phoenix/$VERSION"
BIN="$DEST/venv/bin/phoenix"
MARKER="$DEST/venv/.otel-llm-installed"  # written last: an interrupted install is redone, not reused

if [[ -x "$BIN" && -f "$MARKER" ]]; then
    echo "phoenix $VERSION already installed: $BIN"
    exit 0
fi

start=$SECONDS
rm -rf "$DEST/venv"
mkdir -p "$DEST"
python3 -m venv "$DEST/venv"
"$DEST/venv/bin/pip" install --quiet --disable-pip-version-check "arize-phoenix==$VERSION"
touch "$MARKER"
echo "phoenix $VERSION installed in $((SECONDS - start))s: $BIN"
