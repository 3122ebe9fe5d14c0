"""Step 4, Train: preset with its measured duration, then progress, loss curves and previews.

Training runs in a separate process (core.training.runner); this page only shows its events.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWizardPage)

from app.wizard.context import WizardContext
from app.wizard.cpu_share import LivePause
from app.wizard.loss_chart import LossChart
from app.wizard.qtutil import message_label, show_message
from app.wizard.step_probe import ProcessProbe
from app.workers.background import gui_callback
from core.training.estimate import describe_estimate, format_duration
from core.training.files import EVENTS_FILE, SPEC_FILE, discard_outputs
from core.training.job import JobSpec
from core.training.presets import PRESETS, get_preset
from core.training.runner import FINAL_EVENTS, TrainingRunner, can_resume
from core.training.separability import verdict

PREVIEWS = (("image", "Good image"), ("augmented", "Synthetic anomaly"), ("mask", "Its mask"),
            ("reconstruction", "Reconstruction"), ("anomaly_map", "Anomaly map M_o"))
# second row: the current model on a held-out good image (M_o should stay dark)
VALIDATION_PREVIEWS = (("val_image", "Validation image"), ("val_reconstruction", "Its reconstruction"),
                       ("val_anomaly_map", "Its M_o"))
HINTS = {"fast": "for a CPU, runs live", "thorough": "for a CPU, an hour: over a break",
         "paper": "for a GPU (the paper's recipe)", "tiny": "smoke test only"}


class TrainPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("4. Train")
        self.setSubTitle("Choose a preset, then start. Training runs in its own process: cancel at "
                         "any time, resume later from the last checkpoint.")
        self.runner: TrainingRunner | None = None
        self.event_from_runner = gui_callback(self, self.on_event)  # called on the runner's reader thread
        self.events: list[dict] = []
        self.seconds_per_step: dict[str, float] = {}   # measured with self.share.threads
        self.probe = ProcessProbe(self)    # tests set a fake with chosen step timings
        self.measuring: str | None = None  # the preset the probe is timing
        self.runner_factory = TrainingRunner
        self._minutes_for: str | None = None  # the preset whose proposed time the box shows
        self.n_images = 0
        self.active_model = None   # the recipe's active bundle (initializePage)

        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(f"{name} ({HINTS.get(name, '')})", name)
        self.anomalies_combo = QComboBox()
        self.anomalies_combo.addItem("defect-like", "defects")
        self.anomalies_combo.addItem("paper (Perlin x texture)", "paper")
        self.anomalies_combo.setToolTip("Synthetic anomalies to train on: cracks, scratches, pits, stains, "
                                        "foreign patches and the paper's textures; or the paper's only")
        self.estimate_label = QLabel("", wordWrap=True)  # a long error must not widen the window
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
        self.share_label = QLabel("", wordWrap=True)
        self.share_label.setStyleSheet("color: #8d6e00;")
        self.live_pause = LivePause(self.share_label)
        self.separability_label.setToolTip("Held-out good images against the same images with synthetic "
                                           "defects: 1.0 tells them apart perfectly, 0.5 not at all.")
        self.measure_button = QPushButton("Measure on this machine")
        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.bar = QProgressBar()
        self.eta_label = QLabel("")
        self.plot = LossChart()
        self.curves, self.history, self.steps = self.plot.curves, self.plot.history, self.plot.steps
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
        col.addWidget(self.share_label)
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

    @property
    def share(self):
        """Threads of the probe and the run, and whether live inspection pauses for them."""
        return self.live_pause.share

    def initializePage(self) -> None:
        self.active_model = self._active_model()
        if not self.running and self.measuring is None:
            before = self.share
            if self.live_pause.configure(self.ctx.live, self.ctx.device) != before:
                self.seconds_per_step.clear()  # measured with other threads or on another device
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
        if self._minutes_for != self.preset:  # a preset proposes its time; Back and Next keep a typed one
            self._minutes_for = self.preset
            self.minutes_spin.setValue(int(preset.minutes or 0))
        ok = self._can_continue()
        self.continue_check.setEnabled(ok)
        if not ok:
            self.continue_check.setChecked(False)
        self.continue_check.setVisible(self.active_model is not None)
        stale = self.measuring not in (None, self.preset)  # measuring another preset
        unmeasured = self.preset not in self.seconds_per_step and not self.running
        if unmeasured and (stale or (self.ctx.auto_measure and not self.live_pause.applies)):
            self.measure()   # the stale probe is dropped
        elif stale:
            self._cancel_probe()
        self._show_estimate()

    def _show_estimate(self) -> None:
        name = self.preset
        sps = self.seconds_per_step.get(name)
        text = describe_estimate(get_preset(name), sps, self.minutes_spin.value(), self.n_images,
                                 self.ctx.holdout, self.ctx.steps, measuring=self.measuring == name,
                                 threads=self.share.threads)
        if sps is None and self.measuring != name and self.live_pause.applies:
            text += " (press Measure)"
        self.estimate_label.setText(text)

    def measure(self) -> None:
        """Time a few real training steps of the preset in a separate process, with the threads
        the run will get and, on a CPU, live inspection paused as it will be for the run."""
        name = self.preset
        if self.running or self.measuring == name:
            return
        self.n_images = len(self.ctx.samples())
        self.measuring = name
        self.live_pause.claim("probe", f"measuring how long training takes ({name})")
        self.probe.start(name, self.share.threads, self.ctx.device,
                         lambda sps, error: self._probe_done(name, sps, error))
        self._show_estimate()

    def _probe_done(self, name: str, seconds_per_step: float | None, error: str) -> None:
        if name != self.measuring:
            return  # stale: measured for a preset no longer chosen
        self.measuring = None
        self.live_pause.release("probe")
        if seconds_per_step is None:
            self.estimate_label.setText(f"could not measure {name}: {error}")
            return
        self.seconds_per_step[name] = seconds_per_step
        self._show_estimate()

    def _cancel_probe(self) -> None:
        self.probe.cancel()
        self.measuring = None
        self.live_pause.release("probe")

    # --- the run ----------------------------------------------------------------------------
    def _spec(self) -> JobSpec:
        paths = [str(p) for p in self.ctx.samples().paths()]
        minutes = self.minutes_spin.value() if self.ctx.steps is None else 0
        cont = self.active_model if self.continue_check.isChecked() and self._can_continue() else None
        return JobSpec(data=paths, run_dir=str(self.ctx.run_dir), preset=self.preset,
                       steps=self.ctx.steps, minutes=minutes or None, seed=self.ctx.seed,
                       device=self.ctx.device, workers=self.ctx.workers, threads=self.share.threads,
                       holdout=self.ctx.holdout,
                       false_reject=self.ctx.false_reject, resume=False,
                       preset_overrides={"anomalies": self.anomalies_combo.currentData()},
                       continue_from=str(cont) if cont else None)

    def start(self) -> None:
        """Start a fresh run (an old checkpoint of this recipe is discarded)."""
        discard_outputs(self.ctx.run_dir)
        self._launch(self.runner_factory(self._spec(), self.event_from_runner), resume=False)

    def resume(self) -> None:
        """Continue the interrupted run of this recipe from its checkpoint."""
        try:
            spec = JobSpec.load(self.ctx.run_dir / SPEC_FILE)
        except ValueError as exc:
            show_message(self.message, str(exc), error=True)
            return
        spec.threads = self.share.threads  # the cores this machine gives training now
        self._launch(self.runner_factory(spec, self.event_from_runner), resume=True)

    def _launch(self, runner: TrainingRunner, resume: bool) -> None:
        self.ctx.result = None
        self.separability_label.clear()
        self.plot.clear_steps()
        if resume:  # the chart goes on from the steps the interrupted run reported
            self.plot.replay(self.ctx.run_dir / EVENTS_FILE)
        self.runner = runner
        self.live_pause.claim("run", "training a model")  # before the probe lets go of the cores
        if self.measuring is not None:
            self._cancel_probe()
        try:
            runner.resume() if resume else runner.start()
        except (OSError, RuntimeError) as exc:
            self.live_pause.release("run")
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
        self._cancel_probe()
        if self.runner is not None and self.runner.running:
            self.runner.cancel(kill_after=timeout / 2)
            self.runner.wait(timeout)
        self.live_pause.release_all()  # live inspection goes on

    def on_event(self, event: dict) -> None:
        self.events.append(event)
        kind = event.get("event")
        if kind in FINAL_EVENTS:
            self.live_pause.release("run")
        if kind == "start":
            k = event.get("resumed_from", 0)
            self.plot.keep_steps_until(k)
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
        self.plot.add_losses(e)

    @property
    def running(self) -> bool:
        """A run was started and has not reported its end yet."""
        return self.runner is not None and self.runner.proc is not None and self.runner.final is None

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running)
        self.preset_combo.setEnabled(not running)
        self.minutes_spin.setEnabled(not running)
        self.measure_button.setEnabled(not running)
        self.anomalies_combo.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and can_resume(self.ctx.run_dir))

    def isComplete(self) -> bool:
        return self.ctx.result is not None and not self.running
