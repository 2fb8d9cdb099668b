#!/usr/bin/env bash
# Build Jaeger v2 (the OpenTelemetry-Collector-based all-in-one: OTLP in, in-memory storage, query API out) from its
# Go module with this machine's Go toolchain, so the end-to-end tests can export to a real Jaeger and read back
# what it stored. Idempotent: the pinned version is part of the path, so a bump rebuilds and an existing binary is
# reused; the Go module and build caches live under the cache dir, so a rebuild downloads nothing new.
# Prints the binary's path. tests/backends/jaeger_server.py reads VERSION from this file: change it only here.
#
# Why a v1.x version for Jaeger v2: the module path has no /v2 suffix, so the Go proxy only serves the v1.x tags;
# each release tags the same commit v1.N and v2.M (v1.76.0 = v2.13.0). `go install ...@v1.76.0` is refused
# because go.mod has a replace directive, hence download + build in a writable copy of the module source.
set -euo pipefail
VERSION=v1.76.0   # Go module version of github.com/jaegertracing/jaeger
RELEASE=v2.13.0   # the Jaeger v2 release on the same commit; only reported by `jaeger version`
CACHE="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/backends/jaeger"
ROOT="$CACHE/$VERSION"
BIN="$ROOT/jaeger"
if [[ -x "$BIN" ]]; then
  echo "jaeger $RELEASE (module $VERSION) already built: $BIN"
  exit 0
fi

start=$SECONDS
# Go caches shared with otelcol.sh (most modules are common; Go's caches are safe for concurrent builds).
GO_CACHE="${OTEL_LLM_CACHE:-$HOME/.cache/otel-llm}/go"
export GOPATH="$GO_CACHE" GOMODCACHE="$GO_CACHE/pkg/mod" GOCACHE="$GO_CACHE/build-cache"
export GOFLAGS="-modcacherw -mod=readonly" CGO_ENABLED=0 GO111MODULE=on
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/build.log"  # go's ~300 "downloading" lines: shown only when something fails
fail() { tail -n 40 "$LOG" >&2; echo "jaeger.sh: $1" >&2; exit 1; }
(cd "$WORK" && go mod download -json "github.com/jaegertracing/jaeger@$VERSION") >>"$LOG" 2>&1 || true
SRC="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$LOG")"
[[ -n "$SRC" && -d "$SRC" ]] || fail "go mod download gave no source dir for $VERSION"
cp -r "$SRC" "$WORK/src"
chmod -R u+w "$WORK/src"
mkdir -p "$ROOT"
pkg=github.com/jaegertracing/jaeger/internal/version
(cd "$WORK/src" && go build -trimpath \
  -ldflags "-s -w -X $pkg.latestVersion=$RELEASE -X $pkg.commitSHA=module-$VERSION" \
  -o "$BIN.tmp" ./cmd/jaeger) >>"$LOG" 2>&1 || fail "go build failed"
"$BIN.tmp" version >>"$LOG" 2>&1 || fail "the built binary does not run"
mv "$BIN.tmp" "$BIN"  # last: an interrupted build leaves no binary, so it is redone, not reused
echo "jaeger $RELEASE (module $VERSION) built in $((SECONDS - start))s: $BIN"
