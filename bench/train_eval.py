"""Train a preset under a wall-clock budget on a dataset, evaluate it, write JSON.

    .venv/bin/python bench/train_eval.py ../shared/datasets/mvtec_bottle --minutes 20 \
        --out bench/out/bottle.json [--preset fast] [--textures ../shared/datasets/textures_dtd10]

Not a test: slow by design; results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.atomic import atomic_write_text  # noqa: E402
from core.evaluation.evaluate import evaluate  # noqa: E402
from core.inference.inferencer import Inferencer  # noqa: E402
from core.training.pipeline import train_to_bundle  # noqa: E402
from core.training.presets import get_preset  # noqa: E402
from core.training.trainer import TrainSettings  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--textures", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"dataset not found: {args.data}", file=sys.stderr)
        return 2
    preset = get_preset(args.preset, lr=args.lr)
    model_path = args.out.with_suffix(".limodel")
    settings = TrainSettings(preset=preset, seed=args.seed, minutes=args.minutes,
                             checkpoint=model_path.with_name(model_path.name + ".ckpt"), resume=False)
    last = [0.0]

    def progress(p):
        if time.monotonic() - last[0] > 30 or p.step >= p.total:
            last[0] = time.monotonic()
            total = p.total if p.total < 10**9 else "?"
            print(f"step {p.step}/{total} loss {p.losses['loss']:.4f} lr {p.lr:.1e} "
                  f"{p.elapsed_s:.0f}s", flush=True)

    t0 = time.time()
    res = train_to_bundle(args.data, model_path, settings, textures=args.textures, progress=progress)
    train_wall = time.time() - t0
    inf = Inferencer.from_bundle(model_path)
    inf.warmup()
    report = evaluate(inf, args.data)
    out = {
        "dataset": str(args.data), "preset": preset.to_dict(), "budget_minutes": args.minutes,
        "textures": str(args.textures) if args.textures else "procedural",
        "steps": res.steps, "train_seconds": round(res.seconds, 1), "train_wall_seconds": round(train_wall, 1),
        "seconds_per_step": round(res.seconds_per_step, 3),
        "eval_ms_per_image": round(report.ms_per_image, 2), "metrics": report.metrics,
        "thresholds": res.meta["thresholds"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(out, indent=2))
    print(json.dumps({k: out[k] for k in ("steps", "seconds_per_step", "metrics")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
