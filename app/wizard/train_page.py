"""Step 4, Train: preset with its measured duration, then progress, loss curves and previews.

Training runs in a separate process (core.training.runner); this page only shows its events.
"""

from __future__ import annotations

import html
import json
import shutil
import sys

import pyqtgraph as pg
from PySide6.QtCore import QProcess, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWizardPage)

from app.wizard.context import WizardContext
from app.wizard.qtutil import EventRelay, message_label, show_message
from core.training.estimate import estimate_seconds, format_duration
from core.training.job import BUNDLE_FILE, CHECKPOINT_FILE, JobSpec
from core.training.presets import PRESETS, get_preset
from core.training.runner import EVENTS_FILE, TrainingRunner, can_resume
from core.training.separability import verdict

PREVIEWS = (("image", "Good image"), ("augmented", "Synthetic anomaly"), ("mask", "Its mask"),
            ("reconstruction", "Reconstruction"), ("anomaly_map", "Anomaly map M_o"))
# second row: the current model on a held-out good image (M_o should stay dark)
VALIDATION_PREVIEWS = (("val_image", "Validation image"), ("val_reconstruction", "Its reconstruction"),
                       ("val_anomaly_map", "Its M_o"))
CURVES = (("loss", "#e53935"), ("l2", "#1e88e5"), ("ssim", "#43a047"), ("focal", "#fb8c00"))
HINTS = {"fast": "for a CPU, runs live", "thorough": "for a CPU, an hour: over a break",
         "paper": "for a GPU (the paper's recipe)", "tiny": "smoke test only"}


