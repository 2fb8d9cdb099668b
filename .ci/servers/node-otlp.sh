#!/usr/bin/env bash
# The OpenTelemetry JS SDK and its three OTLP trace exporters (HTTP protobuf, HTTP JSON, gRPC) for
# tests/collector/node_client/send.mjs, so the collector tests receive what a real Node.js application
# sends. Versions are pinned by tests/collector/node_client/package-lock.json and nowhere else.
# Idempotent: the install lives in ${OTEL_LLM_CACHE:-~/.cache/otel-llm}/node-otlp/<first 16 hex of the
# lock's sha256> (tests/collector/_node.py computes the same name), so a changed lock installs anew and
# an unchanged one is reused; npm's download cache lives beside it, so reinstalling downloads nothing new.
# Prints the install directory.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../../tests/collector/node_client" && pwd)"
CACHE="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/node-otlp"
HASH="$(sha256sum "$SRC/package-lock.json" | cut -c1-16)"
DEST="$CACHE/$HASH"
MARKER="$DEST/.otel-llm-installed"

if [[ -f "$MARKER" ]]; then
  echo "node-otlp $HASH already installed: $DEST"
  exit 0
fi

command -v npm >/dev/null || { echo "node-otlp.sh: node/npm are not on PATH (Node >= 20.6 needed)" >&2; exit 1; }

start=$SECONDS
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/.install.XXXXXX")"  # same filesystem as DEST, so the final mv is atomic
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
cp "$SRC/package.json" "$SRC/package-lock.json" "$WORK/"
# --engine-strict: this Node must satisfy every package's engines field (the pinned exporters want
# ^18.19.0 || >=20.6.0; their 0.300+ releases want >= 22.15), failing here rather than in a test.
# --ignore-scripts: nothing in the tree needs an install script (protobufjs' postinstall only warns about
# how dependents spell its version), and none should run unreviewed.
(cd "$WORK" && npm ci --no-audit --no-fund --engine-strict --ignore-scripts --prefer-offline \
  --cache "$CACHE/npm-cache" --loglevel=error) >"$WORK/npm.log" 2>&1 \
  || { tail -n 40 "$WORK/npm.log" >&2; echo "node-otlp.sh: npm ci failed" >&2; exit 1; }
rm -f "$WORK/npm.log"
touch "$WORK/.otel-llm-installed"
# Last: an interrupted install leaves no DEST; a concurrent one that finished first wins.
mv -T "$WORK" "$DEST" 2>/dev/null || [[ -f "$MARKER" ]] \
  || { echo "node-otlp.sh: could not move the install to $DEST" >&2; exit 1; }
echo "node-otlp $HASH installed in $((SECONDS - start))s: $DEST"
