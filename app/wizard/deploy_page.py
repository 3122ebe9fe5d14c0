"""Step 6, Deploy: save the model as a new version of the recipe, with its validation
figures, and activate it; the previous version stays available for rollback."""

from __future__ import annotations

import html
from typing import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWizardPage

from app.wizard.context import WizardContext
from app.wizard.model_choice import bundle_kind_name, kind_name, kind_of
from app.wizard.qtutil import message_label, show_message
from app.workers.background import Background
from core.recipe import RecipeError, Thresholds, TrainingConfig
from core.store import StoreError
from core.training.deploy_gate import MIN_REASON_CHARS, can_tell, deploy_record

def deploy(ctx: WizardContext, override_reason: str = "", reason: str = "") -> int:
    """Add the trained bundle as a new version, activate it with the proposed limits
    (one :meth:`RecipeStore.deploy`); returns the version. On any error the recipe's active
    model is left as it was. The gate (:mod:`core.training.deploy_gate`) refuses a model that
    cannot tell unless ``override_reason`` says why; the reason is kept with the version.
    Opened from the live window, ``ctx.record_deploy`` checks the role and writes the audit
    entry (with ``reason``) first: refused or not written, nothing is deployed."""
    if ctx.bundle is None or not ctx.bundle.is_file():
        raise StoreError("no trained model to deploy: train it first")
    validation = deploy_record(ctx.result, ctx.validation, override_reason)
    if ctx.record_deploy is not None:
        ctx.record_deploy(ctx.recipe_name, reason, str(ctx.bundle))
    meta = (ctx.result or {}).get("meta") or {}
    proposed = validation.get("thresholds")
    return ctx.store.deploy(
        ctx.recipe_name, ctx.bundle, source=ctx.source, roi=ctx.roi,
        preprocessing=ctx.preprocessing, false_reject_target=ctx.false_reject,
        training=TrainingConfig(str(meta.get("preset") or ctx.preset), str(meta.get("anomalies", "paper")),
                                kind_of(meta) if meta else ctx.model),
        thresholds=Thresholds.from_mapping(proposed) if proposed else None,
        trained_from=str(ctx.work_dir / "samples"), validation=validation)


class DeployPage(QWizardPage):
    def __init__(self, ctx: WizardContext, on_deployed: Callable[[str, int], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_deployed = on_deployed
        self.background = Background("deploy", self)
        self.setTitle("6. Deploy")
        self.setSubTitle("Save the model as a new version of the recipe and make it active. "
                         "The live view switches to it; the previous version stays available "
                         "for rollback.")
        self.separates = True
        self.summary = QLabel(wordWrap=True)
        self.warning = QLabel(wordWrap=True)
        self.warning.setStyleSheet("color: #c62828; font-weight: bold;")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why deploy this model anyway? (kept with the version)")
        self.reason.textChanged.connect(self._reason_changed)
        self.why = QLineEdit()  # the audit trail's reason (only from the live window)
        self.why.setPlaceholderText("Why deploy? Required: kept in the audit trail with your name")
        self.why.setVisible(ctx.record_deploy is not None)
        self.deploy_button = QPushButton("Deploy and activate")
        self.deploy_button.setMinimumHeight(40)
        self.message = message_label()
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(self.warning)
        col.addWidget(self.reason)
        col.addWidget(self.why)
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
                 f"<b>Model:</b> {self._kind()} · {ctx.bundle}"]
        if t:
            lines.append(f"<b>Limits:</b> OK below {t['ok_limit']:.4f}, NG from {t['ng_limit']:.4f}")
        if "auroc" in v:
            lines.append(f"<b>AUROC:</b> {v['auroc']:.3f} on {v['defects']} defective image(s)")
        if not ctx.is_new and ctx.store.exists(ctx.recipe_name):
            try:
                active = ctx.store.get(ctx.recipe_name, check_model=False).active_version
            except RecipeError:
                active = None
            if active is not None:
                lines.append(f"Version {active} is active now; it stays available for rollback.")
        separates, why = can_tell(ctx.result, ctx.validation)
        lines.append(f"<b>Can it tell?</b> {html.escape(why)}")
        self.summary.setText("<br>".join(lines))
        self.separates = separates
        self.warning.setVisible(not separates)
        self.reason.setVisible(not separates)
        self.reason.clear()
        if not separates:
            self.warning.setText("This model does not tell good parts from defects. Deploying it would "
                                 "pass defective parts. Train longer, or write below why it is "
                                 "deployed anyway.")
        self.deploy_button.setEnabled(separates)
        self.message.clear()

    def _kind(self) -> str:
        """'DSR' or 'DRÆM': from the training result's metadata, else from the bundle file."""
        meta = (self.ctx.result or {}).get("meta")
        return kind_name(meta) if meta else (bundle_kind_name(self.ctx.bundle) or "?")

    def _reason_changed(self, text: str) -> None:
        if not self.separates and self.ctx.deployed_version is None:
            self.deploy_button.setEnabled(len(text.strip()) >= MIN_REASON_CHARS)

    @property
    def deploying(self) -> bool:
        return self.background.busy

    def deploy(self) -> None:
        """Deploy off the GUI thread (copying and checking a large bundle takes a while); the
        button is disabled and "Deploying…" shown meanwhile, the outcome shown when done."""
        if self.deploying:
            return
        if self.ctx.record_deploy is not None and not self.why.text().strip():
            show_message(self.message, "Say why this model is deployed (the audit trail keeps "
                                       "the reason)", error=True)
            return
        was_enabled = self.deploy_button.isEnabled()
        self.deploy_button.setEnabled(False)
        self.reason.setEnabled(False)
        show_message(self.message, "Deploying…")
        self.completeChanged.emit()
        self.background.submit(deploy, self.ctx, self.reason.text(), self.why.text().strip(),
                               done=lambda version, error: self._deployed(version, error, was_enabled))

    def _deployed(self, version: int | None, error: str | None, was_enabled: bool) -> None:
        self.reason.setEnabled(True)
        if error is not None:
            self.deploy_button.setEnabled(was_enabled)
            show_message(self.message, f"deploy failed, the active model is unchanged: {error}", error=True)
            self.completeChanged.emit()
            return
        self.ctx.deployed_version = version
        show_message(self.message, f"version {version} of '{self.ctx.recipe_name}' is active. "
                                   + ("" if version == 1 else f"Earlier versions stay available for rollback."))
        self.on_deployed(self.ctx.recipe_name, version)
        self.completeChanged.emit()

    def shutdown(self) -> None:
        """Let a deploy under way finish (the wizard is closing); its outcome is still shown."""
        self.background.wait()

    def isComplete(self) -> bool:
        return self.ctx.deployed_version is not None and not self.deploying
