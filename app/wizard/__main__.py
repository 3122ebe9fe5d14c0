"""``python -m app.wizard [--data-dir DIR] [--source sim]``: the training wizard on its own."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.wizard", description="LineInspector training wizard")
    p.add_argument("--data-dir", default=None, help="data folder (recipes, training samples)")
    p.add_argument("--source", default="sim", help="camera SOURCE (sim, a folder, genicam:SERIAL)")
    p.add_argument("--preset", default=None, help="preset selected at first (default: fast, paper on a GPU)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    args = p.parse_args(argv)

    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from app.wizard.context import WizardContext, default_preset
    from app.wizard.wizard import TrainingWizard
    from core.store import RecipeStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    preset = args.preset or default_preset(args.device)
    ctx = WizardContext(RecipeStore(args.data_dir), source=args.source, preset=preset, device=args.device)
    wizard = TrainingWizard(context=ctx)
    wizard.deployed.connect(lambda name, v: print(f"deployed {name} version {v}"))
    wizard.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
