#!/usr/bin/env bash
# Build the project's OpenTelemetry Collector (core + contrib components) from collector-config/builder-config.yaml
# with the OpenTelemetry Collector Builder (OCB) and this machine's Go toolchain, so the tests can run a real
# collector. Idempotent: the binary lives under the first 12 hex of the sha256 of the manifest followed by this
# script, so a change to either rebuilds and otherwise the binary is reused (tests/collector_config/otelcol.py
# computes the same name to find it); other builds are pruned after a successful one. The builder and the Go caches
# (shared with jaeger.sh: most modules are common) live under the cache dir, so a rebuild downloads nothing new.
#
# The collector release is pinned in the manifest only: the builder is installed at v<dist.version>, and every
# v0.x module line there must carry that same version (checked below; the builder's strict versioning then
# checks that `go mod tidy` resolved every listed module to the listed minor version).
#
# Messages go to stderr; stdout is the binary's absolute path alone, also written to $CACHE/current.path.
set -euo pipefail
NAME=otelcol-otel-llm
MANIFEST="$(cd "$(dirname "$0")/../../collector-config" && pwd)/builder-config.yaml"
SCRIPT="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT_CACHE="${OTEL_LLM_CACHE:-${HOME:?set HOME or OTEL_LLM_CACHE}/.cache/otel-llm}"
CACHE="$ROOT_CACHE/backends/otelcol"
# dist.version: the release whose builder, core and contrib modules the manifest uses.
VERSION="$(awk '/^dist:/ {d = 1; next} /^[^[:space:]#]/ {d = 0} d && $1 == "version:" {gsub(/["'\'']/, "", $2); print $2}' "$MANIFEST")"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "otelcol.sh: no dist.version x.y.z in $MANIFEST" >&2; exit 1; }
HASH="$(cat "$MANIFEST" "$SCRIPT" | sha256sum | cut -c1-12)"
BIN="$CACHE/$HASH/$NAME"

found() {  # record (where the cache is writable) and print the binary's path: the last (only) stdout line
  { printf '%s\n' "$BIN" >"$CACHE/current.path.$$" && mv -f "$CACHE/current.path.$$" "$CACHE/current.path"; } 2>/dev/null || true
  printf '%s\n' "$BIN"
  exit 0
}
if [[ -x "$BIN" ]]; then
  echo "otelcol $VERSION already built: $BIN" >&2
  found
fi

command -v go >/dev/null || { echo "otelcol.sh: go is not on PATH" >&2; exit 1; }
# The builder v0.152 needs Go 1.25+; with GOTOOLCHAIN=local an older Go would fail deep in the build log.
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[[ -n "$go_minor" && "$go_minor" -ge 25 ]] || { echo "otelcol.sh: Go 1.25+ needed, found $(go env GOVERSION)" >&2; exit 1; }
stale="$(grep -E '^[[:space:]]*-?[[:space:]]*gomod:.* v0\.' "$MANIFEST" | grep -vE " v${VERSION//./\\.}[[:space:]]*$" || true)"
[[ -z "$stale" ]] || { printf 'otelcol.sh: module versions other than dist.version v%s:\n%s\n' "$VERSION" "$stale" >&2; exit 1; }

mkdir -p "$CACHE"
if command -v flock >/dev/null; then  # one build at a time; a waiting run then finds the binary
  exec 9>"$CACHE/.lock"
  flock 9
  if [[ -x "$BIN" ]]; then
    echo "otelcol $VERSION already built: $BIN" >&2
    found
  fi
fi

start=$SECONDS
export GOPATH="$ROOT_CACHE/go" GOMODCACHE="$ROOT_CACHE/go/pkg/mod" GOCACHE="$ROOT_CACHE/go/build-cache"
export GOFLAGS="-modcacherw" CGO_ENABLED=0 GO111MODULE=on GOWORK=off GOTOOLCHAIN=local
WORK="$(mktemp -d "$CACHE/.build.XXXXXX")"  # same filesystem as the binary, so the final mv is atomic
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/build.log"  # the builder's and go's verbose output: shown only when something fails
fail() { tail -n 60 "$LOG" >&2; echo "otelcol.sh: $1 (log above)" >&2; exit 1; }

BUILDER_DIR="$CACHE/builder/v$VERSION"
if [[ ! -x "$BUILDER_DIR/builder" ]]; then
  GOBIN="$BUILDER_DIR" go install "go.opentelemetry.io/collector/cmd/builder@v$VERSION" >>"$LOG" 2>&1 \
    || fail "go install of the builder v$VERSION failed"
fi

# Build from a copy, so the binary matches the hash it is stored under even if the manifest is edited meanwhile.
cp "$MANIFEST" "$WORK/builder-config.yaml"
[[ "$(cat "$WORK/builder-config.yaml" "$SCRIPT" | sha256sum | cut -c1-12)" == "$HASH" ]] || fail "the manifest changed while starting"
# dist.output_path is ./build, relative to this working directory. GOFLAGS -e reaches the builder's `go mod tidy`
# (go build and go mod download ignore it): tidy also loads the tests of every dependency, and a module only those
# import may be missing from the module proxy (e.g. v0.152.0 of collector/service/telemetry/telemetrytest); -e skips
# those, while go build still fails on any module the binary needs.
(cd "$WORK" && GOFLAGS="$GOFLAGS -e" "$BUILDER_DIR/builder" --config builder-config.yaml \
  --skip-strict-versioning=false --verbose) >>"$LOG" 2>&1 || fail "the builder failed"
OUT="$WORK/build/$NAME"
[[ -x "$OUT" ]] || fail "the builder left no $OUT"

"$OUT" --version >>"$LOG" 2>&1 || fail "the built binary does not run"
"$OUT" components >"$WORK/components.yaml" 2>>"$LOG" || fail "\`$NAME components\` failed"
missing=""
while read -r gomod; do
  grep -qF "module: $gomod" "$WORK/components.yaml" || missing+=" [$gomod]"
done < <(sed -n 's/^[[:space:]]*-\{0,1\}[[:space:]]*gomod:[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\1/p' "$WORK/builder-config.yaml")
[[ -z "$missing" ]] || { cat "$WORK/components.yaml" >>"$LOG"; fail "\`$NAME components\` does not list:$missing"; }

mkdir -p "$CACHE/$HASH"
cp "$WORK/builder-config.yaml" "$WORK/components.yaml" "$CACHE/$HASH/"
mv -f "$OUT" "$BIN"  # last: an interrupted build leaves no binary, so it is redone, not reused
echo "otelcol $VERSION built in $((SECONDS - start))s: $BIN" >&2
# Prune other builds (80 MB each) and build dirs an earlier killed run left; a running build holds the lock.
for old in "$CACHE"/*/ "$CACHE"/.build.*/; do
  [[ -d "$old" ]] || continue
  case "$(basename "$old")" in "$HASH" | builder | "$(basename "$WORK")") continue ;; esac
  [[ "$(basename "$old")" =~ ^([0-9a-f]{12}|\.build\..*)$ ]] && rm -rf "$old"
done
found
