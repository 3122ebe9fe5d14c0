"""Reproduce the demo model shipped in resources/demo/ (trained on the simulated line).

    .venv/bin/python scripts/make_demo_model.py [--minutes 10] [--work build/demo]

1. renders 240 defect-free frames of the simulated line (seed 0, the app's default line)
   and a test set of 120 frames, half with defects and their ground-truth masks, in the
   MVTec AD layout under --work;
2. trains the `fast` preset as it was before issue 12 (``DEMO_PRESET``: widths 16 / 8,
   256x256 squash, the paper's anomalies; on this line it beats the current `fast`,
   docs/BENCHMARKS.md section 7.2) on the good frames with procedural textures (nothing from
   outside the project) under a --minutes budget;
3. evaluates it on the test set and writes resources/demo/model.limodel and
   resources/demo/model_eval.json;
4. builds its int8 companion (resources/demo/model.int8.onnx + .int8.json), calibrated on
   32 of the training frames and checked against fp32 on 32 other good frames of the line.
   ``--int8-only`` does just this step for the model already there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.atomic import atomic_write_text  # noqa: E402
from core.camera.sim.line import SimLineConfig, SimLineRenderer  # noqa: E402
from core.demo import DEMO_MODEL, EVAL_FILE  # noqa: E402
from core.evaluation.evaluate import evaluate  # noqa: E402
from core.inference.load import load_model  # noqa: E402
from core.io.images import write_image_atomic  # noqa: E402
from core.training.pipeline import train_to_bundle  # noqa: E402
from core.training.presets import Preset  # noqa: E402
from core.training.trainer import TrainSettings  # noqa: E402


# the `fast` preset before issue 12 (the paper's recipe at widths 16 / 8, 600 steps or a budget)
DEMO_PRESET = Preset("fast-v1", 16, 8, (256, 256), 8, steps=600)


def render_dataset(work: Path, n_train: int, n_test: int, seed: int) -> None:
    good = SimLineRenderer(SimLineConfig(seed=seed, defect_rate=0.0))
    mixed = SimLineRenderer(SimLineConfig(seed=seed, defect_rate=0.5))
    for i in range(n_train):
        write_image_atomic(work / "train/good" / f"{i:04d}.png", good.render(i)[0])
    for i in range(100_000, 100_000 + n_test):
        image, meta = mixed.render(i)
        kind = meta["defect_type"] or "good"
        write_image_atomic(work / "test" / kind / f"{i}.png", image)
        if meta["defect_type"]:
            write_image_atomic(work / "ground_truth" / kind / f"{i}_mask.png", meta["defect_mask"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--work", type=Path, default=ROOT / "build/demo")
    ap.add_argument("--out", type=Path, default=DEMO_MODEL)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--int8-only", action="store_true", help="only (re)build the int8 companion")
    args = ap.parse_args()
    if args.int8_only:
        return build_int8(args.out, args.seed)
    if not (args.work / "train/good").is_dir():
        render_dataset(args.work, 240, 120, args.seed)
    settings = TrainSettings(preset=DEMO_PRESET, seed=0, minutes=args.minutes,
                             checkpoint=args.work / "demo.ckpt", resume=False)
    res = train_to_bundle(args.work, args.out, settings,
                          progress=lambda p: print(f"step {p.step} loss {p.losses['loss']:.4f}", flush=True)
                          if p.step % 25 == 0 else None)
    report = evaluate(load_model(args.out, "reference"), args.work)
    summary = {"steps": res.steps, "seconds": round(res.seconds), "metrics": report.metrics,
               "thresholds": res.meta["thresholds"], "command": " ".join(sys.argv)}
    atomic_write_text(args.out.with_name(EVAL_FILE), json.dumps(summary, indent=2))
    print(json.dumps(summary["metrics"], indent=2))
    return build_int8(args.out, args.seed)


def build_int8(bundle: Path, seed: int) -> int:
    from core.inference.int8_companion import build_companion

    good = SimLineRenderer(SimLineConfig(seed=seed, defect_rate=0.0))
    calibration = [good.render(i)[0] for i in range(0, 240, 240 // 32)][:32]
    check = [good.render(i)[0] for i in range(1000, 1032)]  # frames training never saw
    report = build_companion(bundle, calibration, check)
    print(f"int8 companion: {report['reason']}")
    if report["accepted"]:
        print(json.dumps(compare_int8(bundle, seed), indent=2))
    return 0


def compare_int8(bundle: Path, seed: int, n: int = 200) -> dict:
    """Image AUROC of fp32 and int8 on ``n`` unseen frames of the line (about half defective),
    and how often they give the same verdict under the bundle's thresholds."""
    import numpy as np

    from core.evaluation.metrics import roc_auc
    from core.inference.backends.cache import onnx_for_bundle
    from core.inference.backends.onnx_backend import OnnxBackend
    from core.inference.bundle import read_bundle_meta
    from core.inference.int8_companion import companion_paths
    from core.recipe import verdict_for

    mixed = SimLineRenderer(SimLineConfig(seed=seed, defect_rate=0.5))
    frames = [mixed.render(i) for i in range(2000, 2000 + n)]
    images = [f[0] for f in frames]
    labels = [int(f[1]["defect_type"] is not None) for f in frames]
    fp32 = [p.score for p in OnnxBackend(onnx_for_bundle(bundle)).predict_batch(images, 8)]
    int8 = [p.score for p in OnnxBackend(companion_paths(bundle)[0]).predict_batch(images, 8)]
    t = read_bundle_meta(bundle)["thresholds"]
    same = sum(verdict_for(a, t["ok_limit"], t["ng_limit"]) == verdict_for(b, t["ok_limit"], t["ng_limit"])
               for a, b in zip(fp32, int8))
    return {"frames": n, "defective": sum(labels),
            "image_auroc_fp32": round(100 * roc_auc(labels, fp32), 2),
            "image_auroc_int8": round(100 * roc_auc(labels, int8), 2),
            "same_verdict": round(same / n, 3),
            "max_abs_score_delta": round(float(np.max(np.abs(np.subtract(fp32, int8)))), 4)}


if __name__ == "__main__":
    sys.exit(main())
