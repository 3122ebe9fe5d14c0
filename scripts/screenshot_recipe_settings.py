"""Screenshot of *Recipe settings…* over the live window, on the demo recipe.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_recipe_settings.py \\
        --out docs/screenshot-recipe-settings.png

In a temporary data folder (unless --data-dir is given) the demo recipe gets two alarm rules
(5 NG in a row, yield below 92 % over 200 parts) and an engineer is signed in; the window
inspects the simulated line, the dialog is opened from the toolbar, one number is changed (so
Save is offered) and the whole screen is saved as the X server shows it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree


def prepare(data_dir: Path) -> None:
    from core.auth import Actor, ScryptParams, UserStore
    from core.demo import DEMO_NAME, ensure_demo_recipe
    from core.recipe.alarm_rules import AlarmRules
    from core.store.recipe_store import RecipeStore

    data_dir.mkdir(parents=True, exist_ok=True)
    store = RecipeStore(data_dir)
    ensure_demo_recipe(store)
    rules = AlarmRules(consecutive_ng=5, yield_window=200, yield_below_pct=92.0)
    store.update(DEMO_NAME, lambda r: setattr(r, "alarms", rules))
    users = UserStore(data_dir, params=ScryptParams(n=16))  # cheap: re-hashed at sign-in
    if users.get("eva") is None:
        users.add("eva", "engineer", "1234", by=Actor("screenshot", "administrator"))


def grab_screen(app, out: Path) -> bool:
    """The whole screen: the window with the dialog over it."""
    pix = app.primaryScreen().grabWindow(0)
    out.parent.mkdir(parents=True, exist_ok=True)
    if pix.isNull() or not pix.save(str(out)):
        return False
    print(f"saved {out} ({pix.width()}x{pix.height()}, platform {app.platformName()})")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the recipe settings dialog")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshot-recipe-settings.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window
    from scripts.screenshot import run_until

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lineinspector-recipe-shot-"))
    prepare(data_dir)
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), "--recipe", "demo"]))
    window.roles.confirm = lambda _title, _text: True  # closing at the end: no question
    window.resize(1366, 768)
    window.move(0, 0)
    window.show()
    saved: list[bool] = []
    signed_in: list[bool] = []
    window.roles.gate.sign_in("eva", "1234", lambda user, error: signed_in.append(error is None))

    def grab() -> None:  # save, then end the event loop run_until started
        saved.append(grab_screen(app, args.out))
        window.close()
        app.quit()

    def ready() -> bool:
        r = window.presenter.result
        return bool(signed_in) and r is not None and r.seq > 30

    def on_ready() -> None:
        window.toolbar.recipe_settings_action.trigger()
        d = window.recipe_settings.dialog
        if d is None:
            print("the recipe settings dialog did not open", file=sys.stderr)
            grab()
            return
        d.adjustSize()
        d.move(max(0, (1366 - d.width()) // 2), max(0, (768 - d.height()) // 2))
        d.alarms.spins["consecutive_ng"].setValue(4)  # one change: Save is offered
        QTimer.singleShot(1500, grab)

    run_until(app, window, ready, on_ready, args.timeout, "the live window did not inspect in time")
    return 0 if saved and saved[0] else 1


if __name__ == "__main__":
    sys.exit(main())
