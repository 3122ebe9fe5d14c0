"""Train a preset under a wall-clock budget on a dataset, evaluate it along the way, write JSON.

    .venv/bin/python bench/train_eval.py ../shared/datasets/magnetic_tile --minutes 20 \
        --eval-at 5,10 --out bench/out/magtile_fast.json [--preset fast] [--textures DIR]
        [--no-base] [--seed 0]
    .venv/bin/python bench/train_eval.py ../shared/datasets/magnetic_tile --model dsr --minutes 20 \
        --out bench/out/mt_dsr20.json [--base FILE.dsrbase] [--defects FOLDER]

The product's own training (``train_to_bundle``), then the product's evaluation of the
written bundle. ``--eval-at`` also evaluates the model as it stands after that many minutes
of training (the moving average of the weights where the preset keeps one): the clock is
stopped while it is evaluated, so the run's budget is all training. One run gives the
learning curve. ``--model dsr`` trains DSR instead (``train_dsr_to_bundle``: stages 2 and 3
over the shipped or the ``--base`` VQ-VAE; no ``--eval-at``). Not a test: slow by design;
results go to docs/BENCHMARKS.md.
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
from core.inference.backends.reference import ReferenceBackend  # noqa: E402
from core.inference.load import load_model  # noqa: E402
from core.training.pipeline import train_to_bundle  # noqa: E402
from core.training.presets import get_preset  # noqa: E402
from core.training.trainer import TrainSettings  # noqa: E402


class PausableClock:
    """time.monotonic() minus the time spent evaluating."""

    def __init__(self) -> None:
        self.paused = 0.0

    def __call__(self) -> float:
        return time.monotonic() - self.paused


def metrics_of(report) -> dict:
    keep = ("image_auroc", "image_ap", "pixel_auroc", "pixel_ap", "aupro")
    m = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.metrics.items() if k in keep}
    by_type: dict[str, list] = {}
    for row in report.per_image:
        by_type.setdefault(row["defect_type"], []).append((row["label"], row["score"]))
    good = by_type.pop("good", [])
    if good:
        from core.evaluation.metrics import roc_auc

        m["image_auroc_by_type"] = {t: round(roc_auc([lab for lab, _ in good + rows],
                                                      [s for _, s in good + rows]), 3)
                                    for t, rows in sorted(by_type.items())}
    return m


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--model", choices=("draem", "dsr"), default="draem")
    ap.add_argument("--base", type=Path, help="DSR: the general-appearance base file (.dsrbase)")
    ap.add_argument("--defects", type=Path, help="DSR: annotated defective images to learn from too")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--eval-at", default="", help="also evaluate after these minutes, e.g. 5,10")
    ap.add_argument("--textures", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    ap.add_argument("--no-base", action="store_true", help="train from scratch, not from the base model")
    ap.add_argument("--anomalies", choices=("paper", "defects"), help="override the preset's")
    ap.add_argument("--input-mode", choices=("resize", "tiles"), help="override the preset's")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override any preset field (JSON value), e.g. --set ema=0 --set recon_width=16")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"dataset not found: {args.data}", file=sys.stderr)
        return 2
    extra = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            extra[key] = json.loads(value)
        except json.JSONDecodeError:
            extra[key] = value
    extra = {"lr": args.lr, "anomalies": args.anomalies, "input_mode": args.input_mode, **extra}
    if args.model == "dsr":
        from core.training.dsr_presets import get_dsr_preset

        preset = get_dsr_preset(args.preset, **{k: v for k, v in extra.items()
                                                if k not in ("anomalies", "input_mode")})
        if args.eval_at:
            ap.error("--eval-at is for DRÆM only")
    else:
        preset = get_preset(args.preset, **extra)
    marks = sorted(float(v) for v in args.eval_at.split(",") if v.strip())
    model_path = args.out.with_suffix(".limodel")
    clock = PausableClock()
    settings = TrainSettings(preset=preset, seed=args.seed, minutes=args.minutes, clock=clock,
                             checkpoint=model_path.with_name(model_path.name + ".ckpt"), resume=False,
                             use_base=not args.no_base)
    last, curve = [0.0], []

    def progress(p):
        if time.monotonic() - last[0] > 30 or (p.total is not None and p.step >= p.total):
            last[0] = time.monotonic()
            sep = f" separability {p.separability['auroc']}" if p.separability else ""
            print(f"step {p.step}/{p.total or '?'} loss {p.losses['loss']:.4f} lr {p.lr:.1e} "
                  f"{p.elapsed_s:.0f}s{sep}", flush=True)

    def on_step(step, elapsed, model, meta):
        if not marks or elapsed < marks[0] * 60:
            return
        t0 = time.monotonic()
        minutes = marks.pop(0)
        model.eval()
        try:
            report = evaluate(ReferenceBackend(model, meta, "cpu"), args.data)
        finally:
            model.train()
        row = {"minutes": minutes, "steps": step, **metrics_of(report)}
        curve.append(row)
        print("EVAL", json.dumps(row), flush=True)
        clock.paused += time.monotonic() - t0

    t0 = time.time()
    if args.model == "dsr":
        from core.training.dsr_pipeline import train_dsr_to_bundle

        res = train_dsr_to_bundle(args.data, model_path, settings, progress=progress, base=args.base,
                                  defects=args.defects)
    else:
        res = train_to_bundle(args.data, model_path, settings, textures=args.textures, progress=progress,
                              on_step=on_step if marks else None)
    train_wall = time.time() - t0
    inf = load_model(model_path, "reference")
    inf.warmup()
    report = evaluate(inf, args.data)
    final = {"minutes": args.minutes, "steps": res.steps, **metrics_of(report)}
    curve.append(final)
    out = {
        "dataset": str(args.data), "model": args.model, "preset": preset.to_dict(), "budget_minutes": args.minutes,
        "textures": str(args.textures) if args.textures else "procedural", "base": not args.no_base,
        "steps": res.steps, "train_seconds": round(res.seconds, 1), "train_wall_seconds": round(train_wall, 1),
        "seconds_per_step": round(res.seconds_per_step, 3),
        "eval_ms_per_image": round(report.ms_per_image, 2), "metrics": report.metrics, "curve": curve,
        "separability": res.meta["training"].get("separability"),
        "stage_steps": res.meta["training"].get("stage_steps"), "thresholds": res.meta["thresholds"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(out, indent=2))
    print(json.dumps({"steps": res.steps, "seconds_per_step": out["seconds_per_step"], "curve": curve}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
