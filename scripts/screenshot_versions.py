"""Screenshot of the *Model versions* dialog, with a real second version to roll back from.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_versions.py \\
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree


def _write(path: Path, image) -> Path:
    from core.io.images import write_image_atomic

    write_image_atomic(path, image)
    return path


def deploy_quick_version(store, steps: int, n_good: int = 24, n_defects: int = 8) -> int:
    """Train, validate and deploy a `tiny` model of the simulated line as the demo's next
    version, with its samples where the wizard keeps them (``<data>/training/demo``)."""
    from app.wizard.context import WizardContext
    from app.wizard.deploy_page import deploy
    from core.camera.sim.line import SimLineConfig, SimLineRenderer
    from core.demo import DEMO_NAME
    from core.evaluation.datasets import Sample
    from core.evaluation.validation import validate
    from core.inference.bundle import BUNDLE_FILE
    from core.inference.load import load_model
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
    res = train_to_bundle(paths[:-6], ctx.run_dir / BUNDLE_FILE, settings)
    result = validate(load_model(res.bundle, "reference", "cpu", threads=1), held_out, defects)
    ctx.result, ctx.validation = {"bundle": str(res.bundle)}, result.summary()
    # a poor model on purpose (a few tiny steps): deployed with a reason, as the wizard allows
    return deploy(ctx, "quick second version for the model versions screenshot")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the model versions dialog")
    ap.add_argument("--out", type=Path, default=Path("docs/model-versions.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--steps", type=int, default=30, help="training steps of the second version")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window
    from core.demo import DEMO_NAME, ensure_demo_recipe
    from core.store import RecipeStore
    from scripts.screenshot import run_until, save_widget

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
    outcome = {"rc": 1}
    active = store.get(DEMO_NAME).active_version

    def grab() -> None:
        outcome["rc"] = 0 if save_widget(window.models.versions, args.out) else 1
        window.close()
        app.quit()

    def ready() -> bool:
        r = window.presenter.displayed_result()
        return r is not None and r.model_version == active and window.presenter.result.seq > 5

    def on_ready() -> None:
        window.toolbar.versions_action.trigger()
        window.models.versions.select_version(active - 1)  # the earlier one: Activate rolls back to it
        QTimer.singleShot(1000, grab)

    run_until(app, window, ready, on_ready, args.timeout, "the live window did not inspect in time")
    return outcome["rc"]


if __name__ == "__main__":
    sys.exit(main())
