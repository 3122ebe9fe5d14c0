"""Screenshot of the live window with the reject gallery showing NG / REVIEW parts.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_gallery.py --out docs/screenshot-gallery.png \
        --part-out docs/screenshot-gallery-part.png

Opens the window on the simulated line with the demo recipe (in a temporary data folder
unless --data-dir is given), waits until the gallery holds a few NG / REVIEW parts and the
live view shows an NG, freezes the display and saves the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree

from scripts.screenshot import run_until, save_widget  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the window with the reject gallery")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshot-gallery.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--recipe", default="demo")
    ap.add_argument("--size", default="1366x768", help="window size WxH")
    ap.add_argument("--part-out", type=Path, default=None,
                    help="also save the enlarged view of the newest part here")
    ap.add_argument("--parts", type=int, default=6, help="gallery parts to wait for")
    ap.add_argument("--timeout", type=float, default=240.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="lineinspector-gallery-")
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir),
                                                      "--recipe", args.recipe]))
    w, h = (int(v) for v in args.size.lower().split("x"))
    window.resize(w, h)
    window.show()
    strip = window.gallery.strip
    outcome = {"rc": 1}

    def finish() -> None:
        window.close()
        app.quit()

    def grab_part(view) -> None:
        if not save_widget(view, args.part_out):
            outcome["rc"] = 1
        finish()

    def open_part(_user=None, error=None) -> None:
        if error:
            print(f"sign-in failed: {error}", file=sys.stderr)
        view = window.gallery.open(strip.visible_records()[0])
        view.resize(820, 520)
        QTimer.singleShot(1500, lambda: grab_part(view))  # the image is read in a worker

    def grab() -> None:
        outcome["rc"] = 0 if save_widget(window, args.out) else 1
        if args.part_out is None:
            finish()
            return
        # as an engineer, so that the view shows the mark buttons (an account of this folder)
        from core.auth import Actor, UserStore

        UserStore(data_dir).add("eva", "engineer", "24680", by=Actor("screenshot", "administrator"))
        window.roles.gate.sign_in("eva", "24680", open_part)

    def ready() -> bool:
        shown = window.presenter.displayed_result()
        return (len(strip.visible_records()) >= args.parts and shown is not None
                and str(shown.verdict) == "NG" and shown.defect_pixels() > 0)

    def on_ready() -> None:
        window.toolbar.freeze_action.setChecked(True)
        QTimer.singleShot(1500, grab)  # let plots, counters and the strip catch up

    run_until(app, window, ready, on_ready, args.timeout,
              "not enough NG / REVIEW parts before the timeout")
    return outcome["rc"]


if __name__ == "__main__":
    sys.exit(main())
