"""The training process: ``python -m core.training.job RUN_DIR/spec.json``.

Runs :func:`core.training.pipeline.train_to_bundle` (DRÆM) or, for ``model: "dsr"``,
:func:`core.training.dsr_pipeline.train_dsr_to_bundle` for a :class:`JobSpec` and reports on
stdout, one JSON object per line (everything else, logging included, goes to stderr)::

    {"event": "start", "pid": 123, "resumed_from": 0, "images": 40}
    {"event": "progress", "step": 5, "total": 600, "losses": {...}, "lr": ..., "eta_s": ...}
    {"event": "preview", "step": 5, "files": {"image": ".../preview/image.png", ...}}
    {"event": "status", "message": "Building the int8 model for live CPU inspection"}
    {"event": "done", "bundle": ".../model.limodel", "meta": {...}, "holdout": [...],
     "int8": {"accepted": true, "reason": "...", ...} or {"error": "..."}, ...}
    {"event": "cancelled", "message": "...", "checkpoint": ".../checkpoint.pt"}
    {"event": "error", "message": "..."}

Checkpoints go to ``RUN_DIR/checkpoint.pt``; a second run of the same spec resumes from it
(DSR: after stage 2, progress events then carry ``"stage"``).
Cancel: create ``RUN_DIR/cancel`` or send SIGTERM; the checkpoint is kept.
Exit codes: 0 done, 1 failed, 2 bad spec, 3 cancelled.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

from core.inference.bundle import BUNDLE_FILE
from core.recipe.model import MODEL_CHOICES
from core.training.files import CANCEL_FILE, CHECKPOINT_FILE, PREVIEW_DIR, SPEC_FILE

EXIT_OK, EXIT_FAILED, EXIT_BAD_SPEC, EXIT_CANCELLED = 0, 1, 2, 3


@dataclass
class JobSpec:
    """Everything a training run needs; saved as ``spec.json`` in its run folder."""

    data: list[str] | str                     # image paths, or a folder
    run_dir: str
    preset: str = "fast"
    preset_overrides: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    device: str = "auto"
    workers: int | None = None
    threads: int | None = None
    holdout: float = 0.1
    false_reject: float = 0.01
    textures: str | None = None
    checkpoint_every_s: float = 30.0
    resume: bool = True
    continue_from: str | None = None          # a model of the same widths to continue training
    use_base: bool = True                     # start from the preset's shipped base model
    model: str = "draem"                      # "draem" or "dsr" (core.recipe.model.MODEL_CHOICES)
    dsr_base: str | None = None               # DSR: the base file (None: the shipped one)
    defects: str | None = None                # DSR: a folder of annotated defects (defect_samples)

    @property
    def folder(self) -> Path:
        return Path(self.run_dir)

    def save(self) -> Path:
        from core.atomic import atomic_write_text

        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / SPEC_FILE
        atomic_write_text(path, json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> JobSpec:
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"training spec {p}: cannot read it ({exc})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"training spec {p}: expected a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"training spec {p}: unknown field(s) {', '.join(unknown)}")
        for required in ("data", "run_dir"):
            if required not in raw:
                raise ValueError(f"training spec {p}: missing field '{required}'")
        model = raw.get("model", "draem")
        if model not in MODEL_CHOICES:
            raise ValueError(f"training spec {p}: model must be one of "
                             f"{', '.join(MODEL_CHOICES)}, got {str(model)[:40]!r}")
        defects = raw.get("defects")
        if defects is not None and (not isinstance(defects, str) or not defects):
            raise ValueError(f"training spec {p}: defects must be a folder path or null")
        if defects is not None and model != "dsr":
            raise ValueError(f"training spec {p}: defects (annotated defect images) are for "
                             f"model 'dsr' only")
        return cls(**raw)


class _Reporter:
    """Writes events as JSON lines to the real stdout (kept aside from everything else)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self._last_progress = 0.0
        self._last_separability = None

    def emit(self, event: str, **data: Any) -> None:
        line = json.dumps({"event": event, **data}, default=str)
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def progress(self, p) -> None:
        now = time.monotonic()
        if now - self._last_progress < 0.1 and (p.total is None or p.step < p.total) and p.step > 1 \
                and p.separability is self._last_separability:
            return  # at most ten lines a second
        self._last_progress = now
        self._last_separability = p.separability
        extra = {} if p.stage is None else {"stage": p.stage}  # DSR: stage 2 or 3
        self.emit("progress", step=p.step, total=p.total, losses=p.losses, lr=p.lr,
                  separability=p.separability, **extra,
                  elapsed_s=round(p.elapsed_s, 2), eta_s=None if p.eta_s is None else round(p.eta_s, 1),
                  images_per_s=round(p.images_per_s, 2))


