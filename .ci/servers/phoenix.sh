#!/usr/bin/env bash
# Install Arize Phoenix (a real OTLP trace backend for the end-to-end tests) into its own venv, since it
# pins its own opentelemetry versions. Idempotent: the pinned version is part of the path, so a bump
# reinstalls and an existing complete install is reused. Prints the executable's path.
# tests/backends/phoenix_server.py reads VERSION from this file: change it only here.
set -euo pipefail
VERSION=20.26.1
ROOT="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/phoenix/$VERSION"
BIN="$ROOT/venv/bin/phoenix"
if [[ -f "$ROOT/.installed" && -x "$BIN" ]]; then
  echo "phoenix $VERSION already installed: $BIN"
  exit 0
fi
rm -rf "$ROOT"
mkdir -p "$ROOT"
trap 'rm -rf "$ROOT"' ERR
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check "arize-phoenix==$VERSION"
"$BIN" --help >/dev/null
touch "$ROOT/.installed"
echo "phoenix $VERSION installed: $BIN"
