"""Step 6, Deploy: save the model as a new version of the recipe, with its validation
figures, and activate it; the previous version stays available for rollback."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWizardPage

from app.wizard.context import WizardContext
from app.wizard.qtutil import message_label, show_message
from core.store import StoreError, Thresholds


def deploy(ctx: WizardContext) -> int:
    """Add the trained bundle as a new version, activate it with the proposed limits; returns
    the version. On any error the recipe's active model is left as it was."""
    store, name = ctx.store, ctx.recipe_name
    if ctx.bundle is None or not ctx.bundle.is_file():
        raise StoreError("no trained model to deploy: train it first")
    trained_from = str(ctx.work_dir / "samples")
    validation = ctx.validation or {}
    if ctx.is_new and not store.exists(name):
        store.create(name, source=ctx.source, roi=ctx.roi, preprocessing=ctx.preprocessing,
                     false_reject_target=ctx.false_reject)
    else:
        recipe = store.get(name, check_model=False)
        if recipe.roi != ctx.roi or recipe.camera.source != ctx.source:
            recipe.roi, recipe.camera.source = ctx.roi, ctx.source
            store.save(recipe)  # the new model was trained on this ROI; the old one stays active
    version = store.add_version(name, ctx.bundle, trained_from=trained_from, validation=validation)
    recipe = store.activate(name, version)
    proposed = validation.get("thresholds")
    if proposed:
        recipe.thresholds = Thresholds(proposed["ok_limit"], proposed["ng_limit"], proposed["pixel"])
        store.save(recipe)
    return version


class DeployPage(QWizardPage):
    def __init__(self, ctx: WizardContext, on_deployed: Callable[[str, int], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_deployed = on_deployed
        self.setTitle("6. Deploy")
        self.setSubTitle("Save the model as a new version of the recipe and make it active. "
                         "The live view switches to it; the previous version stays available "
                         "for rollback.")
        self.summary = QLabel(wordWrap=True)
        self.deploy_button = QPushButton("Deploy and activate")
        self.deploy_button.setMinimumHeight(40)
        self.message = message_label()
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(self.deploy_button)
        col.addWidget(self.message)
        col.addStretch(1)
        self.deploy_button.clicked.connect(self.deploy)

    def initializePage(self) -> None:
        ctx = self.ctx
        ctx.deployed_version = None
        v = ctx.validation or {}
        t = v.get("thresholds", {})
        lines = [f"<b>Recipe:</b> {ctx.recipe_name} ({'new' if ctx.is_new else 'retrained'})",
                 f"<b>Camera:</b> {ctx.source}; <b>ROI:</b> {ctx.roi}",
                 f"<b>Model:</b> {ctx.bundle}"]
        if t:
            lines.append(f"<b>Limits:</b> OK below {t['ok_limit']:.4f}, NG from {t['ng_limit']:.4f}")
        if "auroc" in v:
            lines.append(f"<b>AUROC:</b> {v['auroc']:.3f} on {v['defects']} defective image(s)")
        if not ctx.is_new and ctx.store.exists(ctx.recipe_name):
            try:
                active = ctx.store.get(ctx.recipe_name, check_model=False).active_version
            except StoreError:
                active = None
            if active is not None:
                lines.append(f"Version {active} is active now; it stays available for rollback.")
        self.summary.setText("<br>".join(lines))
        self.deploy_button.setEnabled(True)
        self.message.clear()

    def deploy(self) -> bool:
        try:
            version = deploy(self.ctx)
        except (StoreError, OSError, ValueError) as exc:
            show_message(self.message, f"deploy failed, the active model is unchanged: {exc}", error=True)
            return False
        self.ctx.deployed_version = version
        self.deploy_button.setEnabled(False)
        show_message(self.message, f"version {version} of '{self.ctx.recipe_name}' is active. "
                                   + ("" if version == 1 else f"Earlier versions stay available for rollback."))
        self.on_deployed(self.ctx.recipe_name, version)
        self.completeChanged.emit()
        return True

    def isComplete(self) -> bool:
        return self.ctx.deployed_version is not None
