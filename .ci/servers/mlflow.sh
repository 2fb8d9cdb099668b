#!/usr/bin/env bash
# The MLflow tracking server (PyPI mlflow; its OTLP/HTTP trace intake needs >= 3.6; 3.18.0 needs an
# unpublished mlflow-skinny), so the end-to-end tests can export OTLP to a real MLflow and read back
# what it stored. tests/backends/mlflow_server.py reads VERSION from this line: change it only here.
set -euo pipefail
VERSION=3.17.2
exec bash "$(dirname "$0")/lib/pip-venv.sh" mlflow mlflow "$VERSION" mlflow
