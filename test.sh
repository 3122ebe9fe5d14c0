#!/usr/bin/env bash
# One command: set up .venv with the test tools and run the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/setup.sh test
scripts/system-deps.sh  # mosquitto for the MQTT tests (root + apt-get: installed if missing)
test -x .venv/bin/pytest || { echo "set-up failed" >&2; exit 1; }
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec .venv/bin/python -m pytest "$@"
