"""Reproduce the demo model shipped in resources/demo/ (trained on the simulated line).

    .venv/bin/python scripts/make_demo_model.py [--minutes 10] [--work build/demo]

1. renders 240 defect-free frames of the simulated line (seed 0, the app's default line)
   and a test set of 120 frames, half with defects and their ground-truth masks, in the
   MVTec AD layout under --work;
2. trains the `fast` preset on the good frames with procedural textures (nothing from
   outside the project) under a --minutes budget;
3. evaluates it on the test set and writes resources/demo/model.limodel and
   resources/demo/model_eval.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.atomic import atomic_write_text  # noqa: E402
from core.camera.simline import SimLineConfig, SimLineRenderer  # noqa: E402
from core.evaluation.evaluate import evaluate  # noqa: E402
from core.inference.inferencer import Inferencer  # noqa: E402
from core.io.images import write_image_atomic  # noqa: E402
from core.training.pipeline import train_to_bundle  # noqa: E402
from core.training.presets import get_preset  # noqa: E402
from core.training.trainer import TrainSettings  # noqa: E402


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
    ap.add_argument("--out", type=Path, default=ROOT / "resources/demo/model.limodel")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not (args.work / "train/good").is_dir():
        render_dataset(args.work, 240, 120, args.seed)
    settings = TrainSettings(preset=get_preset("fast"), seed=0, minutes=args.minutes,
                             checkpoint=args.work / "demo.ckpt", resume=False)
    res = train_to_bundle(args.work, args.out, settings,
                          progress=lambda p: print(f"step {p.step} loss {p.losses['loss']:.4f}", flush=True)
                          if p.step % 25 == 0 else None)
    report = evaluate(Inferencer.from_bundle(args.out), args.work)
    summary = {"steps": res.steps, "seconds": round(res.seconds), "metrics": report.metrics,
               "thresholds": res.meta["thresholds"], "command": " ".join(sys.argv)}
    atomic_write_text(args.out.with_name("model_eval.json"), json.dumps(summary, indent=2))
    print(json.dumps(summary["metrics"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
