"""`lineinspect predict MODEL IMAGE_OR_DIR --out DIR`: overlays and a CSV of verdicts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.cli.backend_opt import add_backend_argument, load_for_cli
from core.cli.main import CliError


def register(sub) -> None:
    p = sub.add_parser("predict", help="score images, write heat-map overlays and a CSV")
    p.add_argument("model", type=Path, help="model bundle (.limodel), or an exported .onnx / .xml")
    p.add_argument("input", type=Path, help="an image or a folder of images")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--recursive", action="store_true", help="search sub-folders too")
    p.add_argument("--ok-limit", type=float, help="override the bundle's OK limit")
    p.add_argument("--ng-limit", type=float, help="override the bundle's NG limit")
    p.add_argument("--device", default="auto")
    add_backend_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from core.atomic import atomic_write_text
    from core.cli.progress import ProgressBar
    from core.display import render_overlay
    from core.io.images import ImageReadError, list_images, read_image, write_image_atomic
    from core.recipe import check_limits, verdict_for

    if not args.input.exists():
        raise CliError(f"input not found: {args.input}")
    paths = [args.input] if args.input.is_file() else list_images(args.input, args.recursive)
    if not paths:
        raise CliError(f"no images found in {args.input}")
    inf = load_for_cli(args)
    thr = inf.thresholds
    ok = args.ok_limit if args.ok_limit is not None else thr.get("ok_limit", 0.5)
    ng = args.ng_limit if args.ng_limit is not None else thr.get("ng_limit", max(ok, 0.5))
    try:
        check_limits(ok, ng)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    pix = thr.get("pixel", 0.5)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, skipped = [], []
    bar = ProgressBar("predict")
    for i, path in enumerate(paths, 1):
        try:
            image = read_image(path)
        except ImageReadError as exc:
            skipped.append((path, str(exc)))
            continue
        pred = inf.predict(image)
        verdict = verdict_for(pred.score, ok, ng)
        name = f"{path.stem}_overlay.png" if args.input.is_file() else \
            f"{str(path.relative_to(args.input).with_suffix('')).replace('/', '__')}_overlay.png"
        write_image_atomic(args.out / name, render_overlay(image, pred.anomaly_map, 0.45, pix))
        rows.append([str(path), f"{pred.score:.6f}", str(verdict), name])
        bar.update(i, len(paths), force=i == len(paths))
    bar.close()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["image", "score", "verdict", "overlay"])
    w.writerows(rows)
    atomic_write_text(args.out / "scores.csv", buf.getvalue())
    for path, why in skipped:
        print(f"skipped {path}: {why}")
    counts = {v: sum(r[2] == v for r in rows) for v in ("OK", "REVIEW", "NG")}
    print(f"{len(rows)} images scored (OK {counts['OK']}, REVIEW {counts['REVIEW']}, NG {counts['NG']}; "
          f"limits {ok:.4f}/{ng:.4f}); wrote {args.out / 'scores.csv'}")
    if skipped and not rows:
        return 1
    return 0
