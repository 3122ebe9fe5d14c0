"""Screenshot of the live window showing a flagged (NG) part.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py --out docs/screenshot-live.png

Opens the window on the simulated line with the demo recipe (in a temporary data folder
unless --data-dir is given), waits for an NG verdict on a part with a defect outline (and,
on the simulated line, a real defect), freezes that frame and saves the
window as seen by the X server (or the widget's own rendering without one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the live window with an NG part")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshot-live.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--recipe", default="demo")
    ap.add_argument("--source", default=None)
    ap.add_argument("--size", default="1440x900", help="window size WxH")
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="lineinspector-shot-")
    app = QApplication.instance() or QApplication([])
    cli = ["--data-dir", str(data_dir), "--recipe", args.recipe]
    if args.source:
        cli += ["--source", args.source]
    window = create_window(build_parser().parse_args(cli))
    w, h = (int(v) for v in args.size.lower().split("x"))
    window.resize(w, h)
    window.show()
    outcome = {"rc": 1}

    def grab() -> None:
        outcome["rc"] = 0 if save_widget(window, args.out) else 1
        window.close()
        app.quit()

    def ready() -> bool:
        shown = window.presenter.displayed_result()
        return shown is not None and str(shown.verdict) == "NG" and window.presenter.result.seq > 40 \
            and shown.defect_pixels() > 0 and bool(shown.frame.metadata.get("defect_type", "?"))

    def on_ready() -> None:
        window.toolbar.freeze_action.setChecked(True)
        QTimer.singleShot(1500, grab)  # let plots and status catch up

    run_until(app, window, ready, on_ready, args.timeout, "no NG part seen before the timeout")
    return outcome["rc"]


def save_widget(widget, out: Path) -> bool:
    """Save ``widget`` as the X server shows it (or its own rendering without one)."""
    from PySide6.QtWidgets import QApplication

    platform = QApplication.platformName()
    pix = widget.screen().grabWindow(widget.winId()) if platform == "xcb" else widget.grab()
    if pix.isNull():
        pix = widget.grab()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not pix.save(str(out)):
        return False
    print(f"saved {out} ({pix.width()}x{pix.height()}, platform {platform})")
    return True


def run_until(app, window, ready: Callable[[], bool], on_ready: Callable[[], None], timeout: float,
              timeout_message: str) -> None:
    """Run the event loop; call ``on_ready`` once ``ready()`` holds (polled every 100 ms), or
    close the window with ``timeout_message`` after ``timeout`` seconds."""
    from PySide6.QtCore import QTimer

    start = time.monotonic()

    def poll() -> None:
        if ready():
            timer.stop()
            on_ready()
        elif time.monotonic() - start > timeout:
            print(timeout_message, file=sys.stderr)
            timer.stop()
            window.close()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    app.exec()


if __name__ == "__main__":
    sys.exit(main())
