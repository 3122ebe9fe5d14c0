"""Can the model tell? Held-out good images against the same images with synthetic anomalies.

A short or failed training gives a model whose scores are all the same (every score
0.51434 +- 0.00001 after 40 steps, issue 12). The probe scores up to ``limit`` held-out
good images and a copy of each with one synthetic anomaly (fixed seed, so every probe of a
run sees the same images) and reports the image AUROC between the two groups and how far
the scores spread. Training runs it along the way and on the final model; the CLI prints
it, the wizard plots it and will not deploy a model that separates nothing unless the
engineer confirms with a written reason.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Callable

import numpy as np
import torch

from core.evaluation.metrics import roc_auc
from core.inference.inferencer import batched_predictions, tiled_predictions
from core.inference.scoring import anomaly_map, image_scores, smoothing_kernel
from core.inference.tiling import InputSpec

# Below MIN_AUROC on the probe a model "separates nothing". Measured (docs/BENCHMARKS.md
# section 7.4): useful models 0.66-0.87 with the defect-like anomalies (bottle at 5 minutes,
# image AUROC 0.967 on real defects: 0.70), a broken one 0.52, a 40-step one spread 1e-5.
MIN_AUROC = 0.6
MIN_SPREAD = 1e-3      # scores closer together than this cannot be told apart by any limit
PROBE_IMAGES = 32


def verdict(result: dict | None) -> tuple[bool, str]:
    """(separates, a sentence for the engineer) for a probe result."""
    if not result or result.get("auroc") is None:
        return False, "not measured (no held-out good images)"
    auroc, spread = result["auroc"], result["spread"]
    if spread < MIN_SPREAD:
        return False, (f"the model gives every image the same score (spread {spread:.1e}): it cannot tell "
                       "good from defective; train longer")
    if auroc < MIN_AUROC:
        return False, (f"the model barely tells synthetic defects from good images (AUROC {auroc:.2f} < "
                       f"{MIN_AUROC}); train longer")
    return True, f"separates synthetic defects from held-out good images: AUROC {auroc:.2f}"


def _pairs(images: list[np.ndarray], simulator, seed: int, limit: int) -> tuple[list, list]:
    sim = copy.copy(simulator)
    sim.anomaly_prob = 1.0
    good, bad = [], []
    for i, img in enumerate(images[:limit]):
        x = img.astype(np.float32) / 255.0
        donor = images[(i + 1) % len(images)]
        donor = None if donor.shape != img.shape else donor.astype(np.float32) / 255.0
        for attempt in range(8):  # some draws leave the mask empty
            s = sim(x, np.random.default_rng((seed, 7, i, attempt)), donor)
            if s.has_anomaly:
                good.append(s.image)
                bad.append(s.augmented)
                break
    return good, bad


def synthetic_anomalies(images: list[np.ndarray], simulator=None, seed: int = 0,
                        limit: int = PROBE_IMAGES) -> list[np.ndarray]:
    """A copy of each good uint8 image with one synthetic anomaly, as uint8 (the int8 check
    scores them beside the good ones: does int8 still tell them apart as fp32 does?).
    ``simulator`` None: the defect-like kinds on procedural textures, grey when the images are."""
    if simulator is None:
        from core.training.data import make_simulator

        gray = all(im.ndim == 2 or im.shape[2] == 1 or not np.ptp(im.astype(np.int16), axis=2).any()
                   for im in images)
        simulator = make_simulator(None, grayscale=gray, anomalies="defects")
    _, bad = _pairs(list(images), simulator, seed, limit)
    return [np.clip(np.rint(b * 255.0), 0, 255).astype(np.uint8) for b in bad]


def make_probe(images: list[np.ndarray] | np.ndarray, simulator, meta: dict, seed: int = 0,
               limit: int = PROBE_IMAGES, batch_size: int = 4) -> Callable[[torch.nn.Module], dict]:
    """A callable ``probe(model) -> {"auroc", "spread", "good_mean", "anomalous_mean", "images"}``.

    ``images``: held-out good images as the trainer holds them (uint8 HxWx3); ``meta`` gives
    ``image_size`` and ``input`` (resize or tiles), as in a bundle.
    """
    good, bad = _pairs(list(images), simulator, seed, limit)
    size = tuple(int(v) for v in meta["image_size"])
    spec = replace(InputSpec.from_meta(meta), scale=1.0)  # the images are already at model scale
    kernel = smoothing_kernel(size)

    def probe(model: torch.nn.Module) -> dict:
        if not good:
            return {"auroc": None, "spread": 0.0, "images": 0}
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")

        @torch.no_grad()
        def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(device)
            _, logits = model(x.contiguous(memory_format=torch.channels_last))
            amap = anomaly_map(logits.float())
            return amap.cpu().numpy(), image_scores(amap, kernel).cpu().numpy()

        both = good + bad
        if spec.mode == "tiles":
            preds = tiled_predictions(both, batch_size, spec, size, kernel, run)
        else:
            preds = batched_predictions(both, batch_size, lambda im: im, run)
        scores = np.array([q.score for q in preds], np.float64)
        labels = np.r_[np.zeros(len(good)), np.ones(len(bad))]
        return {"auroc": round(float(roc_auc(labels, scores)), 4),
                "spread": float(scores.max() - scores.min()),
                "good_mean": round(float(scores[:len(good)].mean()), 5),
                "anomalous_mean": round(float(scores[len(good):].mean()), 5), "images": len(good)}

    return probe
