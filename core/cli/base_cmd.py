"""`lineinspect train-base --out FILE [--images DIR ...] [--only-images] --minutes N`:
DSR's general appearance stage (its VQ-VAE), trained on images that may ship."""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

from core.cli.main import CliError

MAX_STEPS = 10_000_000


def register(sub) -> None:
    p = sub.add_parser(
        "train-base", help="train DSR's general appearance stage (its VQ-VAE)",
        description="Train the VQ-VAE every DSR model starts from. By default on built-in data "
                    "only (procedural textures and the simulated line); --images adds folders of "
                    "your own general images, --only-images uses nothing else. The result is a "
                    "'.dsrbase' file; `train --model dsr --base FILE` uses it.")
    p.add_argument("--out", type=Path, required=True, help="base file to write (.dsrbase)")
    p.add_argument("--images", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder of general images to learn from (repeatable)")
    p.add_argument("--only-images", action="store_true",
                   help="learn from the --images folders only, not from the built-in data")
    p.add_argument("--skimage-wheel", type=Path, metavar="WHEEL",
                   help="a scikit-image wheel: its CC0 textures (brick, grass, gravel) are added")
    p.add_argument("--config", choices=("cpu", "paper"), default="cpu", help="DSR sizes (default cpu)")
    p.add_argument("--minutes", type=float, help="wall-clock budget")
    p.add_argument("--steps", type=int, help="number of steps (with --minutes: whichever ends first)")
    p.add_argument("--crop", type=int, default=128, help="training crop side, a multiple of 32 (default 128)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def _check(args) -> None:
    if args.minutes is None and args.steps is None:
        raise CliError("give --minutes, --steps or both")
    if args.minutes is not None and not (math.isfinite(args.minutes) and 0 < args.minutes <= 10080):
        raise CliError("--minutes must be positive and at most a week (10080)")
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise CliError(f"--steps must be in [1, {MAX_STEPS}]")
    if not (64 <= args.crop <= 1024 and args.crop % 32 == 0):
        raise CliError(f"--crop must be a multiple of 32 from 64 to 1024, got {args.crop}")
    if not 1 <= args.batch_size <= 1024:
        raise CliError("--batch-size must be in [1, 1024]")
    if not 0 <= args.seed < 2 ** 32:
        raise CliError("--seed must be in [0, 4294967295]")
    for folder in args.images:
        if not folder.is_dir():
            raise CliError(f"--images: folder not found: {folder}")
    if args.only_images and not args.images:
        raise CliError("--only-images needs at least one --images folder")
    if args.skimage_wheel is not None and not args.skimage_wheel.is_file():
        raise CliError(f"--skimage-wheel: file not found: {args.skimage_wheel}")


def run(args) -> int:
    from core.cli.progress import ProgressBar
    from core.model.dsr.config import DsrConfig
    from core.synth.surfaces import CC0_TEXTURES, SurfaceSource, extract_cc0
    from core.training.dsr_base import FolderSurfaces, train_base

    _check(args)
    out = args.out if args.out.suffix else args.out.with_suffix(".dsrbase")
    with tempfile.TemporaryDirectory() as tmp:
        folders = list(args.images)
        try:
            if args.skimage_wheel is not None:
                folders.append(extract_cc0(args.skimage_wheel, tmp))
            source = FolderSurfaces(folders) if args.only_images else SurfaceSource(folders, seed=args.seed)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        images = len(source.source.images) if args.only_images else len(source.images)
        data = {"procedural_textures": not args.only_images,
                "simulated_line_frames": 0 if args.only_images else len(source.sim),
                "image_files": images,
                "image_sources": [str(f) for f in args.images]
                + (["scikit-image CC0 textures: " + ", ".join(CC0_TEXTURES)] if args.skimage_wheel else []),
                "command": " ".join(["lineinspect"] + sys.argv[1:])}
        bar = ProgressBar("DSR base")

        def progress(step, total, loss, elapsed):
            eta = None if not total else elapsed / step * (total - step)
            bar.update(step, total, f"loss {loss:.4f}", eta)

        config = DsrConfig.cpu() if args.config == "cpu" else DsrConfig.paper()
        try:
            path, result = train_base(out, source, config=config, steps=args.steps, minutes=args.minutes,
                                      crop=args.crop, batch=args.batch_size, seed=args.seed,
                                      training_data=data, progress=progress)
        except KeyboardInterrupt:
            bar.close()
            print("interrupted; nothing was written", file=sys.stderr)
            return 130
        except ValueError as exc:
            bar.close()
            raise CliError(str(exc)) from None
        bar.close()
    print(f"wrote {path}: {result.steps} steps, final loss {result.losses[-1]:.4f}")
    return 0
