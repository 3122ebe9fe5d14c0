"""The window's roles: who is signed in, what each role may reach, the operator kiosk, and the
confirmations of destructive actions.

Every engineering action of the window goes through here, and from here through one
:class:`~app.auth.gate.RoleGate`, so each place asks the same way: an operator finds those
actions disabled (and a refusal said in the status bar if reached anyway); a change is applied
only once its audit entry is written (in the gate's worker thread, never on the inspection
path). Confirmations use ``confirm(title, text) -> bool`` (a QMessageBox; stubbed in tests):
inspection runs on its own threads meanwhile.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app.auth.dialogs import CLI_HINT, FirstAdminDialog, ReasonDialog, SignInDialog
from app.auth.gate import RoleGate
from app.auth.kiosk import apply_view
from core.auth import AuthError, Role
from core.recipe import Thresholds

log = logging.getLogger(__name__)


class WindowRoles(QObject):
    def __init__(self, window, controller, gate: RoleGate | None = None) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self.gate = gate or RoleGate(controller.data_dir, parent=self)
        self.kiosk = False
        self.confirm = self._ask  # (title, text) -> bool; replaced in tests
        self.dialog = None  # the sign-in / reason / first-start dialog open now
        self.user_label = QLabel("", objectName="userLabel")
        window.status.addPermanentWidget(self.user_label)
        tb = window.toolbar
        tb.sign_in_action.triggered.connect(self.sign_in_or_out)
        tb.users_action.triggered.connect(self.open_users)
        self.gate.changed.connect(self.refresh)
        self.gate.denied.connect(window.show_error)
        window.thresholds.lockChanged.connect(self._on_unlock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.gate)  # any click or key restarts the idle countdown
        if self.gate.settings_error:
            window.show_error(f"Station settings not used (defaults in force): "
                              f"{self.gate.settings_error}")

    # --- the view of the current role -----------------------------------------------------
    def refresh(self) -> None:
        """Redraw what the current role (and the kiosk) may reach."""
        g = self.gate
        name = g.user_name
        self.user_label.setText(f"Signed in: {name} ({g.role.label})" if name
                                else "Operator (nobody signed in)")
        self.window.toolbar.sign_in_action.setText(f"Sign out ({name})" if name else "Sign in…")
        apply_view(self.window, g, self.kiosk)
        w = self.window
        if name is None:
            for dialog in (w.models.versions, w.line_io.dialog, w.recipe_settings.dialog,
                           w.audit_actions.dialog):
                if dialog is not None:  # engineering pages close with the session
                    dialog.close()
        # the training wizard is hidden instead (its training goes on) and comes back
        w.models.wizard_for_role(not self.kiosk and g.allowed("train"))

    def _on_unlock(self, locked: bool) -> None:
        if not locked and not self.gate.check("thresholds"):
            self.window.thresholds.lock_box.setChecked(True)

    # --- sign in / out, first start, users --------------------------------------------------
    def sign_in_or_out(self) -> None:
        if self.gate.user_name:
            self.gate.sign_out()
        else:
            self.ask_sign_in()

    def ask_sign_in(self, why: str = "", then=None) -> SignInDialog:
        dialog = SignInDialog(self.gate, why, parent=self.window)
        if then is not None:
            dialog.signedIn.connect(lambda _name: then())
        self._open(dialog)
        return dialog

    def offer_first_admin(self) -> FirstAdminDialog | None:
        """First start: offer to create the administrator (once per start; Skip says the CLI way)."""
        try:
            needed = self.gate.users.needs_admin()
        except AuthError as exc:
            self.window.show_error(str(exc))
            return None
        if not needed:
            return None
        dialog = FirstAdminDialog(self.gate, parent=self.window)
        dialog.created.connect(lambda name: self.window.status.notify(
            f"Administrator '{name}' created: Sign in… to add engineers", 15000))
        dialog.rejected.connect(lambda: self.window.status.notify(
            f"No administrator yet. {CLI_HINT}", 30000))
        self._open(dialog)
        return dialog

    def open_users(self):
        if not self.gate.check("user_admin"):
            return None
        from app.auth.users_dialog import UsersDialog

        dialog = UsersDialog(self.gate, parent=self.window)
        dialog.show()
        self.dialog = dialog
        return dialog

    def _open(self, dialog) -> None:
        self.dialog = dialog
        dialog.open()  # window-modal without a nested wait: the live view keeps painting

    # --- the operator kiosk ---------------------------------------------------------------
    def set_kiosk(self, on: bool) -> None:
        """Entering signs the engineer out; leaving needs an engineer to sign in."""
        w = self.window
        if on == self.kiosk:
            w.toolbar.operator_action.setChecked(on)
            return
        if not on and self.gate.role < Role.ENGINEER:
            w.toolbar.operator_action.setChecked(True)
            self.ask_sign_in("Leaving operator mode needs an engineer or administrator.",
                             then=lambda: self._leave_kiosk())
            return
        if on:
            self.gate.sign_out()
        self.kiosk = on
        w.toolbar.operator_action.setChecked(on)
        if on:
            w.showFullScreen()
        elif w.isFullScreen():
            w.showNormal()
        self.refresh()

    def _leave_kiosk(self) -> None:
        if self.gate.role >= Role.ENGINEER:
            self.set_kiosk(False)

    # --- engineering actions --------------------------------------------------------------
    def guarded(self, action: str, fn):
        """``fn`` behind the role check (pages that record nothing by being opened)."""
        return lambda *_: fn() if self.gate.check(action) else None

    def apply_thresholds(self, t: Thresholds) -> None:
        """Apply asks why; the entry is written, then the thresholds saved; the session locks."""
        if not self.gate.check("thresholds"):
            return
        recipe = self.window.recipe_name
        old = self.window.thresholds.applied()
        dialog = ReasonDialog("Apply thresholds", f"Apply OK < {t.ok_limit:.4g}, NG >= "
                              f"{t.ng_limit:.4g}, pixel {t.pixel:.4g} to recipe '{recipe}'. "
                              "Why? (kept in the audit trail; you are signed out afterwards)",
                              parent=self.window)
        dialog.given.connect(lambda reason: self.gate.perform(
            "thresholds", lambda: self.controller.apply_thresholds(t), target=recipe,
            old=dataclasses.asdict(old) if old else None, new=dataclasses.asdict(t),
            reason=reason))
        self._open(dialog)

    def reset_counters(self) -> None:
        counters = self.controller.counters
        if not self.gate.check("counter_reset"):
            return
        snap = counters.snapshot()
        if not self.confirm("Reset counters", f"Zero the counters of '{snap.recipe or '-'}' for "
                            f"the rest of this shift ({snap.inspected} parts inspected)?"):
            return
        self.gate.perform("counter_reset", counters.reset, target=snap.recipe or None,
                          old={"inspected": snap.inspected, "ok": snap.ok,
                               "review": snap.review, "ng": snap.ng}, new=None)

    def activate_version(self, recipe: str, version: int) -> None:
        """The versions dialog's Activate: an earlier version is a rollback (confirmed)."""
        try:
            active = self.controller.recipes.get(recipe, check_model=False).active_version
        except Exception as exc:  # a broken recipe: said, nothing done
            self.window.show_error(str(exc))
            return
        if active is not None and version < active and not self.confirm(
                "Roll back", f"Roll '{recipe}' back from model v{active} to v{version}? "
                "Inspection switches to it without stopping."):
            self._refresh_versions()
            return
        if not self.gate.perform("rollback", lambda: self.controller.activate_version(recipe, version),
                                 target=recipe, old=active, new=version):
            self._refresh_versions()

    def _refresh_versions(self) -> None:
        if self.window.models.versions is not None:
            self.window.models.versions.refresh()

    def record_deploy(self, recipe: str, reason: str, bundle: str) -> None:
        """The wizard's Deploy (in its worker thread): role checked and entry written first."""
        try:
            old = self.controller.recipes.get(recipe, check_model=False).active_version
        except Exception:
            old = None
        self.gate.actions.perform("deploy", recipe, old=old, new={"bundle": bundle},
                                  reason=reason)

    def switch_recipe(self, name: str) -> None:
        old = self.window.recipe_name
        if not self.gate.perform("recipe_select", lambda: self.window.start(name), target=name,
                                 old=old, new=name, audit_as="recipe_switch"):
            self.window.refresh_recipes()  # the selector shows the recipe still running

    def save_recipe(self, dialog, old: dict, new: dict) -> None:
        """Recipe settings' Save: asks why; the entry (old and new of the changed settings)
        is written, then the recipe saved in the session controller's thread."""
        if not self.gate.check("recipe_edit"):
            return
        ask = ReasonDialog("Save recipe settings", f"{dialog.summary(old, new)} Why? (kept in "
                           "the audit trail)", parent=dialog)
        ask.given.connect(lambda reason: self.gate.perform(
            "recipe_edit", lambda: dialog.save(new), target=dialog.recipe.name, old=old, new=new,
            reason=reason))
        self._open(ask)

    def force_output(self, dialog, output, value, link) -> None:
        """Line I/O page: a forced output is recorded before it is driven."""
        self.gate.perform("line_io", lambda: dialog._force(output, value, link),
                          target=output.name, new={"value": value, "link": link},
                          audit_as="forced_output")

    def save_line_io(self, dialog, form: dict, restart: bool) -> None:
        """Line I/O page: a new configuration (mapping, deadline, links) is recorded with the
        old one before it is saved; one the page cannot read is saved (and refused) unrecorded."""
        from app.lineio.config_form import config_of
        from core.lineio.registry import LineConfigError

        try:
            new = config_of(form).to_dict()
        except (LineConfigError, ValueError, KeyError, TypeError):
            dialog._save(form, restart)  # its own message names the field; nothing changes
            return
        old = getattr(self.controller.line.config, "to_dict", lambda: None)()
        if not self.gate.perform("line_io", lambda: dialog._save(form, restart), target="line_io.toml",
                                 old=old, new=new, audit_as="line_io_config"):
            dialog.config.saved("not saved: sign in as an engineer first", restart)

    def may_close(self) -> bool:
        if not self.controller.running:
            return True
        return self.confirm("Close LineInspector", "Inspection is running. Stop it and close "
                            "the window?")

    def close(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.gate)
        self.gate.close()

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
