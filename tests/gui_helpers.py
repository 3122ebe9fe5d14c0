"""Fixtures-in-functions for the GUI tests: a data folder with a tiny model, and the window."""

from __future__ import annotations

import threading
from pathlib import Path

from core.recipe import Thresholds
from core.store.recipe_store import RecipeStore
from tests.inspection_fakes import make_tiny_bundle

SIM = "sim:fps=30,width=96,height=96,seed=2"
OUR_THREADS = ("grabber", "inspection-worker", "results-recorder", "results-writer", "session-control")


def make_data_dir(root: Path, thresholds: Thresholds = Thresholds(0.3, 0.6, 0.5)) -> Path:
    bundle = make_tiny_bundle(root / "tiny.limodel")
    RecipeStore(root / "data").create("demo", source=SIM, bundle=bundle, thresholds=thresholds)
    return root / "data"


def open_window(qtbot, data_dir: Path, *extra: str):
    from app.main import build_parser, create_window

    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), *extra]))
    qtbot.addWidget(window)
    # closing while inspecting asks first (a QMessageBox would wait for a click): say yes
    window.roles.confirm = lambda _title, _text: True
    window.resize(1280, 800)
    window.show()
    return window


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.is_alive() and t.name.startswith(OUR_THREADS)]


def add_user(data_dir: Path, name: str = "eva", role: str = "engineer", secret: str = "1234"):
    """An account made with cheap scrypt parameters (the station re-hashes at sign-in)."""
    from core.auth import Actor, ScryptParams, UserStore

    users = UserStore(data_dir, params=ScryptParams(n=16))
    if users.get(name) is None:
        users.add(name, role, secret, by=Actor("test", "administrator"))


def sign_in(qtbot, window, name: str = "eva", secret: str = "1234", role: str = "engineer"):
    """Sign ``name`` in through the window's sign-in dialog (the account is made first)."""
    from app.auth.dialogs import SignInDialog

    add_user(window.controller.data_dir, name, role, secret)
    dialog = window.roles.dialog  # the one the window opened (leaving the kiosk), else a new one
    if not (isinstance(dialog, SignInDialog) and dialog.isVisible()):
        dialog = window.roles.ask_sign_in()
    dialog.name.setText(name)
    dialog.secret.setText(secret)
    dialog.submit()
    qtbot.waitUntil(lambda: window.roles.gate.user_name == name and not dialog.isVisible(), timeout=10000)
    return dialog


def give_reason(qtbot, window, reason: str = "test") -> None:
    """Answer the reason dialog that Apply opened."""
    from app.auth.dialogs import ReasonDialog

    qtbot.waitUntil(lambda: isinstance(window.roles.dialog, ReasonDialog), timeout=5000)
    window.roles.dialog.reason.setText(reason)
    window.roles.dialog.submit()
