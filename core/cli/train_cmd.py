"""`lineinspect train DATA --preset fast --out MODEL [--textures DIR] [--minutes N]`."""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.main import CliError

MAX_STEPS = 10_000_000  # months of training on a CPU
MAX_IMAGE_SIDE = 4096  # model input side in pixels


def register(sub) -> None:
    p = sub.add_parser("train", help="train a DRAEM model on good images",
                       description="Train DRAEM on defect-free images (a folder, or an MVTec-layout "
                                   "dataset root whose train/good is used). Anomalies are synthesised.")
    p.add_argument("data", type=Path, help="folder of good images, or MVTec-layout dataset root")
    p.add_argument("--out", type=Path, required=True, help="model bundle to write (.limodel)")
    p.add_argument("--preset", default="fast", help="fast | thorough | paper | tiny (default fast)")
    p.add_argument("--textures", type=Path, help="folder of anomaly texture images "
                   "(default: built-in procedural textures, nothing downloaded)")
    p.add_argument("--anomalies", choices=("defects", "paper"),
                   help="synthetic anomalies: defect-like (the fast preset's) or the paper's only")
    p.add_argument("--minutes", type=float, help="wall-clock budget; the LR schedule is fitted to it")
    p.add_argument("--steps", type=int, help="number of training steps (overrides the preset)")
    p.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), help="override model input size")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--workers", type=int, help="data-loader worker processes")
    p.add_argument("--holdout", type=float, default=0.1, help="fraction of good images kept for calibration")
    p.add_argument("--false-reject", type=float, default=0.01, help="target false-reject rate for the OK limit")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--continue-from", type=Path, metavar="MODEL",
                   help="continue training this model (same preset widths) instead of starting anew")
    p.add_argument("--no-base", action="store_true",
                   help="start from random weights, not from the preset's shipped base model")
    p.set_defaults(func=run)


def run(args) -> int:
    import threading

    from core.cli.progress import ProgressBar
    from core.training.checkpoint import open_checkpoint
    from core.training.pipeline import train_to_bundle
    from core.training.presets import get_preset
    from core.training.separability import verdict
    from core.training.trainer import TrainingCancelled, TrainSettings

    if not args.data.exists():
        raise CliError(f"data folder not found: {args.data}")
    if args.textures is not None and not args.textures.is_dir():
        raise CliError(f"texture folder not found: {args.textures}")
    if args.minutes is not None and not 0 < args.minutes <= 7 * 24 * 60:
        raise CliError("--minutes must be positive and at most a week (10080)")
    if not 0 <= args.seed < 2**32:
        raise CliError("--seed must be in [0, 4294967295]")
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise CliError(f"--steps must be at least 1 and at most {MAX_STEPS}")
    if args.image_size is not None and not all(
            32 <= v <= MAX_IMAGE_SIDE and v % 32 == 0 for v in args.image_size):
        raise CliError(f"--image-size must be two multiples of 32 from 32 to {MAX_IMAGE_SIDE} "
                       f"(H W), got {' '.join(map(str, args.image_size))}")
    if args.batch_size is not None and not 1 <= args.batch_size <= 1024:
        raise CliError("--batch-size must be in [1, 1024]")
    if args.workers is not None and not 0 <= args.workers <= 64:
        raise CliError("--workers must be in [0, 64]")
    if not 0.0 <= args.holdout < 1.0:
        raise CliError("--holdout must be in [0, 1)")
    if not 0.0 < args.false_reject < 0.5:
        raise CliError("--false-reject must be in (0, 0.5)")
    if args.continue_from is not None and not args.continue_from.is_file():
        raise CliError(f"--continue-from: model not found: {args.continue_from}")
    try:
        preset = get_preset(args.preset, image_size=args.image_size, batch_size=args.batch_size,
                            anomalies=args.anomalies)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out = args.out if args.out.suffix else args.out.with_suffix(".limodel")
    ckpt = out.with_name(out.name + ".ckpt")
    try:
        _, note = open_checkpoint(ckpt, not args.no_resume)  # an unusable one is renamed aside
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if note:
        print(f"warning: {note}", file=sys.stderr)
    settings = TrainSettings(preset=preset, seed=args.seed, device=args.device, minutes=args.minutes,
                             steps=args.steps, workers=args.workers, checkpoint=ckpt,
                             resume=not args.no_resume, init_from=args.continue_from,
                             use_base=not args.no_base)
    bar = ProgressBar(f"train {preset.name}")

    def on_progress(p):
        loss = " ".join(f"{k}={v:.4f}" for k, v in p.losses.items())
        sep = p.separability
        tell = f" separability {sep['auroc']:.2f}" if sep and sep.get("auroc") is not None else ""
        bar.update(p.step, p.total, f"{loss} lr={p.lr:.1e} {p.images_per_s:.1f} img/s{tell}", p.eta_s,
                   force=p.total is not None and p.step >= p.total)

    cancel = threading.Event()
    try:
        result = train_to_bundle(args.data, out, settings, textures=args.textures,
                                 holdout=args.holdout, false_reject=args.false_reject,
                                 progress=on_progress, cancel=cancel)
    except TrainingCancelled as exc:
        bar.close()
        raise CliError(f"{exc}; checkpoint kept at {ckpt}") from None
    except (ValueError, FileNotFoundError) as exc:
        bar.close()
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted; run the same command again to resume from {ckpt}")
        return 130
    bar.close()
    ckpt.unlink(missing_ok=True)
    for path, why in result.skipped:
        print(f"skipped {path}: {why}")
    t = result.meta["thresholds"]
    print(f"wrote {result.bundle}: {result.steps} steps in {result.seconds:.0f} s "
          f"({result.seconds_per_step:.3f} s/step); OK limit {t['ok_limit']:.4f}, "
          f"NG limit {t['ng_limit']:.4f}")
    separates, why = verdict(result.meta["training"].get("separability"))
    print(("" if separates else "WARNING: ") + why)
    return 0
