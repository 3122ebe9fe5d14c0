"""From a folder of good images to a calibrated, saved model bundle."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.evaluation.calibration import DEFAULT_FALSE_REJECT, calibrate, score_stats
from core.evaluation.datasets import train_good_images
from core.inference.bundle import save_bundle
from core.io.images import load_images
from core.training.data import ImageSet, load_image_set, make_simulator, split_holdout
from core.training.separability import make_probe
from core.training.trainer import Progress, TrainSettings, train

log = logging.getLogger(__name__)


@dataclass
class PipelineResult:
    bundle: Path
    meta: dict
    skipped: list[tuple[Path, str]]
    steps: int
    seconds: float
    seconds_per_step: float


def _fingerprint(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(str(p.stat().st_size).encode())
    return h.hexdigest()[:16]


def calibrate_on_holdout(model, meta: dict, train_set: ImageSet, val_set: ImageSet | None,
                         false_reject: float, device: str = "auto") -> list[tuple[Path, str]]:
    """Score the held-out good images through ``ReferenceBackend(model, meta)`` as the live
    window will (tiles mode: the decoded frames, scaled and tiled) and put ``score_stats`` and
    the ``thresholds`` into ``meta``; returns the images skipped by either set. Without
    held-out images the training images are scored (optimistic; ``meta`` says so)."""
    from core.inference.backends.reference import ReferenceBackend

    tiles = meta["input"]["mode"] == "tiles"
    inf = ReferenceBackend(model, meta, device)
    skipped = list(train_set.skipped)
    scored = train_set
    if val_set is not None:
        skipped += val_set.skipped
        scored = val_set
    else:
        meta["training_data"]["calibrated_on"] = "training images (too few to hold out)"
    frames = [im for _, im in load_images(scored.paths)[0]] if tiles else list(scored.images)
    scores = [p.score for p in inf.predict_batch(frames)]
    meta["score_stats"] = score_stats(scores)
    meta["thresholds"] = {**calibrate(scores, false_reject).to_dict(),
                          "false_reject_target": false_reject}
    return skipped


def train_to_bundle(data: str | Path | list[Path], out: str | Path, settings: TrainSettings, *,
                    textures: str | Path | None = None, holdout: float = 0.1,
                    false_reject: float = DEFAULT_FALSE_REJECT,
                    progress: Callable[[Progress], None] | None = None,
                    cancel: threading.Event | None = None,
                    preview: Callable[[int, dict], None] | None = None,
                    on_step: Callable | None = None) -> PipelineResult:
    """Train, calibrate on held-out good images and write the bundle atomically.

    ``data`` is a folder (MVTec layout or plain) or a list of image paths.
    ``on_step(step, elapsed_s, model, meta)`` sees the model after every step. Nothing is
    written to ``out`` unless every stage succeeded, so a failed or cancelled run never
    replaces a working model.
    """
    from core.inference.tiling import InputSpec, TileGrid

    paths = list(data) if isinstance(data, list) else train_good_images(data)
    if not paths:
        raise ValueError(f"no training images in {data}")
    preset = settings.preset
    tiles = preset.input_mode == "tiles"
    train_paths, val_paths = split_holdout(paths, holdout, settings.seed)
    train_set = load_image_set(train_paths, preset.image_size, preset.input_mode, max_side=preset.max_side)
    log.info("training on %d images (%d held out, %d skipped)", len(train_set), len(val_paths),
             len(train_set.skipped))
    sim = make_simulator(textures, grayscale=train_set.grayscale, anomalies=preset.anomalies)
    spec = InputSpec("tiles", train_set.scale, preset.overlap) if tiles else InputSpec()
    meta = {
        "preset": preset.name, "preset_settings": preset.to_dict(),
        "recon_width": preset.recon_width, "disc_width": preset.disc_width, "channels": 3,
        "image_size": list(preset.image_size), "grayscale": train_set.grayscale,
        "input": spec.to_meta(), "anomalies": preset.anomalies,
    }
    val_set = load_image_set(val_paths, preset.image_size, preset.input_mode, train_set.scale) \
        if val_paths else None
    held = list(val_set.images) if val_set is not None else []
    preview_image = None
    if preview is not None and held:  # the preview shows M_o of a held-out good image
        first = held[0]
        preview_image = TileGrid(first.shape[:2], preset.image_size, 0).split(first)[0] if tiles else first
    probe = make_probe(held, sim, meta, settings.seed) if held else None
    outcome = train(train_set.images, sim, settings, progress=progress, cancel=cancel, preview=preview,
                    preview_image=preview_image, probe=probe,
                    on_step=None if on_step is None else lambda st, el, m: on_step(st, el, m, meta))

    meta.update({
        "training": {"steps": outcome.steps, "seconds": round(outcome.seconds, 1),
                     "seed": settings.seed, "textures": str(textures) if textures else "procedural",
                     "budget_minutes": settings.minutes, "started_from": outcome.started_from,
                     "separability": outcome.separability},
        "training_data": {"source": str(data) if not isinstance(data, list) else "list",
                          "train_images": len(train_set), "holdout_images": len(val_paths),
                          "skipped": len(train_set.skipped), "fingerprint": _fingerprint(train_set.paths)},
    })
    state = {k: v.detach().cpu().clone() for k, v in outcome.model.state_dict().items()}
    skipped = calibrate_on_holdout(outcome.model, meta, train_set, val_set, false_reject,
                                   settings.device)
    bundle = save_bundle(out, state, meta)
    return PipelineResult(Path(bundle), meta, skipped, outcome.steps, outcome.seconds,
                          outcome.seconds_per_step)