def _past_events(path) -> list[dict]:
    """The events of the earlier runs, from their events file (unreadable lines skipped)."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            out.append(e)
    return out


class TrainPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("4. Train")
        self.setSubTitle("Choose a preset, then start. Training runs in its own process: cancel at "
                         "any time, resume later from the last checkpoint.")
        self.runner: TrainingRunner | None = None
        self.relay = EventRelay()
        self.relay.event.connect(self.on_event)
        self.events: list[dict] = []
        self.seconds_per_step: dict[str, float] = {}
        self.probe: QProcess | None = None
        self.active_model = None   # the recipe's active bundle (initializePage)
        self.history: dict[str, list[float]] = {k: [] for k, _ in CURVES}
        self.steps: list[int] = []

        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(f"{name} ({HINTS.get(name, '')})", name)
        self.anomalies_combo = QComboBox()
        self.anomalies_combo.addItem("defect-like", "defects")
        self.anomalies_combo.addItem("paper (Perlin x texture)", "paper")
        self.anomalies_combo.setToolTip("Synthetic anomalies to train on: cracks, scratches, pits, stains, "
                                        "foreign patches and the paper's textures; or the paper's only")
        self.estimate_label = QLabel("")
        self.minutes_spin = QSpinBox()
        self.minutes_spin.setRange(0, 24 * 60)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setSpecialValueText("preset's steps")
        self.minutes_spin.setToolTip("Training time. Longer training usually finds more defects; "
                                     "the learning-rate schedule is fitted to the time given.")
        self.continue_check = QCheckBox("Continue from the active model")
        self.continue_check.setToolTip("Start from the recipe's active model instead of the base model, "
                                       "e.g. to add an hour of training overnight; deploy the result as a "
                                       "new version if it validates better.")
        self.separability_label = QLabel("")
        self.separability_label.setToolTip("Held-out good images against the same images with synthetic "
                                           "defects: 1.0 tells them apart perfectly, 0.5 not at all.")
        self.measure_button = QPushButton("Measure on this machine")
        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.bar = QProgressBar()
        self.eta_label = QLabel("")
        self.plot = pg.PlotWidget(title="Training losses")
        self.plot.setBackground("w")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setLabel("bottom", "step")
        self.curves = {k: self.plot.plot([], [], pen=pg.mkPen(c, width=2), name=k) for k, c in CURVES}
        self.previews: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, items in ((0, PREVIEWS), (2, VALIDATION_PREVIEWS)):
            for i, (key, caption) in enumerate(items):
                img = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
                img.setFixedSize(128, 128)
                img.setStyleSheet("background: #303030;")
                self.previews[key] = img
                grid.addWidget(img, row, i)
                grid.addWidget(QLabel(caption, alignment=Qt.AlignmentFlag.AlignCenter), row + 1, i)
        self.message = message_label()

        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset_combo)
        top.addWidget(QLabel("Anomalies"))
        top.addWidget(self.anomalies_combo)
        top.addWidget(QLabel("Time"))
        top.addWidget(self.minutes_spin)
        top.addWidget(self.continue_check)
        top.addWidget(self.estimate_label, 1)
        top.addWidget(self.measure_button)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(b)
        buttons.addWidget(self.bar, 1)
        buttons.addWidget(self.eta_label)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addLayout(buttons)
        col.addWidget(self.separability_label)
        col.addWidget(self.plot, 1)
        col.addLayout(grid)
        col.addWidget(self.message)

        self.preset_combo.currentIndexChanged.connect(self._preset_changed)
        self.minutes_spin.valueChanged.connect(self._show_estimate)
        self.measure_button.clicked.connect(self.measure)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume)

    # --- preset and estimate ----------------------------------------------------------------
    @property
    def preset(self) -> str:
        return self.preset_combo.currentData()

    def initializePage(self) -> None:
        self.active_model = self._active_model()
        index = self.preset_combo.findData(self.ctx.preset)
        self.preset_combo.setCurrentIndex(max(index, 0))
        self.anomalies_combo.setCurrentIndex(max(0, self.anomalies_combo.findData(self.ctx.anomalies)))
        self.n_images = len(self.ctx.samples())
        self._preset_changed()
        if can_resume(self.ctx.run_dir):
            show_message(self.message, "An interrupted training run of this recipe was found: "
                                       "Resume continues it from its last checkpoint.")
        self._update_buttons()

    def _active_model(self):
        """The recipe's active bundle when retraining, else None."""
        ctx = self.ctx
        if ctx.is_new or not ctx.store.exists(ctx.recipe_name):
            return None
        try:
            return ctx.store.active_bundle_path(ctx.recipe_name)
        except Exception:  # a broken recipe only means there is nothing to continue from
            return None

    def _can_continue(self) -> bool:
        if self.active_model is None:
            return False
        from core.inference.bundle import BundleError, read_bundle_meta

        try:
            meta = read_bundle_meta(self.active_model)
        except BundleError:
            return False
        preset = get_preset(self.preset)
        return (int(meta["recon_width"]), int(meta["disc_width"])) == (preset.recon_width, preset.disc_width)

    def _preset_changed(self) -> None:
        preset = get_preset(self.preset)
        self.minutes_spin.setValue(int(preset.minutes or 0))
        ok = self._can_continue()
        self.continue_check.setEnabled(ok)
        if not ok:
            self.continue_check.setChecked(False)
        self.continue_check.setVisible(self.active_model is not None)
        self._show_estimate()
        if self.ctx.auto_measure and self.preset not in self.seconds_per_step and not self.running:
            self.measure()

    def _show_estimate(self) -> None:
        name = self.preset
        sps = self.seconds_per_step.get(name)
        preset = get_preset(name)
        if sps is None:
            self.estimate_label.setText(f"{preset.image_size[0]} px, widths {preset.recon_width}/"
                                        f"{preset.disc_width}: not measured yet")
            return
        minutes = self.minutes_spin.value()
        if minutes:
            self.estimate_label.setText(f"{format_duration(minutes * 60)}: about {int(minutes * 60 / sps)} "
                                        f"steps on this machine ({sps:.2f} s per step)")
            return
        total = estimate_seconds(preset, self.n_images, sps, self.ctx.holdout, self.ctx.steps)
        self.estimate_label.setText(f"≈ {format_duration(total)} on this machine "
                                    f"({sps:.2f} s per step, {self.n_images} images)")

    def measure(self) -> None:
        """Time a few real training steps of the preset in a separate process."""
        if self.probe is not None:
            return
        name = self.preset
        self.n_images = len(self.ctx.samples())
        self.estimate_label.setText(f"measuring {name} on this machine…")
        self.probe = QProcess(self)
        self.probe.finished.connect(lambda *_: self._probe_done(name))
        self.probe.start(sys.executable, ["-m", "core.training.estimate", "--preset", name,
                                          "--steps", "1", "--device", self.ctx.device])

    def _probe_done(self, name: str) -> None:
        out = bytes(self.probe.readAllStandardOutput()).decode(errors="replace").strip()
        self.probe = None
        try:
            result = json.loads(out.splitlines()[-1])
            self.seconds_per_step[name] = float(result["seconds_per_step"])
        except (ValueError, KeyError, IndexError):
            self.estimate_label.setText(f"could not measure {name}: {out[-200:] or 'no output'}")
            return
        self._show_estimate()

    # --- the run ----------------------------------------------------------------------------
    def _spec(self) -> JobSpec:
        paths = [str(p) for p in self.ctx.samples().paths()]
        minutes = self.minutes_spin.value() if self.ctx.steps is None else 0
        cont = self.active_model if self.continue_check.isChecked() and self._can_continue() else None
        return JobSpec(data=paths, run_dir=str(self.ctx.run_dir), preset=self.preset,
                       steps=self.ctx.steps, minutes=minutes or None, seed=self.ctx.seed,
                       device=self.ctx.device, workers=self.ctx.workers, holdout=self.ctx.holdout,
                       false_reject=self.ctx.false_reject, resume=False,
                       preset_overrides={"anomalies": self.anomalies_combo.currentData()},
                       continue_from=str(cont) if cont else None)

    def start(self) -> None:
        """Start a fresh run (an old checkpoint of this recipe is discarded)."""
        run_dir = self.ctx.run_dir
        for name in (CHECKPOINT_FILE, BUNDLE_FILE, "events.jsonl"):
            (run_dir / name).unlink(missing_ok=True)
        shutil.rmtree(run_dir / "preview", ignore_errors=True)
        self._launch(TrainingRunner(self._spec(), self.relay.event.emit), resume=False)

    def resume(self) -> None:
        """Continue the interrupted run of this recipe from its checkpoint."""
        try:
            spec = JobSpec.load(self.ctx.run_dir / "spec.json")
        except ValueError as exc:
            show_message(self.message, str(exc), error=True)
            return
        self._launch(TrainingRunner(spec, self.relay.event.emit), resume=True)

    def _launch(self, runner: TrainingRunner, resume: bool) -> None:
        self.ctx.result = None
        self.separability_label.clear()
        self.steps.clear()
        for values in self.history.values():
            values.clear()
        if resume:  # the chart goes on from the steps the interrupted run reported
            for e in _past_events(self.ctx.run_dir / EVENTS_FILE):
                if e.get("event") == "start":
                    self._keep_steps_until(int(e.get("resumed_from") or 0))
                elif e.get("event") == "progress" and isinstance(e.get("step"), int):
                    self._add_losses(e)
        self.runner = runner
        try:
            runner.resume() if resume else runner.start()
        except (OSError, RuntimeError) as exc:
            show_message(self.message, f"cannot start training: {exc}", error=True)
            return
        show_message(self.message, "starting the training process…")
        self._update_buttons()
        self.completeChanged.emit()

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel()
            show_message(self.message, "cancelling: saving a checkpoint…")

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop a running job (checkpoint kept) before the window closes."""
        if self.probe is not None:
            self.probe.kill()
            self.probe.waitForFinished(2000)
        if self.runner is not None and self.runner.running:
            self.runner.cancel(kill_after=timeout / 2)
            self.runner.wait(timeout)

    def on_event(self, event: dict) -> None:
        self.events.append(event)
        kind = event.get("event")
        if kind == "start":
            k = event.get("resumed_from", 0)
            self._keep_steps_until(k)
            show_message(self.message, f"training {event.get('images')} images with preset "
                                       f"{event.get('preset')}" + (f", resumed from step {k}" if k else ""))
        elif kind == "progress":
            self._progress(event)
            if event.get("separability"):
                self._show_separability(event["separability"], final=False)
        elif kind == "preview":
            for key, path in event.get("files", {}).items():
                if key in self.previews:
                    self.previews[key].setPixmap(QPixmap(path).scaled(
                        128, 128, Qt.AspectRatioMode.KeepAspectRatio))
        elif kind == "done":
            self.ctx.result = event
            self._show_separability(((event.get("meta") or {}).get("training") or {}).get("separability"),
                                    final=True)
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
            int8 = event.get("int8") or {}
            note = int8.get("reason") or int8.get("error") or ""
            show_message(self.message, f"training finished: {event['steps']} steps in "
                                       f"{format_duration(event['seconds'])}. Next: validate."
                                       + (f"\nint8 model for live CPU inspection: {note}." if note else ""))
        elif kind == "status":
            show_message(self.message, f"{event.get('message')}...")
        elif kind == "cancelled":
            show_message(self.message, f"{event.get('message')}. The checkpoint is kept: Resume "
                                       f"continues from it. The active model is unchanged.", error=True)
        elif kind in ("error", "crashed"):
            extra = " Resume continues from the last checkpoint." if can_resume(self.ctx.run_dir) else ""
            show_message(self.message, f"training failed: {event.get('message')}.{extra} "
                                       f"The active model is unchanged.", error=True)
        self._update_buttons()
        self.completeChanged.emit()

    def _show_separability(self, result: dict | None, final: bool) -> None:
        separates, why = verdict(result)
        when = "final model" if final else f"at step {result.get('step')}" if result else ""
        colour = "#2e7d32" if separates else "#c62828"
        self.separability_label.setText(f"<span style='color:{colour}'><b>Can it tell?</b> "
                                        f"({when}) {html.escape(why)}</span>")

    def _progress(self, e: dict) -> None:
        step, total = e["step"], e.get("total")
        if total is None:
            self.bar.setRange(0, 0)  # fitting the run to the time budget
        else:
            self.bar.setRange(0, total)
            self.bar.setValue(step)
        eta = e.get("eta_s")
        self.eta_label.setText(f"step {step}/{total if total is not None else '?'}"
                               + (f", {format_duration(eta)} left" if eta is not None else ""))
        self._add_losses(e)

    def _add_losses(self, e: dict) -> None:
        self.steps.append(e["step"])
        for key, curve in self.curves.items():
            self.history[key].append(float((e.get("losses") or {}).get(key, float("nan"))))
            curve.setData(self.steps, self.history[key])

    def _keep_steps_until(self, step: int) -> None:
        """Drop the points after ``step``: a resumed run redoes the steps after its checkpoint."""
        n = sum(1 for s in self.steps if s <= step)
        del self.steps[n:]
        for key, curve in self.curves.items():
            del self.history[key][n:]
            curve.setData(self.steps, self.history[key])

    @property
    def running(self) -> bool:
        """A run was started and has not reported its end yet."""
        return self.runner is not None and self.runner.proc is not None and self.runner.final is None

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running)
        self.preset_combo.setEnabled(not running)
        self.minutes_spin.setEnabled(not running)
        self.anomalies_combo.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and can_resume(self.ctx.run_dir))

    def isComplete(self) -> bool:
        return self.ctx.result is not None and not self.running
