"""The window's *Train model…* and *Model versions…*: open the training wizard and the versions
dialog for the recipe being inspected, and hand what they do to the session controller.

* The wizard is non-modal, with the current recipe preselected for retraining. When it opens
  the camera the live session is inspecting, it reads that session's frames through a
  :class:`~core.inspection.frame_tap.FrameTap` instead of opening the camera a second time,
  so inspection goes on while good samples are collected. Its ``deployed(recipe, version)``
  makes the controller switch a running session of that recipe to the new version (loaded
  off the GUI thread, camera kept running).
* On a CPU, live inspection is paused while the wizard measures or trains (the cores go to
  training, see :mod:`core.training.share`) and started again afterwards; the verdict tile
  reads PAUSED and the status bar says why.
* When the session signs out or locks (idle, operator mode) the wizard is hidden, not closed:
  a training run goes on and is shown again, on its page, when an engineer signs in.
* The versions dialog's *Activate* goes to :meth:`SessionController.activate_version`
  (same switch); the dialog is refreshed when the controller reports the change.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.version_rows import version_rows
from app.versions_dialog import VersionsDialog
from app.wizard.camera_feed import open_grabber
from app.wizard.context import WizardContext, default_preset
from app.wizard.wizard import TrainingWizard
from app.workers.session_controller import DEFAULT_SOURCE, SessionController
from app.widgets.present import discard, present

BACKGROUND = "Training continues in the background: sign in to see it"


class LiveInspectionHandle:
    """The wizard's handle on the window's live inspection (:class:`core.training.share.LiveInspection`)."""

    def __init__(self, controller: SessionController) -> None:
        self.controller = controller

    def describe(self) -> str | None:
        s = self.controller.session
        return None if s is None else f"recipe '{s.recipe.name}' on {s.source_spec}"

    def pause(self, why: str) -> None:
        self.controller.pause_live(why)

    def resume(self) -> None:
        self.controller.resume_live()


class ModelActions(QObject):
    def __init__(self, window, controller: SessionController) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self.wizard: TrainingWizard | None = None
        self._held = ""  # hidden by a sign-out or lock ("hidden", "training"): shown at sign-in
        self.versions: VersionsDialog | None = None
        # the window's role gate replaces these: Activate asks it (rollback confirmed and
        # audited); record_deploy(recipe, reason, bundle) is called before a wizard deploy
        self.on_activate = lambda recipe, version: controller.activate_version(recipe, version)
        self.record_deploy = None
        controller.recipesChanged.connect(self._refresh_versions)
        controller.failed.connect(self._on_failed)
        controller.pausedChanged.connect(self._on_paused)

    # --- training wizard --------------------------------------------------------------------
    def open_wizard(self) -> TrainingWizard:
        """Show the wizard (the one already open, if any)."""
        if self.wizard is None:
            c = self.controller
            ctx = WizardContext(c.recipes, source=c.live_source() or c.source_override or DEFAULT_SOURCE,
                                preset=default_preset(c.device), device=c.device,
                                retrain=self.window.recipe_name or "",
                                live=LiveInspectionHandle(c), record_deploy=self.record_deploy)
            self.wizard = TrainingWizard(context=ctx, camera_opener=self._open_camera, parent=self.window)
            self.wizard.deployed.connect(self._on_deployed)
            self.wizard.finished.connect(self._wizard_closed)
            self.wizard.train.completeChanged.connect(self._on_train_changed)  # after each event
        self._held = ""
        present(self.wizard)
        return self.wizard

    def wizard_for_role(self, may_train: bool) -> None:
        """The session signed out or locked (idle, kiosk): hide the wizard rather than close
        it, so a training run goes on in its process and nothing is lost; an engineer or
        administrator signing in again gets it back on the page where it was."""
        w = self.wizard
        if w is None:
            return
        if not may_train and w.isVisible():
            w.hide()  # not close(): closing would stop the training run
            self._held = "training" if w.train.running else "hidden"
            if w.train.running:
                self.window.status.notify(BACKGROUND, 24 * 3600 * 1000)
        elif may_train and self._held:
            self.open_wizard()
            self.window.status.notify("The training wizard is open again where it was left", 6000)

    def _on_train_changed(self) -> None:
        """A hidden wizard's run has ended: the status bar stops saying it goes on."""
        if self._held == "training" and self.wizard is not None and not self.wizard.train.running:
            self._held = "hidden"
            self.window.status.notify("Training has ended: sign in to see the result", 24 * 3600 * 1000)

    def _open_camera(self, spec: str):
        tap = self.controller.camera_tap(spec)
        return tap if tap is not None else open_grabber(spec)

    def _on_deployed(self, recipe: str, version: int) -> None:
        self.window.status.notify(f"Model v{version} of '{recipe}' deployed", 8000)
        self.controller.use_active_model(recipe)

    def _on_paused(self, why: str) -> None:
        if why:
            self.window.tile.clear("PAUSED")
            self.window.status.notify(f"Live inspection paused while the wizard is {why}; it resumes "
                                      f"when training ends", 24 * 3600 * 1000)
        elif self.controller.running:
            self.window.status.notify("Live inspection resumed", 8000)
        else:
            self.window.status.notify("Live inspection was paused for training and could not be "
                                      "started again: press Start", 24 * 3600 * 1000)

    def _wizard_closed(self) -> None:
        wizard, self.wizard = self.wizard, None
        if wizard is not None:
            wizard.deleteLater()

    # --- versions dialog --------------------------------------------------------------------
    def open_versions(self) -> VersionsDialog | None:
        """Show the model versions of the window's recipe."""
        name = self.window.recipe_name
        if not name:
            self.window.show_error("No recipe selected: choose one in the toolbar first")
            return None
        if self.versions is not None and self.versions.recipe != name:
            self.versions.close()
            self._versions_closed()
        if self.versions is None:
            c = self.controller
            self.versions = VersionsDialog(name, lambda n: version_rows(c.recipes, n), parent=self.window)
            self.versions.activateRequested.connect(lambda r, v: self.on_activate(r, v))
            self.versions.finished.connect(self._versions_closed)
        else:
            self.versions.refresh()
        self.versions.show()
        self.versions.raise_()
        return self.versions

    def _refresh_versions(self) -> None:
        if self.versions is not None:
            self.versions.refresh()

    def _on_failed(self, message: str) -> None:
        if self.versions is not None:
            self.versions.show_message(message, error=True)

    def _versions_closed(self) -> None:
        dialog, self.versions = self.versions, None
        discard(dialog)

    def close(self) -> None:
        """Close both (the wizard stops its camera and any training run, keeping its checkpoint)."""
        if self.versions is not None:
            self.versions.close()
        if self.wizard is not None:
            self.wizard.close()
