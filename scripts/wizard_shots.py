"""Screenshots of the Collect, Train and Validate steps for the docs (run under Xvfb):

    xvfb-run -a .venv/bin/python scripts/wizard_shots.py docs/

Walks the wizard on the simulated line with the tiny preset, in a temporary data folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree


SIZE = (1100, 820)   # LINEINSPECTOR_SHOTS_SIZE=1366x768 for a look at a small screen


def _wait(app, condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the wizard did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def main(out_dir: str = "docs") -> int:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from app.wizard.context import WizardContext
    from app.wizard.wizard import TrainingWizard
    from core.camera import open_source
    from core.recipe import Roi
    from core.store import RecipeStore

    global SIZE
    size = os.environ.get("LINEINSPECTOR_SHOTS_SIZE")
    if size:
        try:
            SIZE = tuple(int(v) for v in size.lower().split("x"))
        except ValueError:
            SIZE = ()
        if len(SIZE) != 2 or not all(200 <= v <= 8000 for v in SIZE):
            print(f"LINEINSPECTOR_SHOTS_SIZE must be WIDTHxHEIGHT in pixels, got {size!r}", file=sys.stderr)
            return 2
    out = Path(out_dir)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    pg.setConfigOptions(antialias=True)
    tmp = Path(tempfile.mkdtemp(prefix="wizard-shots-"))
    ctx = WizardContext(RecipeStore(tmp / "data"), source="sim:defect_rate=0,fps=30", preset="tiny",
                        steps=60, workers=0, device="cpu")
    w = TrainingWizard(context=ctx)
    w.resize(*SIZE)
    w.show()
    w.part.name_edit.setText("bracket-A")
    w.part.open_camera()
    _wait(app, lambda: w.feed.last is not None)
    w.part.set_roi(Roi(48, 48, 160, 160))
    app.processEvents()
    if len(sys.argv) > 2:
        w.grab().save(sys.argv[2])  # the Part page, for a look
    w.next()
    c = w.collect
    c.mode_combo.setCurrentIndex(1)
    c.every_spin.setValue(3)
    c.running_box.setChecked(True)
    _wait(app, lambda: len(c.folder) >= 24)
    w.grab().save(str(out / "wizard-collect.png"))
    c.running_box.setChecked(False)
    w.next()
    w.next()
    t = w.train
    _wait(app, lambda: "tiny" in t.seconds_per_step)  # the measured probe
    t.start()
    _wait(app, lambda: ctx.result is not None, 600)
    _wait(app, t.isComplete)
    w.grab().save(str(out / "wizard-train.png"))
    w.next()
    v = w.validate
    _wait(app, v.isComplete)
    defects = tmp / "defects"
    defects.mkdir()
    src = open_source("sim:defect_rate=1,seed=7")
    src.start()
    n = 0
    while n < 12:
        f = src.read(1.0)
        if f is not None:
            cv2.imwrite(str(defects / f"d{n:02d}.png"), f.image)
            n += 1
    src.close()
    v.set_defect_folder(defects)
    _wait(app, lambda: v.isComplete() and bool(v.result.defects))
    app.processEvents()
    w.grab().save(str(out / "wizard-validate.png"))
    w.next()   # Deploy: with 60 tiny steps the model usually cannot tell, and says so
    app.processEvents()
    w.grab().save(str(out / "wizard-deploy.png"))
    w.shutdown()
    print(f"screenshots in {out} (data in {tmp})")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
