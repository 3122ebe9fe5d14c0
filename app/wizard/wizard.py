"""TrainingWizard: Part -> Collect -> Review -> Train -> Validate -> Deploy.

Emits ``deployed(recipe_name, version)`` once a new model version is active, so the live
window can switch to it without a restart.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWizard

from app.wizard.camera_feed import CameraFeed
from app.wizard.collect_page import CollectPage
from app.wizard.context import WizardContext
from app.wizard.deploy_page import DeployPage
from app.wizard.part_page import PartPage
from app.wizard.review_page import ReviewPage
from app.wizard.train_page import TrainPage
from app.wizard.validate_page import ValidatePage
from core.store import RecipeStore


class TrainingWizard(QWizard):
    deployed = Signal(str, int)

    def __init__(self, store: RecipeStore | None = None, *, context: WizardContext | None = None,
                 camera_opener: Callable[[str], object] | None = None, parent=None) -> None:
        """``camera_opener``: how the Part and Collect pages open a camera SOURCE (see
        :class:`CameraFeed`); by default a grabber of the wizard's own."""
        super().__init__(parent)
        self.ctx = context or WizardContext(store or RecipeStore())
        self.setWindowTitle("LineInspector: train a model")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.feed = CameraFeed(self, opener=camera_opener)
        self.part = PartPage(self.ctx, self.feed)
        self.collect = CollectPage(self.ctx, self.feed)
        self.review = ReviewPage(self.ctx)
        self.train = TrainPage(self.ctx)
        self.validate = ValidatePage(self.ctx)
        self.deploy = DeployPage(self.ctx, self.deployed.emit)
        for page in (self.part, self.collect, self.review, self.train, self.validate, self.deploy):
            self.addPage(page)
        self.resize(1100, 800)
        self.finished.connect(lambda _result: self.shutdown())

    def shutdown(self) -> None:
        """Let a deploy under way finish; stop the camera and any training run (its
        checkpoint is kept for Resume)."""
        self.deploy.shutdown()
        self.train.shutdown()
        self.feed.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
