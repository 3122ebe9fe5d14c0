#!/usr/bin/env bash
# Build the self-contained Linux bundle of LineInspector:
#   dist/LineInspector-<version>-linux-x86_64.tar.gz        (CPU build of torch, the default)
#   dist/LineInspector-<version>-linux-x86_64-cuda.tar.gz   (--cuda: the venv's CUDA build of torch)
# PyInstaller (onedir, installer/lineinspector.spec) is installed into the virtual environment
# through the project's "installer" extra. The fresh bundle must pass its own
# `lineinspector --self-test` (run with a bare environment, away from the source tree) or the
# build fails and no tarball is written. See installer/README.md.
#
# Usage: installer/build.sh [--cuda] [--venv DIR] [--openvino] [--no-tar]
#   --cuda      bundle a CUDA build of torch (the venv must have one; the default refuses it)
#   --venv DIR  the virtual environment to build from (default: .venv, made by scripts/setup.sh)
#   --openvino  keep OpenVINO in the bundle when the venv has it (default: left out)
#   --no-tar    stop after the self-test (dist/LineInspector-<version>-linux-x86_64*/ only)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cuda=0 venv=.venv openvino=0 tar=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=1 ;;
    --venv) venv="${2:?--venv needs a folder}"; shift ;;
    --openvino) openvino=1 ;;
    --no-tar) tar=0 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\n== %s [%s]\n' "$*" "$(date +%H:%M:%S)"; }
started=$(date +%s)

if [ ! -x "$venv/bin/python" ]; then
  [ "$venv" = .venv ] && scripts/setup.sh
  [ -x "$venv/bin/python" ] || { echo "build.sh: no virtual environment at $venv" >&2; exit 1; }
fi
py="$venv/bin/python"

log "installing the project with its installer extra into $venv"
"$py" -m pip install --disable-pip-version-check -q -e ".[installer]"

version="$("$py" -c 'import core; print(core.__version__)')"
torch_cuda="$("$py" -c 'import torch; print(torch.version.cuda or "")')"
torch_version="$("$py" -c 'import torch; print(torch.__version__)')"
if [ "$cuda" = 1 ] && [ -z "$torch_cuda" ]; then
  echo "build.sh: --cuda, but torch $torch_version in $venv is the CPU build; make a venv with" \
       "the CUDA build (pip install torch==$torch_version) and pass it with --venv" >&2
  exit 1
fi
if [ "$cuda" = 0 ] && [ -n "$torch_cuda" ]; then
  echo "build.sh: torch $torch_version in $venv is a CUDA build; the default bundle uses the CPU" \
       "build (install it with TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu) or pass --cuda" >&2
  exit 1
fi
if [ "$openvino" = 0 ] && "$py" -c 'import openvino' 2>/dev/null; then
  echo "note: OpenVINO is installed in $venv but left out of the bundle (--openvino keeps it)"
fi

arch="$(uname -m)"
suffix=""; [ "$cuda" = 1 ] && suffix="-cuda"
name="LineInspector-$version-linux-$arch$suffix"
work="build/installer"
stage="dist/$name"
echo "building $name with torch $torch_version (${torch_cuda:+CUDA $torch_cuda}${torch_cuda:-CPU})"

log "PyInstaller (onedir)"
rm -rf "$work/dist" "$stage" "dist/$name.tar.gz"
LINEINSPECTOR_BUILD_OPENVINO="$openvino" "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$work/dist" --workpath "$work/work" installer/lineinspector.spec

log "assembling $stage"
mkdir -p "$stage"
mv "$work/dist/LineInspector" "$stage/LineInspector"
install -m 755 installer/linux/lineinspector installer/linux/lineinspect \
  installer/linux/install-desktop-entry.sh "$stage/"
install -m 644 installer/linux/lineinspector.desktop installer/linux/lineinspect-station.service \
  resources/icons/lineinspector.png \
  resources/icons/lineinspector.svg "$stage/"
variant="CPU build of torch $torch_version"
[ "$cuda" = 1 ] && variant="CUDA $torch_cuda build of torch $torch_version"
sed -e "s|@VERSION@|$version|g" -e "s|@SUFFIX@|$suffix|g" -e "s|@VARIANT@|$variant|g" \
  installer/linux/README.txt > "$stage/README.txt"

log "self-test of the fresh bundle"
# A bare environment and a folder outside the source tree: the bundle must need nothing else.
selftest_home="$(mktemp -d)"
trap 'rm -rf "$selftest_home"' EXIT
if ! (cd "$selftest_home" && env -i HOME="$selftest_home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
      "$root/$stage/lineinspector" --self-test); then
  echo "build.sh: the bundle FAILED its self-test; no tarball written ($stage kept for a look)" >&2
  exit 1
fi

unpacked="$(du -sh "$stage" | cut -f1)"
if [ "$tar" = 1 ]; then
  log "packing dist/$name.tar.gz"
  if command -v pigz >/dev/null 2>&1; then
    tar -C dist -cf - "$name" | pigz -6 > "dist/$name.tar.gz"
  else
    tar -C dist -czf "dist/$name.tar.gz" "$name"
  fi
  echo "dist/$name.tar.gz: $(du -h "dist/$name.tar.gz" | cut -f1)"
fi
echo "unpacked: $unpacked ($stage)"
echo "build took $(( $(date +%s) - started )) s"
