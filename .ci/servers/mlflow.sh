#!/usr/bin/env bash
# Install the MLflow tracking server (a real OTLP trace backend for the end-to-end tests) into its own venv, since it
# pins its own opentelemetry versions. Idempotent: the pinned version is part of the path, so a bump
# reinstalls and an existing complete install is reused. Prints the executable's path.
# tests/backends/mlflow_server.py reads VERSION from this file: change it only here.
set -euo pipefail
VERSION=3.17.2
ROOT="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/mlflow/$VERSION"
BIN="$ROOT/venv/bin/mlflow"
if [[ -f "$ROOT/.installed" && -x "$BIN" ]]; then
  echo "mlflow $VERSION already installed: $BIN"
  exit 0
fi
rm -rf "$ROOT"
mkdir -p "$ROOT"
trap 'rm -rf "$ROOT"' ERR
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$VERSION"
"$BIN" --help >/dev/null
touch "$ROOT/.installed"
echo "mlflow $VERSION installed: $BIN"