def write_preview(folder: Path, sample: dict) -> dict[str, str]:
    """Write the preview arrays as PNGs (anomaly map as a heat map); returns name -> path."""
    import numpy as np

    from core.display import heatmap_bgr, to_uint8
    from core.io.images import write_image_atomic

    out = {}
    for name, arr in sample.items():
        arr = np.asarray(arr, np.float32)
        img = heatmap_bgr(arr, nearest=True) if name.endswith("anomaly_map") else to_uint8(arr, nearest=True)
        path = folder / f"{name}.png"
        write_image_atomic(path, img)
        out[name] = str(path)
    return out


def describe_error(exc: BaseException) -> str:
    """A message for the user; a full disk is named as such."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"the disk is full: {exc.filename or ''} could not be written; free some space and resume"
    if isinstance(exc, MemoryError):
        return "out of memory: choose a smaller preset"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (ValueError, OSError)) else f"{type(exc).__name__}: {text}"


def _data_paths(spec: JobSpec) -> list[Path]:
    from core.evaluation.datasets import train_good_images

    if isinstance(spec.data, list):
        paths = [Path(p) for p in spec.data]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"{len(missing)} training image(s) missing, e.g. {missing[0]}")
        return paths
    return train_good_images(spec.data)


def _watch_cancel(flag: Path, cancel: threading.Event) -> None:
    while not cancel.is_set():
        if flag.exists():
            cancel.set()
            return
        time.sleep(0.2)


def build_int8_companion(bundle: Path, train: list[Path], holdout: list[Path], limit: int = 16) -> dict:
    """The bundle's verified int8 companion (calibrated on up to ``limit`` training images,
    checked on up to ``limit`` held-out ones: a few seconds for `fast`, a few minutes for
    `paper` on a CPU); never fails the training: a problem is returned as ``{"error": ...}``."""
    from core.inference.int8_companion import MIN_CHECK_IMAGES, build_companion
    from core.evaluation.metrics import roc_auc
    from core.training.separability import synthetic_anomalies
    from core.io.images import evenly_spaced, load_images

    def read(paths: list[Path]) -> list:  # unreadable images were reported by the training
        return [image for _, image in load_images(evenly_spaced(paths, limit))[0]]

    if len(holdout) < MIN_CHECK_IMAGES:
        return {"error": f"no int8 model: it needs at least {MIN_CHECK_IMAGES} held-out good "
                         f"images to be checked against fp32, there are {len(holdout)}"}
    try:
        check = read(holdout)
        return build_companion(bundle, read(train), check, anomalous=synthetic_anomalies(check),
                               auroc=roc_auc)
    except Exception as exc:  # int8 is an optimisation: the fp32 model stands on its own
        return {"error": f"no int8 model: {describe_error(exc)}"}


def run(spec: JobSpec, reporter: _Reporter, cancel: threading.Event) -> int:
    paths = _data_paths(spec)  # before importing torch: bad input fails fast
    if not paths:
        raise ValueError(f"no training images in {spec.data}")
    from core.training.data import split_holdout
    from core.training.pipeline import train_to_bundle
    from core.training.presets import get_preset
    from core.training.checkpoint import open_checkpoint
    from core.training.trainer import TrainingCancelled, TrainSettings

    folder = spec.folder
    ck = folder / CHECKPOINT_FILE
    (folder / CANCEL_FILE).unlink(missing_ok=True)
    threading.Thread(target=_watch_cancel, args=(folder / CANCEL_FILE, cancel), daemon=True).start()
    dsr = spec.model == "dsr"
    if dsr:
        from core.training.dsr_pipeline import open_stage2_checkpoint, train_dsr_to_bundle
        from core.training.dsr_presets import get_dsr_preset

        preset = get_dsr_preset(spec.preset, **spec.preset_overrides)
        found, note = open_stage2_checkpoint(ck, spec.resume, preset, spec.seed), None
        resumed_from = found["info"]["steps"] if found else 0  # stage 2 done: resumes at stage 3
    else:
        preset = get_preset(spec.preset, **spec.preset_overrides)
        found, note = open_checkpoint(ck, spec.resume)  # an unusable one is renamed aside
        resumed_from = found["step"] if found else 0
    reporter.emit("start", pid=os.getpid(), resumed_from=resumed_from, images=len(paths),
                  preset=preset.name)
    if note:
        reporter.emit("status", message=note)
    settings = TrainSettings(preset, seed=spec.seed, device=spec.device, minutes=spec.minutes,
                             steps=spec.steps, workers=spec.workers, threads=spec.threads,
                             checkpoint=ck, checkpoint_every_s=spec.checkpoint_every_s,
                             resume=spec.resume, init_from=spec.continue_from, use_base=spec.use_base)
    preview_dir = folder / PREVIEW_DIR

    def on_preview(step: int, sample: dict) -> None:
        reporter.emit("preview", step=step, files=write_preview(preview_dir, sample))

    try:
        if dsr:  # DSR has no preview: its anomalies are made in feature space
            result = train_dsr_to_bundle(paths, folder / BUNDLE_FILE, settings,
                                         holdout=spec.holdout, false_reject=spec.false_reject,
                                         progress=reporter.progress, cancel=cancel,
                                         base=spec.dsr_base, defects=spec.defects)
        else:
            result = train_to_bundle(paths, folder / BUNDLE_FILE, settings, textures=spec.textures,
                                     holdout=spec.holdout, false_reject=spec.false_reject,
                                     progress=reporter.progress, cancel=cancel, preview=on_preview)
    except (TrainingCancelled, KeyboardInterrupt) as exc:
        reporter.emit("cancelled", message=str(exc) or "cancelled",
                      checkpoint=str(ck) if ck.is_file() else None)
        return EXIT_CANCELLED
    ck.unlink(missing_ok=True)  # the bundle is written: nothing left to resume
    train, holdout = split_holdout(paths, spec.holdout, spec.seed)
    reporter.emit("status", message="Building the int8 model for live CPU inspection")
    int8 = build_int8_companion(result.bundle, train, holdout)
    reporter.emit("done", bundle=str(result.bundle), meta=result.meta, steps=result.steps, int8=int8,
                  seconds=result.seconds, seconds_per_step=result.seconds_per_step,
                  holdout=[str(p) for p in holdout],
                  skipped=[[str(p), why] for p, why in result.skipped])
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    events = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # stray prints must not corrupt the event stream
    reporter = _Reporter(events)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(argv) != 1:
        reporter.emit("error", message="usage: python -m core.training.job RUN_DIR/spec.json")
        return EXIT_BAD_SPEC
    try:
        spec = JobSpec.load(argv[0])
    except (ValueError, TypeError) as exc:
        reporter.emit("error", message=str(exc))
        return EXIT_BAD_SPEC
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    try:
        return run(spec, reporter, cancel)
    except BaseException as exc:  # the parent must always get a message
        logging.getLogger(__name__).exception("training failed")
        reporter.emit("error", message=describe_error(exc))
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
