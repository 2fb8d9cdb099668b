#!/usr/bin/env bash
# Arize Phoenix (PyPI arize-phoenix), so the end-to-end tests can export OTLP to a real Phoenix and
# read back what it stored. tests/backends/phoenix_server.py reads VERSION from this line: change it only here.
set -euo pipefail
VERSION=20.26.1
exec bash "$(dirname "$0")/lib/pip-venv.sh" phoenix arize-phoenix "$VERSION" phoenix
