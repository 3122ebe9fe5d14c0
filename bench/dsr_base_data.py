"""How much does the data DSR's general appearance stage learns from matter? (issue 15)

The paper trains DSR's VQ-VAE on ImageNet; this product ships one trained on data that may
ship (procedural textures, the simulated line, three CC0 photographs). This bench trains the
same VQ-VAE (``DsrConfig.cpu()``, same steps, crops, batch and seed) on each source and
measures how well each reconstructs real inspection images it never saw: the good test images
of the data sets, scaled and cut into 128-pixel tiles as the ``fast`` DSR preset sees them.
A VQ-VAE that cannot reconstruct a surface's normal appearance gives DSR nothing to compare
against, so the reconstruction error is the stage's own figure of merit.

    .venv/bin/python bench/dsr_base_data.py --steps 3000 --json bench/out/dsr_base_data.json \
        [--skimage-wheel WHEEL] [--dtd ../shared/datasets/textures_dtd10] [--base FILE ...]

Sources: ``shipped`` (SurfaceSource: procedural + simulated line + the CC0 images),
``procedural`` (procedural textures only), ``dtd`` (Describable Textures, research use only:
a stand-in for natural-image pre-training that may *not* ship), ``in-domain`` (the evaluated
data set's own train/good images: what a user gets with ``train-base --images``; one base per
data set). ``--base FILE`` adds already-trained base files (e.g. the shipped one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._report import write_report  # noqa: E402

DATASETS = {"magnetic_tile": ROOT.parent / "shared" / "datasets" / "magnetic_tile",
            "mvtec_bottle": ROOT.parent / "shared" / "datasets" / "mvtec_bottle"}
TILE, MAX_SIDE, MAX_IMAGES = 128, 256, 40
SOURCES = ("shipped", "procedural", "dtd", "in-domain")


def good_tiles(root: Path):
    """The good test images as DSR fast sees them: scaled so the longer side <= 256, 128-tiles."""
    import numpy as np

    from core.evaluation.datasets import test_samples
    from core.inference.tiling import TileGrid
    from core.io.images import load_images, to_model_input
    from core.training.data import auto_scale

    paths = [s.path for s in test_samples(root) if s.label == 0][:MAX_IMAGES]
    images = [im for _, im in load_images(paths)[0]]
    scale = auto_scale([im.shape for im in images], MAX_SIDE)
    tiles = []
    for im in images:
        h, w = im.shape[:2]
        scaled = to_model_input(im, (max(TILE, round(h * scale)), max(TILE, round(w * scale))))
        tiles.extend(TileGrid(scaled.shape[:2], (TILE, TILE), 0).split(scaled))
    return np.stack(tiles)


def reconstruction(vqvae, tiles) -> dict:
    """Mean squared error and PSNR of the VQ-VAE's reconstruction, and the fine codes used."""
    import numpy as np
    import torch

    errs, used = [], set()
    vqvae.eval()
    with torch.inference_mode():
        for i in range(0, len(tiles), 16):
            x = torch.from_numpy(tiles[i:i + 16]).permute(0, 3, 1, 2).contiguous()
            q = vqvae.quantise(x, update=False)
            rec = vqvae.decode(q.q_fine, q.q_coarse)
            errs.append(((rec.clamp(0, 1) - x) ** 2).mean(dim=(1, 2, 3)).numpy())
            used.update(q.index_fine.unique().tolist())
    mse = float(np.concatenate(errs).mean())
    return {"mse": round(mse, 6), "psnr_db": round(float(10 * np.log10(1.0 / max(mse, 1e-12))), 2),
            "fine_codes_used": len(used)}


def measure(path: Path, tiles: dict) -> dict:
    from core.model.dsr.model import DsrModel
    from core.training.dsr_base import load_base

    base = load_base(path)
    model = DsrModel(base.config)
    base.apply_to(model)
    return {"steps": base.meta.get("training", {}).get("steps"),
            **{d: reconstruction(model.vqvae, t) for d, t in tiles.items()}}


def surfaces_for(source: str, tmp: Path, cc0: list[Path], dtd: Path, dataset: str | None):
    from core.evaluation.datasets import train_good_images
    from core.synth.surfaces import SurfaceSource
    from core.training.dsr_base import FolderSurfaces

    if source == "shipped":
        return SurfaceSource(cc0, seed=0)
    if source == "procedural":
        return SurfaceSource([], sim_frames=0, weights=(1.0, 0.0, 0.0))
    if source == "dtd":
        return FolderSurfaces(sorted(p for p in dtd.iterdir() if p.is_dir()))
    folder = tmp / f"good-{dataset}"
    folder.mkdir(exist_ok=True)
    for p in train_good_images(DATASETS[dataset]):
        (folder / p.name).symlink_to(p.resolve())
    return FolderSurfaces([folder])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000, help="training steps per source (1-100000)")
    ap.add_argument("--skimage-wheel", type=Path, help="a scikit-image wheel (its CC0 textures)")
    ap.add_argument("--dtd", type=Path, default=ROOT.parent / "shared" / "datasets" / "textures_dtd10")
    ap.add_argument("--base", type=Path, action="append", default=[], help="also measure this base file")
    ap.add_argument("--sources", default=",".join(SOURCES), help="comma-separated, from " + ", ".join(SOURCES))
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "dsr_base_data.json")
    args = ap.parse_args(argv)
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    if not 1 <= args.steps <= 100_000:
        ap.error(f"--steps must be 1-100000, got {args.steps}")
    if any(s not in SOURCES for s in sources):
        ap.error(f"--sources: choose from {', '.join(SOURCES)}")
    import torch

    from core.synth.surfaces import extract_cc0
    from core.training.dsr_base import train_base

    torch.set_num_threads(2)
    tiles = {name: good_tiles(root) for name, root in DATASETS.items() if root.is_dir()}
    rows: dict[str, dict] = {}
    for path in args.base:
        rows[f"file {path.name}"] = measure(path, tiles)
        print(path.name, rows[f"file {path.name}"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cc0 = [extract_cc0(args.skimage_wheel, tmp)] if args.skimage_wheel else []
        jobs = [(s, None) for s in sources if s != "in-domain"]
        jobs += [("in-domain", d) for d in tiles] if "in-domain" in sources else []
        for source, dataset in jobs:
            key = source if dataset is None else f"in-domain ({dataset})"
            out = tmp / f"{source}-{dataset}.dsrbase"
            train_base(out, surfaces_for(source, tmp, cc0, args.dtd, dataset), steps=args.steps, seed=0)
            rows[key] = measure(out, tiles if dataset is None else {dataset: tiles[dataset]})
            print(key, rows[key], flush=True)
    write_report(args.json, {"steps": args.steps, "tile": TILE, "max_side": MAX_SIDE,
                             "images_per_dataset": MAX_IMAGES, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
