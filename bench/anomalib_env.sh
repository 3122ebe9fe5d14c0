#!/usr/bin/env bash
# Separate virtual environment for the anomalib comparison (bench/vs_anomalib.py).
# The product never imports anything from it. torch goes in first so that pip keeps the
# version the product uses (2.13.0) instead of whatever anomalib's dependencies would pull.
#
#   bash bench/anomalib_env.sh            # creates bench/.venv-anomalib
#   bench/.venv-anomalib/bin/python bench/vs_anomalib.py --textures ../shared/datasets/textures_dtd10
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv-anomalib
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
echo '*' > "$VENV/.gitignore"   # keep the environment out of git (Python < 3.13 does not)
"$VENV/bin/pip" install --upgrade pip >/dev/null
# torch 2.13.0 as in the product's environment, but the index's regular build, not the
# +cpu one: anomalib imports torchvision (through torchmetrics), and the only torchvision
# 0.28.0 on the index is linked against CUDA libtorch, so it fails to load with +cpu torch.
# The CUDA-enabled build runs the same CPU kernels (MKL / oneDNN). "===" excludes +cpu.
# The constraints stop anomalib's dependencies from upgrading torch or torchvision.
CONSTRAINTS=$(mktemp)
trap 'rm -f "$CONSTRAINTS"' EXIT
printf 'torch===2.13.0\ntorchvision==0.28.0\n' > "$CONSTRAINTS"
"$VENV/bin/pip" install "torch===2.13.0" "torchvision==0.28.0"
"$VENV/bin/pip" install -c "$CONSTRAINTS" "anomalib==2.7.0"
# what bench/vs_anomalib.py imports from the product (model, losses, synthetic anomalies,
# and the inference backends, so that every backend runs in the same process as anomalib)
"$VENV/bin/pip" install -c "$CONSTRAINTS" numpy opencv-python-headless safetensors platformdirs \
    onnxruntime onnx openvino
"$VENV/bin/python" -c "import anomalib, torch; print('anomalib', anomalib.__version__, 'torch', torch.__version__)"
