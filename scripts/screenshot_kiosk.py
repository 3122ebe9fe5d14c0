"""Screenshot of the operator kiosk (F11) on the demo recipe.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_kiosk.py \\
        --out docs/screenshot-kiosk.png

Opens the window on the simulated line with the demo recipe (in a temporary data folder
unless --data-dir is given), switches to operator mode (full screen: image, verdict,
counters, and only the operator's actions), waits for a few dozen parts and saves the screen
as the X server shows it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the operator kiosk")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshot-kiosk.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window
    from scripts.screenshot import run_until, save_widget

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="lineinspector-kiosk-")
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), "--recipe", "demo"]))
    window.roles.confirm = lambda _title, _text: True  # closing at the end: no question
    window.show()
    window.set_operator_mode(True)
    window.setGeometry(app.primaryScreen().geometry())  # bare Xvfb has no window manager to do it
    saved: list[bool] = []

    def grab() -> None:  # save, then end the event loop run_until started
        saved.append(save_widget(window, args.out))
        window.close()
        app.quit()

    run_until(app, window, lambda: window.presenter.result is not None and window.presenter.result.seq > 60,
              lambda: QTimer.singleShot(1500, grab), args.timeout, "no inspection results before the timeout")
    return 0 if saved and saved[0] else 1


if __name__ == "__main__":
    sys.exit(main())
