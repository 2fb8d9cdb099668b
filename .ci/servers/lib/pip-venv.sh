#!/usr/bin/env bash
# pip-venv.sh NAME PACKAGE VERSION EXECUTABLE: install PACKAGE==VERSION into its own venv at
# ${OTEL_LLM_CACHE:-~/.cache/otel-llm}/backends/NAME/VERSION/venv (servers pin their own
# opentelemetry versions, so they never share the test venv) and print EXECUTABLE's path.
# Idempotent: a complete venv is reused; a marker written last makes an interrupted install redo.
set -euo pipefail
NAME=$1 PACKAGE=$2 VERSION=$3 EXECUTABLE=$4
DEST="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/$NAME/$VERSION"
BIN="$DEST/venv/bin/$EXECUTABLE"
MARKER="$DEST/venv/.otel-llm-installed"

if [[ -x "$BIN" && -f "$MARKER" ]]; then
    echo "$NAME $VERSION already installed: $BIN"
    exit 0
fi

start=$SECONDS
rm -rf "$DEST/venv"
mkdir -p "$DEST"
python3 -m venv "$DEST/venv"
"$DEST/venv/bin/pip" install --quiet --disable-pip-version-check "$PACKAGE==$VERSION"
touch "$MARKER"
echo "$NAME $VERSION installed in $((SECONDS - start))s: $BIN"
