#!/usr/bin/env bash
# Install the MLflow tracking server (PyPI mlflow; its OTLP/HTTP trace intake needs >= 3.6) into its own
# venv, since it pins its own opentelemetry versions, so the end-to-end tests can export OTLP to a real
# MLflow and read back what it stored. Idempotent: a complete venv at the pinned version's path is
# reused; a version bump installs anew.
# tests/backends/mlflow_server.py reads VERSION from this line: change the version only here.
set -euo pipefail

VERSION=3.17.2
DEST="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/mlflow/$VERSION"
BIN="$DEST/venv/bin/mlflow"
MARKER="$DEST/venv/.otel-llm-installed"  # written last: an interrupted install is redone, not reused

if [[ -x "$BIN" && -f "$MARKER" ]]; then
    echo "mlflow $VERSION already installed: $BIN"
    exit 0
fi

start=$SECONDS
rm -rf "$DEST/venv"
mkdir -p "$DEST"
python3 -m venv "$DEST/venv"
"$DEST/venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$VERSION"
touch "$MARKER"
echo "mlflow $VERSION installed in $((SECONDS - start))s: $BIN"
