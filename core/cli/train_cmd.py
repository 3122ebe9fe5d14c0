"""`lineinspect train DATA [--model draem|dsr] --preset fast --out MODEL [--textures DIR]
[--minutes N] [--base FILE.dsrbase]`."""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.main import CliError

MAX_STEPS = 10_000_000  # months of training on a CPU
MAX_IMAGE_SIDE = 4096  # model input side in pixels


def register(sub) -> None:
    p = sub.add_parser("train", help="train a DRAEM or DSR model on good images",
                       description="Train DRAEM (default) or DSR on defect-free images (a folder, or "
                                   "an MVTec-layout dataset root whose train/good is used). "
                                   "Anomalies are synthesised.")
    p.add_argument("data", type=Path, help="folder of good images, or MVTec-layout dataset root")
    p.add_argument("--out", type=Path, required=True, help="model bundle to write (.limodel)")
    p.add_argument("--model", choices=("draem", "dsr"), default="draem",
                   help="draem (default) or dsr (finds near-normal, texture-like defects)")
    p.add_argument("--preset", default="fast", help="fast | thorough | paper | tiny (default fast)")
    p.add_argument("--base", type=Path, metavar="FILE.dsrbase",
                   help="DSR: the general appearance base file (default: the shipped one)")
    p.add_argument("--defects", type=Path, metavar="FOLDER",
                   help="DSR: annotated defective images to learn from as well (MVTec test/<kind> "
                        "with ground_truth/, or <stem>_mask.png beside each image); never "
                        "evaluate the model on them")
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
    out = args.out if args.out.suffix else args.out.with_suffix(".limodel")
    ckpt = out.with_name(out.name + ".ckpt")
    if args.model == "dsr":
        return _run_dsr(args, out, ckpt)
    if args.base is not None:
        raise CliError("--base is a DSR base file: use it with --model dsr")
    if args.defects is not None:
        raise CliError("--defects is DSR's supervised extension: use it with --model dsr "
                       "(DRÆM learns from good images only)")
    try:
        preset = get_preset(args.preset, image_size=args.image_size, batch_size=args.batch_size,
                            anomalies=args.anomalies)
    except ValueError as exc:
        raise CliError(str(exc)) from None
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
    _report(result, ckpt)
    separates, why = verdict(result.meta["training"].get("separability"))
    print(("" if separates else "WARNING: ") + why)
    return 0


def _report(result, ckpt: Path, steps: str = "") -> None:
    ckpt.unlink(missing_ok=True)
    for path, why in result.skipped:
        print(f"skipped {path}: {why}")
    t = result.meta["thresholds"]
    print(f"wrote {result.bundle}: {result.steps} steps{steps} in {result.seconds:.0f} s "
          f"({result.seconds_per_step:.3f} s/step); OK limit {t['ok_limit']:.4f}, "
          f"NG limit {t['ng_limit']:.4f}")


DRAEM_ONLY = {"textures": "--textures", "anomalies": "--anomalies",
              "continue_from": "--continue-from", "workers": "--workers"}


def _run_dsr(args, out: Path, ckpt: Path) -> int:
    """`train --model dsr`: stages 2 and 3 over a base file; resumes after stage 2."""
    import threading

    from core.cli.progress import ProgressBar
    from core.training.dsr_pipeline import train_dsr_to_bundle
    from core.training.dsr_presets import get_dsr_preset
    from core.training.trainer import TrainingCancelled, TrainSettings

    for key, flag in DRAEM_ONLY.items():
        if getattr(args, key) is not None:
            raise CliError(f"{flag} is a DRÆM setting; DSR makes its anomalies in feature space "
                           f"and loads its crops itself")
    if args.no_base:
        raise CliError("--no-base is DRÆM's; DSR always starts from a base file (--base)")
    if args.base is not None and not args.base.is_file():
        raise CliError(f"--base: DSR base file not found: {args.base}")
    if args.defects is not None and not args.defects.is_dir():
        raise CliError(f"--defects: folder not found: {args.defects}")
    if args.steps is not None and args.steps < 2:
        raise CliError("--steps must be at least 2 for DSR (stages 2 and 3 get one each)")
    if args.image_size is not None and min(args.image_size) < 64:
        raise CliError("--image-size must be at least 64 for DSR")
    try:
        preset = get_dsr_preset(args.preset, image_size=args.image_size, batch_size=args.batch_size)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    settings = TrainSettings(preset=preset, seed=args.seed, device=args.device, minutes=args.minutes,
                             steps=args.steps, checkpoint=ckpt, resume=not args.no_resume)
    bar = ProgressBar(f"train DSR {preset.name}")

    def on_progress(p):
        loss = " ".join(f"{k}={v:.4f}" for k, v in p.losses.items())
        bar.update(p.step, p.total, f"stage {p.stage} {loss} lr={p.lr:.1e}", p.eta_s,
                   force=p.total is not None and p.step >= p.total)

    try:
        result = train_dsr_to_bundle(args.data, out, settings, holdout=args.holdout,
                                     false_reject=args.false_reject, progress=on_progress,
                                     cancel=threading.Event(), base=args.base,
                                     defects=args.defects)
    except TrainingCancelled as exc:
        bar.close()
        raise CliError(f"{exc}; checkpoint kept at {ckpt}" if ckpt.is_file() else str(exc)) from None
    except (ValueError, FileNotFoundError) as exc:
        bar.close()
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted; run the same command again to resume"
              + (f" after stage 2 from {ckpt}" if ckpt.is_file() else ""))
        return 130
    bar.close()
    st = result.meta["training"]["stage_steps"]
    _report(result, ckpt, f" (stage 2: {st['stage2']}, stage 3: {st['stage3']})")
    used = result.meta["training_data"].get("defects")
    if used:
        print(f"learnt from {used['images']} annotated defect image(s) of {used['source']} "
              f"({used['skipped']} skipped); `lineinspect eval` leaves them out and lists them")
    return 0
