"""DSR's general appearance stage, trained without ImageNet, and the file that keeps it.

DSR's VQ-VAE (its two codebooks and the general appearance decoder) is trained once, on
general images, and then fixed: every part's DSR model starts from it (stage 1 of
:mod:`core.training.dsr_stages`). The paper uses ImageNet; this product downloads nothing,
so the shipped VQ-VAE (``resources/base/dsr-cpu.dsrbase``, see ``resources/base/README.md``)
learnt on data that may ship: :class:`core.synth.surfaces.SurfaceSource`'s procedural
textures, simulated-line parts and openly licensed images. A user can train one on a folder
of their own images (``lineinspect train-base``).

A *base file* is a safetensors file of the VQ-VAE's weights (codebooks included) with a JSON
metadata document under the key ``lineinspector``: ``kind`` ("dsr-base"), ``dsr`` (the
:class:`DsrConfig`), ``training`` (steps, seconds, seed, crop, batch) and ``training_data``
(what it learnt from). Writes are atomic; reading checks the kind, the configuration and
every tensor's name, shape and finiteness, so a wrong or damaged file is refused with its
name, never half-loaded.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from core.atomic import atomic_write_bytes
from core.model.dsr.config import DsrConfig
from core.model.dsr.model import DsrModel
from core.training.dsr_stages import StageResult, train_general_appearance

KIND = "dsr-base"
META_KEY = "lineinspector"
SUFFIX = ".dsrbase"
FORMAT_VERSION = 1
BASE_DIR = Path(__file__).resolve().parents[2] / "resources" / "base"
DEFAULT_BASE = BASE_DIR / f"dsr-cpu{SUFFIX}"
MAX_CROP = 1024


class BaseFileError(ValueError):
    """A base file could not be used; the message names the file and the problem."""


@dataclass
class DsrBase:
    """A trained general appearance stage: the configuration, the VQ-VAE weights, the metadata."""

    path: Path
    config: DsrConfig
    state_dict: dict[str, torch.Tensor]
    meta: dict

    def apply_to(self, model: DsrModel) -> None:
        """Load the VQ-VAE weights into ``model`` (whose configuration must be this one's)."""
        if model.cfg != self.config:
            raise BaseFileError(f"{self.path}: its DSR configuration differs from the model's")
        model.vqvae.load_state_dict(self.state_dict, strict=True)


def save_base(path: str | os.PathLike, model: DsrModel, meta: dict) -> Path:
    """Write ``model``'s VQ-VAE and ``meta`` (plus kind, format and configuration) atomically."""
    from safetensors.torch import save as st_save

    full = {**meta, "kind": KIND, "format_version": FORMAT_VERSION, "dsr": model.cfg.to_dict()}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.vqvae.state_dict().items()}
    return atomic_write_bytes(Path(path), st_save(tensors, metadata={META_KEY: json.dumps(full)}))


