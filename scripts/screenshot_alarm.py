"""Screenshot of the live window with an alarm banner, on the demo recipe.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_alarm.py \\
        --out docs/screenshot-alarm.png

In a temporary data folder (unless --data-dir is given) the demo recipe gets
``[alarms] consecutive_ng = 1`` (its first NG part raises the alarm), the station a shift
schedule and a lot; the window inspects the simulated line until an alarm is on the banner
and a few dozen parts are counted, then the window is saved as the X server shows it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree

SHIFTS = ('[[shift]]\nname = "early"\nstart = "06:00"\n[[shift]]\nname = "late"\nstart = "14:00"\n'
          '[[shift]]\nname = "night"\nstart = "22:00"\n')


def prepare(data_dir: Path) -> None:
    from core.demo import DEMO_NAME, ensure_demo_recipe
    from core.recipe.alarm_rules import AlarmRules
    from core.store.recipe_store import RecipeStore

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "station.toml").write_text(SHIFTS)
    store = RecipeStore(data_dir)
    ensure_demo_recipe(store)
    store.update(DEMO_NAME, lambda r: setattr(r, "alarms", AlarmRules(consecutive_ng=1)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the alarm banner")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshot-alarm.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window
    from scripts.screenshot import run_until, save_widget

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lineinspector-alarm-"))
    prepare(data_dir)
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), "--recipe", "demo"]))
    window.roles.confirm = lambda _title, _text: True  # closing at the end: no question
    window.controller.shift_context.set_lot("L-2026-0412")
    window.resize(1366, 768)
    window.move(0, 0)
    window.show()
    saved: list[bool] = []

    def grab() -> None:  # save, then end the event loop run_until started
        saved.append(save_widget(window, args.out))
        window.close()
        app.quit()

    def ready() -> bool:
        r = window.presenter.result
        return window.alarms.banner.isVisible() and r is not None and r.seq > 40

    run_until(app, window, ready, lambda: QTimer.singleShot(1500, grab), args.timeout,
              "no alarm on the banner before the timeout")
    return 0 if saved and saved[0] else 1


if __name__ == "__main__":
    sys.exit(main())
