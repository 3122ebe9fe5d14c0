"""Per-image latency of every inference backend, and this CPU's measured peak fp32 rate.

    .venv/bin/python bench/backends.py --out bench/out/backends.json            # real figures
    .venv/bin/python bench/backends.py --presets fast --runs 2 --out /tmp/b.json  # smoke run
    .venv/bin/python bench/backends.py --presets fast --auroc bench/out/bottle_fast.limodel \\
        --dataset ../shared/datasets/mvtec_bottle --out bench/out/int8_auroc.json

For each preset (random weights: speed does not depend on them) and backend, batch-1
latency, medians over --runs rounds in which the backends alternate (drift hits all alike):
``model_ms`` (preprocessed 256x256 input to map + score) and ``frame_ms`` (a 1280x1024
uint8 camera frame, preprocessing and map resize included). int8 backends are quantised
from the same graph, calibrated on --calib good images. In the same run, large fp32
matrix products (PyTorch/MKL and NumPy/OpenBLAS) give the machine's measured peak; each
backend's achieved GFLOP/s (2 x conv MACs / model_ms) is reported as a fraction of it.
With --auroc, image AUROC of fp32 vs int8 on --dataset (MVTec layout). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.atomic import atomic_write_text  # noqa: E402
from core.inference.backends.cache import cpu_model  # noqa: E402

DEFAULT_CALIB = Path("../shared/datasets/mvtec_bottle/train/good")


def peak_gflops(runs: int, n: int = 3072) -> dict:
    """Best fp32 matmul rate of PyTorch (MKL) and NumPy (OpenBLAS) with all threads."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    an, bn = a.numpy(), b.numpy()
    out = {}
    for name, fn in (("torch_matmul", lambda: a @ b), ("numpy_matmul", lambda: an @ bn)):
        fn()
        best = min(_timed(fn) for _ in range(max(3, runs)))
        out[name] = round(2 * n**3 / best / 1e9, 1)
    out["peak"] = max(out.values())
    out["matrix"] = n
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def conv_macs(model: torch.nn.Module, size: tuple[int, int]) -> int:
    total = 0

    def hook(mod, _inp, out):
        nonlocal total
        total += out[0].numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, *size))
    for h in hooks:
        h.remove()
    return total


def make_bundle(preset: str, folder: Path) -> tuple[Path, int]:
    from core.inference.bundle import save_bundle
    from core.model.draem import DraemModel
    from core.training.presets import PRESETS

    p = PRESETS[preset]
    torch.manual_seed(0)
    model = DraemModel(p.recon_width, p.disc_width).eval()
    meta = {"preset": p.name, "recon_width": p.recon_width, "disc_width": p.disc_width,
            "image_size": list(p.image_size)}
    return save_bundle(folder / f"{preset}.limodel", model.state_dict(), meta), conv_macs(model, p.image_size)


