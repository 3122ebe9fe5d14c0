"""How long the wizard's Deploy step takes: add the trained bundle as a version, activate
it, write the proposed limits. Timed for the shipped demo model (fast widths) and for a
paper-width bundle (random weights, 390 MB), for a new recipe and for a retrained one.

    .venv/bin/python bench/deploy_time.py --repeat 3 --json bench/out/deploy_time.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._report import write_report  # noqa: E402
from core.demo import DEMO_MODEL  # noqa: E402


def paper_bundle(out: Path) -> Path:
    """The demo's metadata with paper widths and random weights."""
    from core.inference.bundle import read_bundle_meta, save_bundle
    from core.model.draem import DraemModel

    meta = read_bundle_meta(DEMO_MODEL)
    meta.update(recon_width=128, disc_width=64, preset="paper")
    meta["preset_settings"] = {**meta["preset_settings"], "name": "paper", "recon_width": 128,
                               "disc_width": 64}
    return save_bundle(out, DraemModel(128, 64, 3).state_dict(), meta)


def wizard_result(bundle: Path) -> tuple[dict, dict]:
    """What the Train and Validate pages leave for Deploy."""
    result = {"bundle": str(bundle), "meta": {"preset": "fast", "anomalies": "defects",
                                              "training": {"separability": {"auroc": 0.95, "spread": 0.1}}}}
    validation = {"thresholds": {"ok_limit": 0.25, "ng_limit": 0.26, "pixel": 0.5}, "auroc": 0.99}
    return result, validation


def deploy_once(data: Path, bundle: Path, recipe: str) -> float:
    """Seconds of one deploy through the wizard's own code path."""
    from app.wizard.context import WizardContext
    from app.wizard.deploy_page import deploy
    from core.store import RecipeStore

    store = RecipeStore(data)
    result, validation = wizard_result(bundle)
    ctx = WizardContext(store=store, source="sim", recipe_name=recipe, is_new=not store.exists(recipe),
                        result=result, validation=validation)
    t0 = time.perf_counter()
    deploy(ctx)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="deploys per case (1-20)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "deploy_time.json")
    args = ap.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        ap.error(f"--repeat must be 1-20, got {args.repeat}")
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundles = {"demo (fast widths)": DEMO_MODEL, "paper widths": paper_bundle(tmp / "paper.limodel")}
        for label, bundle in bundles.items():
            size = bundle.stat().st_size
            new, retrain = [], []
            for i in range(args.repeat):
                data = tmp / f"data-{label[:4]}-{i}"
                new.append(deploy_once(data, bundle, "part"))
                retrain.append(deploy_once(data, bundle, "part"))
            cases[label] = {"bundle_bytes": size, "new_recipe_s": [round(x, 3) for x in new],
                            "retrain_s": [round(x, 3) for x in retrain],
                            "new_recipe_median_s": round(statistics.median(new), 3),
                            "retrain_median_s": round(statistics.median(retrain), 3)}
            print(f"{label}: {size / 1e6:.1f} MB, new recipe {statistics.median(new):.2f} s, "
                  f"retrain {statistics.median(retrain):.2f} s (median of {args.repeat})")
    write_report(args.json, {"cases": cases})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
