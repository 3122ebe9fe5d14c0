"""`lineinspector`: the operator's live inspection window.

With no arguments it opens the simulated production line with the demo recipe (installed
into the data folder on first run from ``resources/demo``).
"""

from __future__ import annotations

import argparse
import logging
import sys

DEFAULT_RECIPE = "demo"


def build_parser() -> argparse.ArgumentParser:
    from core.camera.delivery import DeliveryMode

    p = argparse.ArgumentParser(prog="lineinspector", description="LineInspector live inspection window")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe to start with (default: demo)")
    p.add_argument("--source", default=None,
                   help="camera SOURCE overriding the recipe's (sim, sim:fps=20, a folder, a video, "
                        "genicam:SERIAL); default: the recipe's source, else the simulated line")
    p.add_argument("--data-dir", default=None, help="data folder (recipes, results, archive, snapshots)")
    p.add_argument("--mode", choices=[m.value for m in DeliveryMode], default=DeliveryMode.LIVE.value,
                   help="live: inspect the newest frame, skip the rest; triggered: inspect every frame")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--no-start", action="store_true", help="open the window without starting inspection")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("--self-test", action="store_true",
                   help="headless check of this installation (demo model, simulated line, viky.cti "
                        "camera, results store, Qt); exit status 0 when all passed. Options after it "
                        "go to the self-test: lineinspector --self-test --help")
    p.add_argument("--startup-time", action="store_true",
                   help="print the seconds from process start to the window shown and to the first "
                        "inspection result, then quit (for benchmarks)")
    return p


PREFERRED_SIZE = (1440, 900)


def initial_size(avail_w: int, avail_h: int) -> tuple[int, int]:
    """The window's first size: the preferred one, shrunk to the screen's free area (a
    1366x768 panel PC gets the whole of it, task bar excluded)."""
    return min(PREFERRED_SIZE[0], avail_w), min(PREFERRED_SIZE[1], avail_h)


def show_splash(app):
    """A splash shown at once, before torch, the model and the camera load (several seconds)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPixmap
    from PySide6.QtWidgets import QSplashScreen

    pixmap = QPixmap(420, 160)
    pixmap.fill(QColor("#202124"))
    splash = QSplashScreen(pixmap)
    splash.showMessage("LineInspector\n\nLoading the model and opening the camera…",
                       Qt.AlignmentFlag.AlignCenter, QColor("#e8eaed"))
    splash.show()
    app.processEvents()
    return splash


def create_window(args: argparse.Namespace, splash=None):
    """Build the controller and the window (a QApplication must exist)."""
    import pyqtgraph as pg

    from app.window import MainWindow
    from app.workers.session_controller import SessionController

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    if splash is not None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QColor

        splash.showMessage("LineInspector\n\nOpening the window…", Qt.AlignmentFlag.AlignCenter,
                           QColor("#e8eaed"))
    controller = SessionController(args.data_dir, source=args.source, mode=args.mode, device=args.device)
    window = MainWindow(controller, args.recipe)
    window.refresh_recipes()
    if not args.no_start:
        window.start(args.recipe)
    return window


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from core.settings_env import SettingError, check_environment

    try:
        check_environment()  # a bad LINEINSPECTOR_* number: one line, before any window opens
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if "--self-test" in argv:  # headless: the core checks run before anything imports Qt
        from app.diagnostics import qt_check
        from core.selftest import run_self_test

        rest = [a for a in argv if a != "--self-test"]
        return run_self_test(rest, extra_checks=[("qt", qt_check)])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LineInspector")
    _set_icon(app)
    splash = show_splash(app)
    window = create_window(args, splash)
    screen = app.primaryScreen()
    avail = screen.availableGeometry() if screen is not None else None
    window.resize(*initial_size(avail.width(), avail.height()) if avail else PREFERRED_SIZE)
    timer = None
    if args.startup_time:
        from app.diagnostics import StartupTimer

        timer = StartupTimer(window, app, wait_result_s=0.0 if args.no_start else 60.0)
    window.show()
    splash.finish(window)
    if not args.startup_time:
        window.roles.offer_first_admin()  # first start: no administrator yet
    rc = app.exec()
    if timer is not None:
        return 0 if timer.shown_s is not None and (args.no_start or timer.result_s is not None) else 1
    return rc


def _set_icon(app) -> None:
    from pathlib import Path

    from PySide6.QtGui import QIcon

    icon = Path(__file__).resolve().parents[1] / "resources" / "icons" / "lineinspector.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


if __name__ == "__main__":
    sys.exit(main())
