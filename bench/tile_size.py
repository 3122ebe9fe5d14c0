"""Evaluate one tiles-mode bundle with other inference tiles (size, overlap), write JSON.

    .venv/bin/python bench/tile_size.py MODEL DATA --tiles 256:32,128:32,128:16,128:0 \
        --out bench/out/tile_size.json

Answers "must the inference tile be the training crop?" on a model already trained: the
weights stay, only ``image_size`` (the tile; the image score's mean filter follows it) and
the overlap of ``meta["input"]`` change. Not a test; results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report  # noqa: E402
from core.evaluation.evaluate import evaluate  # noqa: E402
from core.inference.backends.reference import ReferenceBackend  # noqa: E402
from core.inference.load import load_model  # noqa: E402


def parse_tiles(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.split(","):
        size, _, overlap = item.partition(":")
        try:
            out.append((int(size), int(overlap or 0)))
        except ValueError:
            raise SystemExit(f"--tiles: expected SIZE:OVERLAP items, got {item!r}") from None
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--tiles", default="256:32,128:32,128:16,128:0")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    base = load_model(args.model, "reference", "cpu")
    if base.input.mode != "tiles":
        print(f"{args.model} is not a tiles-mode model", file=sys.stderr)
        return 2
    rows = []
    for size, overlap in parse_tiles(args.tiles):
        meta = copy.deepcopy(base.meta)
        meta["image_size"] = [size, size]
        meta["input"]["overlap"] = overlap
        try:
            inf = ReferenceBackend(base.model, meta, "cpu")
        except ValueError as exc:
            print(f"tile {size}:{overlap}: {exc}", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        report = evaluate(inf, args.data)
        row = {"tile": size, "overlap": overlap, "score_kernel": inf.kernel,
               "seconds": round(time.perf_counter() - t0, 1),
               **{k: round(v, 4) for k, v in report.metrics.items()
                  if k in ("image_auroc", "image_ap", "pixel_auroc", "pixel_ap")}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_report(args.out, {"model": str(args.model), "rows": rows,
                            "trained_crop": base.meta.get("preset_settings", {}).get("crop")})
    return 0


if __name__ == "__main__":
    sys.exit(main())
