"""The demo: the model trained on the simulated line, shipped in ``resources/demo/``, and its
installation as the ``demo`` recipe into the data folder on first run. The one place that knows
where the demo model lives (the self-test, the first run, scripts/make_demo_model.py, bench
and tests use ``DEMO_MODEL``)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from core.inference.bundle import BUNDLE_FILE
from core.recipe import Recipe
from core.store.recipe_file import RECIPE_FILE
from core.store.recipe_store import RecipeStore

DEMO_NAME = "demo"
EVAL_FILE = "model_eval.json"
# under the source tree root, or under sys._MEIPASS in the frozen bundle (installer/lineinspector.spec)
DEMO_DIR = Path(__file__).resolve().parents[1] / "resources" / "demo"
DEMO_MODEL = DEMO_DIR / BUNDLE_FILE


def ensure_demo_recipe(store: RecipeStore, resources: Path = DEMO_DIR, name: str = DEMO_NAME) -> bool:
    """Create recipe ``name`` from ``resources`` unless it exists; True when it was created.

    ``resources`` holds ``model.limodel`` and optionally ``recipe.toml`` (camera source, ROI,
    preprocessing, thresholds; its name and active version are ignored).
    """
    if store.exists(name):
        return False
    bundle = resources / BUNDLE_FILE
    if not bundle.is_file():
        raise FileNotFoundError(f"the demo model {bundle} is missing; train it with the command in the "
                                f"README, or start with --recipe NAME")
    template = Recipe(name=name)
    recipe_file = resources / RECIPE_FILE
    if recipe_file.is_file():
        try:
            data = tomllib.loads(recipe_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{recipe_file}: not valid TOML ({exc})") from None
        data = {k: v for k, v in data.items() if k not in ("name", "active_version")}
        template = Recipe.from_dict(name, data)
    store.create(name, source=template.camera.source, settings=template.camera.settings,
                 roi=template.roi, preprocessing=template.preprocessing,
                 thresholds=template.thresholds, false_reject_target=template.false_reject_target,
                 bundle=bundle, trained_from=f"{resources} (simulated line, see README)",
                 validation=_demo_validation(resources / EVAL_FILE), deployed_by="first run")
    return True


def _demo_validation(path: Path) -> dict | None:
    """The demo model's evaluation (model_eval.json) as the version's validation figures."""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))["metrics"]
        return {"auroc": float(m["image_auroc"]), "pixel_auroc": float(m["pixel_auroc"]),
                "test_images": int(m["images"]), "defects": int(m["defective"]),
                "from": EVAL_FILE}
    except (OSError, ValueError, KeyError, TypeError):
        return None