def calib_images(folder: Path | None, limit: int) -> list[np.ndarray]:
    from core.io.images import list_images, read_image

    if folder is None or not folder.is_dir():
        return []
    paths = list_images(folder)
    step = max(1, len(paths) // max(1, limit))
    return [read_image(p) for p in paths[::step][:limit]]


def build_all(bundle: Path, work: Path, calib: list, threads: int, scope: str) -> dict:
    """name -> (backend, load seconds); int8 variants only with calibration images."""
    from core.inference.backends.cache import onnx_for_bundle
    from core.inference.backends.onnx_backend import OnnxBackend
    from core.inference.backends.select import available_backends
    from core.inference.load import load_model

    built = {}
    for name in available_backends():
        t0 = time.perf_counter()
        built[name] = (load_model(bundle, name, "cpu", threads, fallback=False), time.perf_counter() - t0)
    if calib:
        from core.inference.backends.quantize import quantize_int8

        t0 = time.perf_counter()
        q = quantize_int8(onnx_for_bundle(bundle), work / f"{bundle.stem}_int8.onnx", calib, scope=scope)
        qs = time.perf_counter() - t0
        built["onnxruntime-int8"] = (OnnxBackend(q, None, "cpu", threads), qs)
        if "openvino" in built:
            from core.inference.backends.openvino_backend import OpenVinoBackend

            built["openvino-int8"] = (OpenVinoBackend(q, None, "cpu", threads), qs)
    return built


def bench_preset(preset: str, runs: int, work: Path, calib: list, threads: int, peak: float,
                 scope: str | None = None) -> dict:
    bundle, macs = make_bundle(preset, work)
    return bench_bundle(bundle, macs, runs, work, calib, threads, peak, scope)


def bundle_macs(bundle: Path) -> int:
    """Convolution MACs per network input of a trained bundle (DRÆM or DSR)."""
    from core.inference.bundle import load_bundle

    b = load_bundle(bundle)
    return conv_macs(b.build_model(), tuple(b.meta["image_size"]))


def bench_bundle(bundle: Path, macs: int, runs: int, work: Path, calib: list, threads: int,
                 peak: float, scope: str | None = None) -> dict:
    """Every backend on ``bundle`` (int8 with ``scope``, or the model kind's default scope)."""
    from core.inference.backends.quantize import default_scope
    from core.inference.bundle import read_bundle_meta

    scope = scope or default_scope(read_bundle_meta(bundle))
    built = build_all(bundle, work, calib, threads, scope)
    preset = bundle.stem[:12]
    size = built["pytorch"][0].image_size
    rng = np.random.default_rng(0)
    sample = calib[0] if calib else (rng.random((*size, 3)) * 255).astype(np.uint8)
    x = built["pytorch"][0].preprocess(sample)[None]
    import cv2

    frame = cv2.resize(sample, (1280, 1024), interpolation=cv2.INTER_LINEAR)
    model_t = {n: [] for n in built}
    frame_t = {n: [] for n in built}
    for _ in range(runs):  # alternate backends inside each round
        for name, (b, _) in built.items():
            model_t[name].append(_timed(lambda: b._infer(x)) * 1000)
        for name, (b, _) in built.items():
            frame_t[name].append(_timed(lambda: b.predict(frame)) * 1000)
    ref_ms = statistics.median(model_t["pytorch"])
    ref_score = float(built["pytorch"][0]._infer(x)[1][0])
    rows = {}
    for name, (b, load_s) in built.items():
        med = statistics.median(model_t[name])
        gflops = 2 * macs / (med / 1000) / 1e9
        rows[name] = {"describe": b.describe(), "model_ms": round(med, 2),
                      "model_ms_min": round(min(model_t[name]), 2),
                      "frame_ms": round(statistics.median(frame_t[name]), 2),
                      "frames_per_s": round(1000 / statistics.median(frame_t[name]), 1),
                      "speedup_vs_pytorch": round(ref_ms / med, 2),
                      "achieved_gflops": round(gflops, 1), "fraction_of_peak": round(gflops / peak, 3),
                      "ideal_ms_at_peak": round(2 * macs / peak / 1e6, 2),
                      "score_delta_vs_pytorch": float(abs(b._infer(x)[1][0] - ref_score)),
                      "load_s": round(load_s, 2)}
        print(f"{preset:6s} {name:17s} {rows[name]['model_ms']:9.1f} ms  {rows[name]['frame_ms']:9.1f} ms/frame "
              f"{gflops:7.1f} GFLOP/s ({gflops / peak:.0%} of peak)", flush=True)
    fastest = min((n for n in rows if "int8" not in n), key=lambda n: rows[n]["model_ms"])
    return {"gmac": round(macs / 1e9, 2), "image_size": list(size), "backends": rows,
            "fastest_fp32": fastest, "int8_scope": scope}


def auroc_check(bundle: Path, dataset: Path, calib_n: int, threads: int, work: Path,
                scope: str | None) -> dict:
    """Image AUROC of the fp32 graph vs int8 (ONNX Runtime, OpenVINO) on an MVTec folder."""
    from core.evaluation.datasets import test_samples, train_good_images
    from core.evaluation.metrics import roc_auc
    from core.inference.backends.select import available_backends
    from core.inference.backends.cache import onnx_for_bundle
    from core.inference.backends.onnx_backend import OnnxBackend
    from core.inference.backends.quantize import quantize_int8
    from core.io.images import read_image

    samples = test_samples(dataset)
    images = [read_image(s.path) for s in samples]
    labels = [s.label for s in samples]
    good = train_good_images(dataset)
    calib = [read_image(p) for p in good[:: max(1, len(good) // calib_n)][:calib_n]]
    from core.inference.backends.quantize import default_scope
    from core.inference.bundle import read_bundle_meta

    fp32 = onnx_for_bundle(bundle)
    q = quantize_int8(fp32, work / "auroc_int8.onnx", calib, scope=scope or default_scope(read_bundle_meta(bundle)))
    variants = {"fp32 (onnxruntime)": OnnxBackend(fp32, None, "cpu", threads),
                "int8 (onnxruntime)": OnnxBackend(q, None, "cpu", threads)}
    if "openvino" in available_backends():
        from core.inference.backends.openvino_backend import OpenVinoBackend

        variants["int8 (openvino)"] = OpenVinoBackend(q, None, "cpu", threads)
    out = {"bundle": str(bundle), "dataset": str(dataset), "test_images": len(images),
           "calibration_images": len(calib)}
    for name, b in variants.items():
        scores = [p.score for p in b.predict_batch(images, 8)]
        out[name] = round(100 * roc_auc(labels, scores), 2)
        print(f"AUROC {name}: {out[name]}", flush=True)
    base = out["fp32 (onnxruntime)"]
    out["delta_points"] = {k: round(out[k] - base, 2) for k in variants if k.startswith("int8")}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--presets", nargs="*", default=["paper", "fast"])
    ap.add_argument("--bundles", nargs="*", type=Path, default=[],
                    help="trained bundles (DRÆM or DSR) to measure as they are, beside the presets")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--calib", type=Path, default=DEFAULT_CALIB, help="good images for int8 calibration")
    ap.add_argument("--calib-images", type=int, default=16)
    ap.add_argument("--int8-scope", choices=("reconstructive", "decoders", "all"),
                    help="which convolutions int8 quantises (first and last layers stay fp32; "
                         "default: the model kind's own, DRÆM reconstructive, DSR decoders)")
    ap.add_argument("--auroc", type=Path, help="trained bundle for the int8 accuracy check")
    ap.add_argument("--dataset", type=Path, default=Path("../shared/datasets/mvtec_bottle"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    peak = peak_gflops(args.runs)
    print(f"measured peak fp32: {peak}", flush=True)
    calib = calib_images(args.calib, args.calib_images)
    result = {"peak_gflops": peak, "presets": {}, "threads": args.threads, "runs": args.runs,
              "calibration": f"{len(calib)} images from {args.calib}" if calib else "none (no int8)"}
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        os.environ.setdefault("LINEINSPECTOR_CACHE", str(Path(tmp) / "cache"))
        for preset in args.presets:
            result["presets"][preset] = bench_preset(preset, args.runs, Path(tmp), calib, args.threads,
                                                     peak["peak"], args.int8_scope)
        for bundle in args.bundles:
            result["presets"][bundle.name] = bench_bundle(bundle, bundle_macs(bundle), args.runs, Path(tmp),
                                                          calib, args.threads, peak["peak"], args.int8_scope)
        if args.auroc:
            result["auroc"] = auroc_check(args.auroc, args.dataset, max(args.calib_images, 32),
                                          args.threads, Path(tmp), args.int8_scope)
    result["peak_after"] = peak_gflops(args.runs)  # drift check: load from others shows here
    result.update({"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                               "processor": cpu_model(), "torch": torch.__version__},
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "command": " ".join(sys.argv)})
    atomic_write_text(args.out, json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
