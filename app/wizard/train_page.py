"""Step 4, Train: preset with its measured duration, then progress, loss curves and previews.

Training runs in a separate process (core.training.runner); this page only shows its events.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QWidget,
                               QPushButton, QSpinBox, QVBoxLayout, QWizardPage)

from app.wizard.context import WizardContext
from app.wizard.cpu_share import LivePause
from app.wizard.defects_picker import DefectsPicker
from app.wizard.loss_chart import CURVES, DSR_CURVES, LossChart
from app.wizard.model_choice import (DEFAULT_MODEL, HINTS, MODELS, WHEN_TO_PICK, describe_model_estimate,
                                     get_model_preset, kind_of, presets_for, probe_key)
from app.wizard.qtutil import message_label, show_message
from app.wizard.step_probe import ProcessProbe
from app.wizard.train_events import PREVIEWS, VALIDATION_PREVIEWS, apply_event
from app.workers.background import gui_callback
from core.training.files import EVENTS_FILE, SPEC_FILE, discard_outputs
from core.training.job import JobSpec
from core.training.runner import TrainingRunner, can_resume


class TrainPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("4. Train")
        self.setSubTitle("Choose the model and a preset, then start. Training runs in its own "
                         "process: cancel at "
                         "any time, resume later from the last checkpoint.")
        self.runner: TrainingRunner | None = None
        self.event_from_runner = gui_callback(self, self.on_event)  # called on the runner's reader thread
        self.events: list[dict] = []
        self.seconds_per_step: dict[str, float] = {}   # by probe_key(model, preset), with self.share.threads
        self.probe = ProcessProbe(self)    # tests set a fake with chosen step timings
        self.measuring: str | None = None  # the probe_key(model, preset) the probe is timing
        self.runner_factory = TrainingRunner
        self._minutes_for: str | None = None  # the probe_key whose proposed time the box shows
        self.n_images = 0
        self.active_model = None   # the recipe's active bundle (initializePage)

        self.model_combo = QComboBox()
        for kind, text in MODELS:
            self.model_combo.addItem(text, kind)
        self.model_combo.setToolTip(WHEN_TO_PICK)
        self.when_label = QLabel(WHEN_TO_PICK, wordWrap=True)
        self.when_label.setStyleSheet("color: #555;")
        self.preset_combo = QComboBox()
        self._fill_presets()
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
        self.defects = DefectsPicker()  # DSR's supervised extension (shown for DSR only)
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
        self.preview_box = QWidget()  # DRÆM's image-space previews; DSR's anomalies have none
        grid = QGridLayout(self.preview_box)
        for row, items in ((0, PREVIEWS), (2, VALIDATION_PREVIEWS)):
            for i, (key, caption) in enumerate(items):
                img = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
                img.setFixedSize(128, 128)
                img.setStyleSheet("background: #303030;")
                self.previews[key] = img
                grid.addWidget(img, row, i)
                grid.addWidget(QLabel(caption, alignment=Qt.AlignmentFlag.AlignCenter), row + 1, i)
        self.message = message_label()

        choice = QHBoxLayout()
        choice.addWidget(QLabel("Model"))
        choice.addWidget(self.model_combo)
        choice.addWidget(self.when_label, 1)
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset_combo)
        self.anomalies_label = QLabel("Anomalies")
        top.addWidget(self.anomalies_label)
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
        col.addLayout(choice)
        col.addLayout(top)
        col.addWidget(self.defects)
        col.addWidget(self.share_label)
        col.addLayout(buttons)
        col.addWidget(self.separability_label)
        col.addWidget(self.plot, 1)
        col.addWidget(self.preview_box)
        col.addWidget(self.message)

        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.preset_combo.currentIndexChanged.connect(self._preset_changed)
        self.minutes_spin.valueChanged.connect(self._show_estimate)
        self.measure_button.clicked.connect(self.measure)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume)

    # --- preset and estimate ----------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model kind to train: "draem" or "dsr"."""
        return self.model_combo.currentData() or DEFAULT_MODEL

    @property
    def preset(self) -> str:
        return self.preset_combo.currentData()

    @property
    def key(self) -> str:
        """The chosen model and preset, as the measured step times are keyed."""
        return probe_key(self.model, self.preset)

    def _fill_presets(self, keep: str | None = None) -> None:
        """The presets of the chosen model; ``keep`` stays selected when that model has it."""
        combo = self.preset_combo
        combo.blockSignals(True)
        combo.clear()
        for name in presets_for(self.model):
            combo.addItem(f"{name} ({HINTS.get(name, '')})", name)
        combo.setCurrentIndex(max(0, combo.findData(keep or "fast")))
        combo.blockSignals(False)

    def _show_model(self) -> None:
        """The loss curves and previews of the chosen model (DSR makes its anomalies in feature
        space: there is no synthetic-anomaly image to show, so the preview grid is hidden)."""
        self.plot.set_curves(DSR_CURVES if self.model == "dsr" else CURVES)
        self.preview_box.setVisible(self.model != "dsr")

    def _model_changed(self) -> None:
        self._fill_presets(keep=self.preset)
        self._show_model()
        self._preset_changed()

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
        self.model_combo.blockSignals(True)  # one _preset_changed below, not one per box
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(self.ctx.model)))
        self.model_combo.blockSignals(False)
        self._fill_presets(keep=self.ctx.preset)
        self._show_model()
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
        if kind_of(meta) != self.model:
            return False  # another kind of network: nothing to continue from
        if self.model != DEFAULT_MODEL:
            return meta.get("dsr") == get_model_preset(self.model, self.preset).dsr_config().to_dict()
        preset = get_model_preset(self.model, self.preset)
        return (int(meta["recon_width"]), int(meta["disc_width"])) == (preset.recon_width, preset.disc_width)

    def _preset_changed(self) -> None:
        preset = get_model_preset(self.model, self.preset)
        if self._minutes_for != self.key:  # a preset proposes its time; Back and Next keep a typed one
            self._minutes_for = self.key
            self.minutes_spin.setValue(int(preset.minutes or 0))
        ok = self._can_continue()
        self.continue_check.setEnabled(ok)
        if not ok:
            self.continue_check.setChecked(False)
        self.continue_check.setVisible(self.active_model is not None)
        draem = self.model == DEFAULT_MODEL  # the synthetic-anomaly kind is DRÆM's only
        self.anomalies_combo.setEnabled(draem and not self.running)
        self.anomalies_label.setHidden(not draem)
        self.anomalies_combo.setHidden(not draem)
        self.defects.setHidden(draem)
        self.defects.setEnabled(not draem and not self.running)
        stale = self.measuring not in (None, self.key)  # measuring another preset or model
        unmeasured = self.key not in self.seconds_per_step and not self.running
        if unmeasured and (stale or (self.ctx.auto_measure and not self.live_pause.applies)):
            self.measure()   # the stale probe is dropped
        elif stale:
            self._cancel_probe()
        self._show_estimate()

    def _show_estimate(self) -> None:
        key = self.key
        sps = self.seconds_per_step.get(key)
        text = describe_model_estimate(self.model, get_model_preset(self.model, self.preset), sps,
                                       self.minutes_spin.value(), self.n_images, self.ctx.holdout,
                                       self.ctx.steps, measuring=self.measuring == key,
                                       threads=self.share.threads)
        if sps is None and self.measuring != key and self.live_pause.applies:
            text += " (press Measure)"
        self.estimate_label.setText(text)

    def measure(self) -> None:
        """Time a few real training steps of the preset in a separate process, with the threads
        the run will get and, on a CPU, live inspection paused as it will be for the run."""
        name, model, key = self.preset, self.model, self.key
        if self.running or self.measuring == key:
            return
        self.n_images = len(self.ctx.samples())
        self.measuring = key
        self.live_pause.claim("probe", f"measuring how long training takes ({key})")
        extra = {} if model == DEFAULT_MODEL else {"model": model}  # DRÆM: the probe as before
        self.probe.start(name, self.share.threads, self.ctx.device,
                         lambda sps, error: self._probe_done(key, sps, error), **extra)
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
        draem = self.model == DEFAULT_MODEL  # the synthetic-anomaly kind is DRÆM's only
        return JobSpec(data=paths, run_dir=str(self.ctx.run_dir), preset=self.preset, model=self.model,
                       steps=self.ctx.steps, minutes=minutes or None, seed=self.ctx.seed,
                       device=self.ctx.device, workers=self.ctx.workers, threads=self.share.threads,
                       holdout=self.ctx.holdout,
                       false_reject=self.ctx.false_reject, resume=False,
                       preset_overrides={"anomalies": self.anomalies_combo.currentData()} if draem else {},
                       continue_from=str(cont) if cont else None,
                       defects=None if draem else self.defects.folder)

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
        apply_event(self, event)
        self._update_buttons()
        self.completeChanged.emit()

    @property
    def running(self) -> bool:
        """A run was started and has not reported its end yet."""
        return self.runner is not None and self.runner.proc is not None and self.runner.final is None

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running)
        self.model_combo.setEnabled(not running)
        self.preset_combo.setEnabled(not running)
        self.minutes_spin.setEnabled(not running)
        self.measure_button.setEnabled(not running)
        self.anomalies_combo.setEnabled(not running and self.model == DEFAULT_MODEL)
        self.defects.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and can_resume(self.ctx.run_dir))

    def isComplete(self) -> bool:
        return self.ctx.result is not None and not self.running
