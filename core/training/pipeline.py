"""From a folder of good images to a calibrated, saved model bundle."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.evaluation.datasets import train_good_images
from core.inference.bundle import save_bundle
from core.inference.calibration import DEFAULT_FALSE_REJECT, calibrate, score_stats
from core.training.data import load_image_set, make_simulator, split_holdout
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


def train_to_bundle(data: str | Path | list[Path], out: str | Path, settings: TrainSettings, *,
                    textures: str | Path | None = None, holdout: float = 0.1,
                    false_reject: float = DEFAULT_FALSE_REJECT,
                    progress: Callable[[Progress], None] | None = None,
                    cancel: threading.Event | None = None,
                    preview: Callable[[int, dict], None] | None = None) -> PipelineResult:
    """Train, calibrate on held-out good images and write the bundle atomically.

    ``data`` is a folder (MVTec layout or plain) or a list of image paths. Nothing is
    written to ``out`` unless every stage succeeded, so a failed or cancelled run never
    replaces a working model.
    """
    from core.inference.inferencer import Inferencer

    paths = list(data) if isinstance(data, list) else train_good_images(data)
    if not paths:
        raise ValueError(f"no training images in {data}")
    preset = settings.preset
    train_paths, val_paths = split_holdout(paths, holdout, settings.seed)
    train_set = load_image_set(train_paths, preset.image_size)
    log.info("training on %d images (%d held out, %d skipped)", len(train_set), len(val_paths),
             len(train_set.skipped))
    sim = make_simulator(textures, grayscale=train_set.grayscale)
    preview_image = None
    if preview is not None and val_paths:  # the preview shows M_o of a held-out good image
        held = load_image_set(val_paths[:1], preset.image_size)
        preview_image = held.images[0] if len(held) else None
    outcome = train(train_set.images, sim, settings, progress=progress, cancel=cancel, preview=preview,
                    preview_image=preview_image)

    meta = {
        "preset": preset.name, "preset_settings": preset.to_dict(),
        "recon_width": preset.recon_width, "disc_width": preset.disc_width, "channels": 3,
        "image_size": list(preset.image_size), "grayscale": train_set.grayscale,
        "training": {"steps": outcome.steps, "seconds": round(outcome.seconds, 1),
                     "seed": settings.seed, "textures": str(textures) if textures else "procedural",
                     "budget_minutes": settings.minutes},
        "training_data": {"source": str(data) if not isinstance(data, list) else "list",
                          "train_images": len(train_set), "holdout_images": len(val_paths),
                          "skipped": len(train_set.skipped), "fingerprint": _fingerprint(train_set.paths)},
    }
    inf = Inferencer(outcome.model, meta, settings.device)
    skipped = list(train_set.skipped)
    if val_paths:
        val_set = load_image_set(val_paths, preset.image_size)
        skipped += val_set.skipped
        scores = [p.score for p in inf.predict_batch(list(val_set.images))]
    else:  # too few images to hold any out: calibrate on the training images (optimistic)
        scores = [p.score for p in inf.predict_batch(list(train_set.images))]
        meta["training_data"]["calibrated_on"] = "training images (too few to hold out)"
    meta["score_stats"] = score_stats(scores)
    meta["thresholds"] = calibrate(scores, false_reject)
    bundle = save_bundle(out, outcome.model.state_dict(), meta)
    return PipelineResult(Path(bundle), meta, skipped, outcome.steps, outcome.seconds,
                          outcome.seconds_per_step)
