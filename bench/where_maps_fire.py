"""Where a model's anomaly maps fire on a labelled data set (not a test): a diagnosis.

    .venv/bin/python bench/where_maps_fire.py MODEL.limodel ../shared/datasets/magnetic_tile \
        --out bench/out/where_mt.json [--band 0.05] [--limit N]

For each test image (``test/<type>/``, masks from ``ground_truth/``) the model's map M_o is
smoothed (a mean filter of 4 % of the shorter side) and its maximum located. Reported:

* good images: the share whose maximum lies within ``--band`` of the shorter side from the
  frame's edge, overall and among the 20 highest-scoring good images (those that set the
  OK limit);
* defective images with a mask: the share whose maximum lies inside the defect, by type;
* image AUROC of the maximum with bands of 0, 3, 6 and 10 % of the frame left out: how
  much the edge costs. Leaving the edge out is *not* a fix (breaks and frays lie there);
  it only measures what the edge does to the score.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import whole_number, write_report  # noqa: E402
from core.evaluation.datasets import GOOD, read_mask, test_samples  # noqa: E402
from core.evaluation.metrics import roc_auc  # noqa: E402
from core.inference.load import load_model  # noqa: E402
from core.io.images import read_image  # noqa: E402

BANDS = (0.0, 0.03, 0.06, 0.10)


def _band(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction, got {text!r}") from None
    if not 0.0 < v < 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {v}")
    return v


def measure(amap: np.ndarray, mask: np.ndarray | None) -> dict:
    h, w = amap.shape
    k = max(3, int(round(0.04 * min(h, w))) | 1)
    smooth = cv2.blur(amap, (k, k))
    y, x = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    out = {"edge": min(y, x, h - 1 - y, w - 1 - x) / min(h, w),
           "max_without": [float(smooth[b:h - b, b:w - b].max())
                           for b in (int(f * min(h, w)) for f in BANDS)]}
    if mask is not None:
        out["max_in_defect"] = bool(mask[y, x])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--band", type=_band, default=0.05, help="edge band, a fraction of the shorter side")
    ap.add_argument("--limit", type=whole_number(100_000), help="at most this many images (a smoke run)")
    args = ap.parse_args()
    if not args.model.is_file() or not args.data.is_dir():
        print(f"not found: {args.model if not args.model.is_file() else args.data}", file=sys.stderr)
        return 2
    model = load_model(args.model, backend="pytorch")
    samples = test_samples(args.data)[: args.limit]
    rows = []
    for s in samples:
        amap = model.predict(read_image(s.path)).anomaly_map
        mask = read_mask(s, amap.shape) if s.mask_path is not None else None
        rows.append({"type": s.defect_type, **measure(amap, None if mask is None else mask > 0)})
    good = [r for r in rows if r["type"] == GOOD]
    bad = [r for r in rows if r["type"] != GOOD]
    if not good or not bad:
        print("the data set needs good and defective test images", file=sys.stderr)
        return 2
    top = sorted(good, key=lambda r: -r["max_without"][0])[:20]
    labels = [0] * len(good) + [1] * len(bad)
    report = {
        "model": str(args.model), "data": str(args.data), "images": len(rows), "band": args.band,
        "good_max_at_edge": float(np.mean([r["edge"] < args.band for r in good])),
        "top20_good_max_at_edge": float(np.mean([r["edge"] < args.band for r in top])),
        "image_auroc_edge_left_out": {
            f"{f:.2f}": round(roc_auc(labels, [r["max_without"][i] for r in good + bad]), 3)
            for i, f in enumerate(BANDS)},
        "max_in_defect_by_type": {
            t: round(float(np.mean([r["max_in_defect"] for r in bad if r["type"] == t])), 3)
            for t in sorted({r["type"] for r in bad if "max_in_defect" in r})},
    }
    write_report(args.out, report)
    print(f"good images with their maximum at the edge: {report['good_max_at_edge']:.0%} "
          f"(top 20: {report['top20_good_max_at_edge']:.0%}); image AUROC with the edge left out "
          f"{report['image_auroc_edge_left_out']}; maximum inside the defect {report['max_in_defect_by_type']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
