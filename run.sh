#!/usr/bin/env bash
# One command: set up .venv (first run only) and start LineInspector.
# With arguments, they go to the command-line tool instead: ./run.sh train DATA --out M.limodel
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/setup.sh
test -x .venv/bin/lineinspect || { echo "set-up failed" >&2; exit 1; }
if [ "$#" -gt 0 ]; then
  exec .venv/bin/lineinspect "$@"
fi
if [ -x .venv/bin/lineinspector ] && .venv/bin/python -c 'import app.main' 2>/dev/null; then
  exec .venv/bin/lineinspector
fi
exec .venv/bin/lineinspect --help
