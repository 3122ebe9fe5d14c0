#!/usr/bin/env bash
# Create/refresh the virtual environment at .venv and install the project into it.
# Usage: scripts/setup.sh [EXTRAS]   (EXTRAS e.g. "test"). Idempotent and quick when
# nothing changed (a stamp records what was installed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras="${1:-}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "LineInspector needs Python >= 3.11 (found $("$python" --version 2>&1))" >&2; exit 1; }
  echo "creating virtual environment at .venv"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

stamp=".venv/.lineinspector-installed${extras:+-$extras}"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

# torch first, so that the project's "torch>=..." is already satisfied and pip pulls nothing
# more: the CUDA build only where an NVIDIA GPU is present, else the CPU build.
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "NVIDIA GPU found: installing the CUDA build of torch"
    "${pip[@]}" install "torch==${TORCH_VERSION:-2.13.0}"
  else
    echo "no NVIDIA GPU: installing the CPU build of torch"
    # Here the CPU wheel of 2.13.0 is on local disk (pip's find-links). Elsewhere set
    # TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu to get the CPU build.
    "${pip[@]}" install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==${TORCH_VERSION:-2.13.0}"
  fi
fi
if [ -n "$extras" ]; then
  "${pip[@]}" install -e ".[$extras]"
else
  "${pip[@]}" install -e .
fi
echo "$want" > "$stamp"
