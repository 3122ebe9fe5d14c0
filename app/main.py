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
    p = argparse.ArgumentParser(prog="lineinspector", description="LineInspector live inspection window")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe to start with (default: demo)")
    p.add_argument("--source", default=None,
                   help="camera SOURCE overriding the recipe's (sim, sim:fps=20, a folder, a video, "
                        "genicam:SERIAL); default: the recipe's source, else the simulated line")
    p.add_argument("--data-dir", default=None, help="data folder (recipes, results, archive, snapshots)")
    p.add_argument("--mode", choices=("live", "triggered"), default="live",
                   help="live: inspect the newest frame, skip the rest; triggered: inspect every frame")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--no-start", action="store_true", help="open the window without starting inspection")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def create_window(args: argparse.Namespace):
    """Build the controller and the window (a QApplication must exist)."""
    import pyqtgraph as pg

    from app.window import MainWindow
    from app.workers.session_controller import SessionController

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    controller = SessionController(args.data_dir, source=args.source, mode=args.mode, device=args.device)
    window = MainWindow(controller, args.recipe)
    window.refresh_recipes()
    if not args.no_start:
        window.start(args.recipe)
    return window


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LineInspector")
    window = create_window(args)
    window.resize(1440, 900)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
