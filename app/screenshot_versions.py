"""Screenshot of the *Model versions* dialog, with a real second version to roll back from.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m app.screenshot_versions \\
        --out docs/model-versions.png

In a temporary data folder (unless --data-dir is given): installs the demo recipe (v1), trains
a quick second version on good frames of the simulated line (the `tiny` preset for --steps
steps, so it is a poor model), validates it on held-out good and defective frames and deploys
it the way the training wizard does (v2, active). Then opens the live window, waits until it
inspects with v2, opens *Model versions…*, selects v1 (ready to roll back) and saves the
dialog as the X server shows it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def _write(path: Path, image) -> Path:
    from core.io.images import write_image_atomic

    write_image_atomic(path, image)
    return path


def deploy_quick_version(store, steps: int, n_good: int = 24, n_defects: int = 8) -> int:
    """Train, validate and deploy a `tiny` model of the simulated line as the demo's next
    version, with its samples where the wizard keeps them (``<data>/training/demo``)."""
    from app.first_run import DEMO_NAME
    from app.wizard.context import WizardContext
    from app.wizard.deploy_page import deploy
    from app.wizard.validation import validate
    from core.camera.simline import SimLineConfig, SimLineRenderer
    from core.evaluation.datasets import Sample
    from core.inference.inferencer import Inferencer
    from core.training.pipeline import train_to_bundle
    from core.training.presets import get_preset
    from core.training.trainer import TrainSettings

    recipe = store.get(DEMO_NAME, check_model=False)
    ctx = WizardContext(store, source=recipe.camera.source or "sim", recipe_name=DEMO_NAME,
                        is_new=False, roi=recipe.roi, preprocessing=recipe.preprocessing)
    good = SimLineRenderer(SimLineConfig(seed=0, defect_rate=0.0))
    bad = SimLineRenderer(SimLineConfig(seed=0, defect_rate=1.0))
    paths = [_write(ctx.work_dir / "samples" / f"{i}.png", good.render(200_000 + i)[0])
             for i in range(n_good)]
    defects = [Sample(_write(ctx.work_dir / "defects" / f"{i}.png", bad.render(210_000 + i)[0]),
                      1, "defect", None) for i in range(n_defects)]
    held_out = paths[-6:]
    settings = TrainSettings(get_preset("tiny"), steps=steps, workers=0, device="cpu", threads=1)
    res = train_to_bundle(paths[:-6], ctx.run_dir / "model.limodel", settings)
    result = validate(Inferencer.from_bundle(res.bundle, device="cpu", threads=1), held_out, defects)
    ctx.result, ctx.validation = {"bundle": str(res.bundle)}, result.summary()
    return deploy(ctx)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the model versions dialog")
    ap.add_argument("--out", type=Path, default=Path("docs/model-versions.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--steps", type=int, default=30, help="training steps of the second version")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.first_run import DEMO_NAME, ensure_demo_recipe
    from app.main import build_parser, create_window
    from core.store import RecipeStore

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lineinspector-shot-"))
    store = RecipeStore(data_dir)
    ensure_demo_recipe(store)
    if len(store.versions(DEMO_NAME)) < 2:
        version = deploy_quick_version(store, args.steps)
        print(f"deployed a quick second version: v{version}")
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), "--recipe", DEMO_NAME]))
    window.resize(1440, 900)
    window.show()
    start = time.monotonic()
    outcome = {"rc": 1}
    active = store.get(DEMO_NAME).active_version

    def grab() -> None:
        dialog = window.models.versions
        pix = window.screen().grabWindow(dialog.winId()) if QApplication.platformName() == "xcb" \
            else dialog.grab()
        if pix.isNull():
            pix = dialog.grab()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if pix.save(str(args.out)):
            print(f"saved {args.out} ({pix.width()}x{pix.height()}, platform {QApplication.platformName()})")
            outcome["rc"] = 0
        window.close()
        app.quit()

    def poll() -> None:
        r = window.presenter.displayed_result()
        if r is not None and r.model_version == active and window.presenter.result.seq > 5:
            timer.stop()
            window.toolbar.versions_action.trigger()
            dialog = window.models.versions
            dialog.select_version(active - 1)  # the earlier version: Activate rolls back to it
            QTimer.singleShot(1000, grab)
        elif time.monotonic() - start > args.timeout:
            print("the live window did not inspect in time", file=sys.stderr)
            timer.stop()
            window.close()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    app.exec()
    return outcome["rc"]


if __name__ == "__main__":
    sys.exit(main())
