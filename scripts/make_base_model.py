"""Train the base model that per-part training starts from (issue 12, "warm start").

    .venv/bin/python scripts/make_base_model.py --minutes 150 \
        --out resources/base/base-12x8.limodel [--images DIR ...] [--skimage-wheel WHEEL]

The base learns, once, what a reconstruction of a normal surface and a discrimination of
"differs from its reconstruction" look like, on data that may ship with the product:

* the procedural texture families of ``core.synth.textures`` (this project's code);
* good parts of the simulated production line (``core.camera.sim.line``, this project's code);
* the CC0 textures ``brick``, ``grass`` and ``gravel`` of the scikit-image wheel
  (``--skimage-wheel``, or any ``--images`` folder of openly licensed images).

It never sees a customer's part nor any image of ``../shared/datasets``. The anomalies are
the ``defects`` recipe's. The network and the crops are the ``fast`` preset's, so fast and
thorough training can start from it. Runs under a wall-clock budget with a checkpoint
beside the output (Ctrl-C keeps it; the same command resumes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

def main() -> int:
    from core.cli.progress import ProgressBar
    from core.inference.bundle import save_bundle
    from core.synth import ProceduralTextures
    from core.synth.simulator import simulator_for
    from core.synth.surfaces import CC0_TEXTURES, SurfaceSource, extract_cc0
    from core.training.data import SurfaceDataset
    from core.training.presets import get_preset
    from core.training.trainer import TrainSettings, train

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("resources/base/base-12x8.limodel"))
    ap.add_argument("--preset", default="fast", help="whose widths and crops the base has")
    ap.add_argument("--minutes", type=float, default=150.0)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--images", type=Path, action="append", default=[], help="folders of open images")
    ap.add_argument("--skimage-wheel", type=Path, help="a scikit-image wheel: its CC0 textures are used")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 0 < args.minutes <= 7 * 24 * 60:
        ap.error("--minutes must be in (0, 10080]")
    fast = get_preset(args.preset)
    preset = replace(fast, name=f"base-{fast.recon_width}x{fast.disc_width}", base=None, lr=args.lr,
                     warmup=0.01, ema=0.999, steps=None, minutes=args.minutes)
    tmp = tempfile.TemporaryDirectory()
    folders = list(args.images)
    if args.skimage_wheel:
        folders.append(extract_cc0(args.skimage_wheel, Path(tmp.name)))
    surfaces = SurfaceSource(folders, seed=args.seed)
    sim = simulator_for("defects", ProceduralTextures())
    dataset = SurfaceDataset(surfaces, sim, args.seed, preset.train_size[0])
    bar = ProgressBar("base model")

    def progress(p):
        bar.update(p.step, p.total, f"loss {p.losses['loss']:.4f} lr {p.lr:.1e}", p.eta_s)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    settings = TrainSettings(preset, seed=args.seed, minutes=args.minutes,
                             checkpoint=args.out.with_name(args.out.name + ".ckpt"), workers=1)
    t0 = time.time()
    out = train(dataset, sim, settings, progress=progress)
    bar.close()
    meta = {"kind": "base", "preset": preset.name, "preset_settings": preset.to_dict(),
            "recon_width": preset.recon_width, "disc_width": preset.disc_width, "channels": 3,
            "image_size": list(preset.image_size),
            "training": {"steps": out.steps, "seconds": round(out.seconds, 1), "seed": args.seed,
                         "anomalies": "defects", "command": " ".join(sys.argv)},
            "training_data": {"procedural_textures": True, "simulated_line_frames": len(surfaces.sim),
                              "image_files": len(surfaces.images),
                              "image_sources": [str(f) for f in args.images]
                              + (["scikit-image CC0 textures: " + ", ".join(CC0_TEXTURES)]
                                 if args.skimage_wheel else [])}}
    save_bundle(args.out, out.model.state_dict(), meta)
    args.out.with_name(args.out.name + ".ckpt").unlink(missing_ok=True)
    print(f"wrote {args.out}: {out.steps} steps in {(time.time() - t0) / 60:.0f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
