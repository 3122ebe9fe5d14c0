"""The layout of a training run folder, one name per file (the job, its runner, the wizard).

``RUN_DIR/`` holds :data:`SPEC_FILE` (the :class:`core.training.job.JobSpec`),
:data:`CHECKPOINT_FILE` (resumable state), the trained bundle
(:data:`core.inference.bundle.BUNDLE_FILE`), :data:`EVENTS_FILE` (every event of the run, one
JSON object a line), :data:`LOG_FILE` (the job's stderr), :data:`PREVIEW_DIR` (the latest
preview PNGs) and, while a cancel is asked for, :data:`CANCEL_FILE`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.inference.bundle import BUNDLE_FILE

SPEC_FILE = "spec.json"
CHECKPOINT_FILE = "checkpoint.pt"
CANCEL_FILE = "cancel"
PREVIEW_DIR = "preview"
EVENTS_FILE = "events.jsonl"
LOG_FILE = "job.log"


def discard_outputs(run_dir: str | Path) -> None:
    """Remove what an earlier run left (checkpoint, bundle, events, previews) before a fresh one."""
    run_dir = Path(run_dir)
    for name in (CHECKPOINT_FILE, BUNDLE_FILE, EVENTS_FILE):
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / PREVIEW_DIR, ignore_errors=True)