def _read_meta(path: Path) -> dict:
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise BaseFileError(f"{path}: DSR base file not found")
    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = (fh.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise BaseFileError(f"{path}: not a DSR base file ({str(exc).splitlines()[0]})") from None
    try:
        meta = json.loads(raw) if isinstance(raw, str) else None
    except (json.JSONDecodeError, RecursionError):
        meta = None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise BaseFileError(f"{path}: not a DSR base file (no '{KIND}' metadata)")
    if not isinstance(meta.get("format_version"), int) or meta["format_version"] > FORMAT_VERSION:
        raise BaseFileError(f"{path}: base format {meta.get('format_version')!r} is not one this "
                            f"software reads ({FORMAT_VERSION})")
    return meta


def load_base(path: str | os.PathLike = DEFAULT_BASE) -> DsrBase:
    """Read and check a base file; BaseFileError names the file and the first problem."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    meta = _read_meta(path)
    try:
        config = DsrConfig.from_dict(meta.get("dsr") or {})
    except (TypeError, ValueError) as exc:
        raise BaseFileError(f"{path}: bad DSR configuration ({exc})") from None
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise BaseFileError(f"{path}: cannot read weights ({str(exc).splitlines()[0]})") from None
    expected = DsrModel(config).vqvae.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise BaseFileError(f"{path}: weights do not match its configuration "
                            f"(missing {missing[:3]}, unexpected {extra[:3]})")
    for name, want in expected.items():
        got = state[name]
        if got.shape != want.shape:
            raise BaseFileError(f"{path}: tensor {name} has shape {tuple(got.shape)}, "
                                f"expected {tuple(want.shape)}")
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise BaseFileError(f"{path}: tensor {name} holds NaN or infinite values")
    return DsrBase(path, config, state, meta)


def surface_batches(source, crop: int, batch: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless batches [B, 3, crop, crop] in [0, 1] of ``source.pair(crop, rng)[0]`` images
    (a :class:`core.synth.surfaces.SurfaceSource` or anything with that method)."""
    if not 32 <= crop <= MAX_CROP or crop % DsrConfig.MULTIPLE:
        raise ValueError(f"crop must be a multiple of {DsrConfig.MULTIPLE} from 64 to {MAX_CROP}, got {crop}")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    rng = np.random.default_rng(seed)
    while True:
        images = np.stack([source.pair(crop, rng)[0] for _ in range(batch)])
        yield torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


class FolderSurfaces:
    """Crops of the images in one or more folders (a user's own general images), with the
    rotations and scales :class:`SurfaceSource` gives its image files."""

    def __init__(self, folders: list[str | os.PathLike], min_side: int = 64) -> None:
        from core.synth.surfaces import SurfaceSource

        with np.errstate(invalid="ignore", divide="ignore"):  # no images: refused just below
            self.source = SurfaceSource(list(folders), sim_frames=0, weights=(0.0, 0.0, 1.0))
        if not self.source.images:
            names = ", ".join(str(f) for f in folders)
            raise ValueError(f"no readable images of at least {min_side} pixels a side in {names}")

    def pair(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return self.source.pair(size, rng)


def train_base(out: str | os.PathLike, source, *, config: DsrConfig | None = None,
               steps: int | None = None, minutes: float | None = None, crop: int = 128,
               batch: int = 8, seed: int = 0, training_data: dict | None = None,
               progress: Callable[[int, int | None, float, float], None] | None = None,
               cancel: Callable[[], bool] | None = None,
               clock: Callable[[], float] = time.monotonic) -> tuple[Path, StageResult]:
    """Train a VQ-VAE on ``source``'s images and write it to ``out`` as a base file.

    Stops after ``steps``, or when ``minutes`` of ``clock`` have passed, whichever comes
    first (one of them is required). ``progress(step, total or None, loss, elapsed_s)``
    after every step. A ``cancel()`` that answers true stops the run and writes nothing
    (raises :class:`InterruptedError`), so an interrupted training never replaces a base.
    """
    if steps is None and minutes is None:
        raise ValueError("give steps, minutes or both")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if minutes is not None and not (math.isfinite(minutes) and 0 < minutes <= 7 * 24 * 60):
        raise ValueError(f"minutes must be in (0, 10080], got {minutes}")
    torch.manual_seed(seed)
    model = DsrModel(config or DsrConfig.cpu())
    start = clock()
    deadline = None if minutes is None else start + minutes * 60.0
    stopped = {"cancelled": False}

    def stop() -> bool:
        if cancel is not None and cancel():
            stopped["cancelled"] = True
            return True
        return deadline is not None and clock() >= deadline

    def report(step: int, loss: float) -> None:
        if progress is not None:
            progress(step, steps, loss, clock() - start)

    result = train_general_appearance(model, surface_batches(source, crop, batch, seed),
                                      steps if steps is not None else 10 ** 9,
                                      progress=report, cancel=stop)
    if stopped["cancelled"]:
        raise InterruptedError("base training cancelled; nothing was written")
    if result.steps == 0:
        raise ValueError("base training ran no step (budget too short?); nothing was written")
    meta = {"training": {"steps": result.steps, "seconds": round(clock() - start, 1), "seed": seed,
                         "crop": crop, "batch": batch,
                         "final_loss": round(float(np.mean(result.losses[-50:])), 6)},
            "training_data": training_data or {}}
    model.eval()
    return save_base(out, model, meta), result
