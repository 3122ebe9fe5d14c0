"""`lineinspect eval MODEL DATA [--json FILE]`."""

from __future__ import annotations

import json
from pathlib import Path

from core.cli.backend_opt import add_backend_argument, load_for_cli
from core.cli.main import CliError

ORDER = ("image_auroc", "image_ap", "image_f1", "image_threshold", "f1_at_ok_limit", "f1_at_ng_limit",
         "pixel_auroc", "pixel_ap", "aupro", "pixel_f1", "pixel_threshold")


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a model on a test set (MVTec layout)")
    p.add_argument("model", type=Path, help="model bundle (.limodel), or an exported .onnx / .xml")
    p.add_argument("data", type=Path, help="dataset root (test/<type>/..., optional ground_truth/)")
    p.add_argument("--json", type=Path, help="also write the metrics as JSON")
    p.add_argument("--device", default="auto")
    add_backend_argument(p)
    p.add_argument("--calibrate", action="store_true",
                   help="write F1-optimal thresholds from this labelled set into the bundle "
                        "(NG limit and pixel threshold; the OK limit keeps its false-reject calibration)")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.cli.progress import ProgressBar
    from core.evaluation.evaluate import evaluate

    if not args.data.exists():
        raise CliError(f"data folder not found: {args.data}")
    inf = load_for_cli(args)
    bar = ProgressBar("eval")
    try:
        report = evaluate(inf, args.data, progress=lambda d, t: bar.update(d, t, force=d == t))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    bar.close()
    for path, why in report.skipped:
        print(f"skipped {path}: {why}")
    m = report.metrics
    print(f"{m['images']} images ({m['defective']} defective), {report.ms_per_image:.1f} ms/image")
    for key in ORDER:
        if m.get(key) is not None:
            print(f"  {key:<16} {m[key]:.4f}")
    if args.calibrate:
        _calibrate(args.model, report)
    if args.json:
        from core.atomic import atomic_write_text
        payload = {"model": str(args.model), "data": str(args.data), "metrics": m,
                   "ms_per_image": report.ms_per_image, "per_image": report.per_image,
                   "skipped": [[str(p), w] for p, w in report.skipped]}
        atomic_write_text(args.json, json.dumps(payload, indent=2))
        print(f"wrote {args.json}")
    return 0 if m["images"] else 1


def _calibrate(model: Path, report) -> None:
    from core.inference.bundle import load_bundle, save_bundle
    from core.evaluation.calibration import calibrate

    rows = report.per_image
    good = [r["score"] for r in rows if r["label"] == 0]
    bad = [r["score"] for r in rows if r["label"] == 1]
    if not good or not bad:
        raise CliError("--calibrate needs both good and defective test images")
    if model.suffix.lower() in (".onnx", ".xml"):
        raise CliError("--calibrate writes into a model bundle (.limodel), not an exported model")
    bundle = load_bundle(model)
    meta = dict(bundle.meta)  # the bundle's own (a backend's may carry export details)
    old = meta.get("thresholds") or {}
    fr = old.get("false_reject_target", 0.01)
    new = calibrate(good, fr, defect_scores=bad, pixel_threshold=report.metrics.get("pixel_threshold"))
    if old.get("ok_limit") is not None:  # keep the held-out good calibration of the OK limit
        new.ok_limit = min(old["ok_limit"], new.ng_limit)
    meta["thresholds"] = {**new.to_dict(), "false_reject_target": fr}
    save_bundle(model, bundle.state_dict, meta)  # the stored fp32 weights, unchanged
    print(f"updated thresholds in {model}: OK {new.ok_limit:.4f}, NG {new.ng_limit:.4f}, "
          f"pixel {new.pixel:.4f}")
