"""The training process and its parent side: events, cancel by SIGTERM, crash detection."""

import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.inference.bundle import BUNDLE_FILE
from core.training.estimate import estimate_seconds, format_duration, measure_seconds_per_step
from core.training.files import CHECKPOINT_FILE, EVENTS_FILE, SPEC_FILE
from core.training.job import EXIT_BAD_SPEC, EXIT_CANCELLED, EXIT_FAILED, JobSpec
from core.training.presets import get_preset
from core.training.runner import TrainingRunner, can_resume


def _images(folder: Path, n: int = 8) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        p = folder / f"g{i}.png"
        cv2.imwrite(str(p), rng.integers(90, 160, (64, 64, 3), np.uint8))
        out.append(str(p))
    return out


def _run_job(spec_path: Path, timeout: float = 60) -> tuple[int, list[dict]]:
    proc = subprocess.run([sys.executable, "-m", "core.training.job", str(spec_path)],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_bad_spec_reports_error_and_exit_code(tmp_path: Path):
    spec = tmp_path / SPEC_FILE
    spec.write_text(json.dumps({"data": [], "run_dir": str(tmp_path), "colour": "red"}))
    rc, events = _run_job(spec)
    assert rc == EXIT_BAD_SPEC
    assert events == [{"event": "error", "message": f"training spec {spec}: unknown field(s) colour"}]


def test_spec_model_is_validated_and_defaults_to_draem(tmp_path: Path):
    assert JobSpec.load(JobSpec(data=[], run_dir=str(tmp_path)).save()).model == "draem"
    assert JobSpec.load(JobSpec(data=[], run_dir=str(tmp_path), model="dsr").save()).model == "dsr"
    spec = tmp_path / SPEC_FILE
    spec.write_text(json.dumps({"data": [], "run_dir": str(tmp_path), "model": "gan"}))
    with pytest.raises(ValueError, match="model must be one of draem, dsr, got 'gan'"):
        JobSpec.load(spec)


def test_missing_image_is_a_clear_error(tmp_path: Path):
    paths = _images(tmp_path / "imgs") + [str(tmp_path / "gone.png")]
    spec = JobSpec(data=paths, run_dir=str(tmp_path / "run"), preset="tiny", steps=2, workers=0,
                   device="cpu").save()
    rc, events = _run_job(spec)
    assert rc == EXIT_FAILED
    assert events[-1]["event"] == "error" and "gone.png" in events[-1]["message"]


def test_sigterm_cancels_and_keeps_checkpoint(tmp_path: Path):
    spec = JobSpec(data=_images(tmp_path / "imgs"), run_dir=str(tmp_path / "run"), preset="tiny",
                   steps=500, workers=0, device="cpu")
    events: list[dict] = []
    runner = TrainingRunner(spec, events.append)
    runner.start()
    deadline = time.monotonic() + 60
    while not any(e["event"] == "progress" for e in events) and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.proc.terminate()  # SIGTERM, as when the session ends
    final = runner.wait(60)
    assert final is not None and final["event"] == "cancelled", events[-3:]
    assert runner.proc.wait(10) == EXIT_CANCELLED
    assert (tmp_path / "run" / CHECKPOINT_FILE).is_file() and can_resume(tmp_path / "run")
    assert not (tmp_path / "run" / BUNDLE_FILE).exists()  # no bundle from a cancelled run
    logged = [json.loads(x) for x in (tmp_path / "run" / EVENTS_FILE).read_text().splitlines()]
    assert [e["event"] for e in logged] == [e["event"] for e in events]


def test_runner_detects_a_crash_and_reports_log_tail(tmp_path: Path):
    fake = tmp_path / "fake-python"
    fake.write_text('#!/bin/sh\necho \'{"event": "start", "resumed_from": 0}\'\n'
                    'echo "Segmentation fault in conv2d" >&2\nexit 139\n')
    fake.chmod(0o755)
    events: list[dict] = []
    runner = TrainingRunner(JobSpec(data=[], run_dir=str(tmp_path / "run")), events.append,
                            python=str(fake))
    runner.start()
    final = runner.wait(20)
    assert [e["event"] for e in events] == ["start", "crashed"]
    assert final["returncode"] == 139 and "Segmentation fault in conv2d" in final["message"]
    assert final["can_resume"] is False


def test_estimate_measures_real_steps():
    tiny = get_preset("tiny")
    sps = measure_seconds_per_step(tiny, steps=1, device="cpu")
    assert 0 < sps < 30
    # tiny has a fixed 20 steps: 20 x s/step plus the fixed overhead
    assert estimate_seconds(tiny, 100, 0.5) == pytest.approx(20 * 0.5 + 5.0)
    paper = get_preset("paper")  # epochs: 700 x ceil(90 / 8) steps
    assert estimate_seconds(paper, 100, 1.0) == pytest.approx(700 * 12 + 5.0)
    assert format_duration(42) == "42 s" and format_duration(600) == "10 min"
    assert format_duration(4 * 3600 + 300) == "4 h 05 min"


def test_full_disk_and_memory_errors_get_plain_messages():
    import errno

    from core.training.job import describe_error

    full = describe_error(OSError(errno.ENOSPC, "No space left on device", "/data/run/model.limodel"))
    assert full.startswith("the disk is full: /data/run/model.limodel could not be written")
    assert "choose a smaller preset" in describe_error(MemoryError())
    assert describe_error(RuntimeError("boom")) == "RuntimeError: boom"


def test_a_fresh_start_discards_the_earlier_runs_outputs_and_keeps_the_rest(tmp_path: Path):
    from core.training.files import PREVIEW_DIR, discard_outputs

    for name in (CHECKPOINT_FILE, BUNDLE_FILE, EVENTS_FILE, SPEC_FILE):
        (tmp_path / name).write_text("x")
    (tmp_path / PREVIEW_DIR).mkdir()
    (tmp_path / PREVIEW_DIR / "image.png").write_bytes(b"png")
    discard_outputs(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [SPEC_FILE]
    discard_outputs(tmp_path / "never-created")  # nothing to discard is fine
