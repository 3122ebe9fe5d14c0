"""Inference latency per image for each preset (random weights: speed does not depend on them).

    .venv/bin/python bench/infer_speed.py --out bench/out/infer_speed.json [--runs 10]

Single-image latency (batch 1) including preprocessing and scoring, median of --runs
after warm-up, on the CPU with all cores. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from _report import write_report  # noqa: E402
from core.inference.backends.reference import ReferenceBackend  # noqa: E402
from core.model.draem import DraemModel  # noqa: E402
from core.training.presets import PRESETS  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--presets", nargs="*", default=["fast", "paper"])
    args = ap.parse_args()
    frame = (np.random.default_rng(0).random((400, 400, 3)) * 255).astype(np.uint8)
    results = {}
    for name in args.presets:
        p = PRESETS[name]
        meta = {"image_size": list(p.image_size), "preset": name}
        inf = ReferenceBackend(DraemModel(p.recon_width, p.disc_width), meta, device="cpu")
        inf.warmup(2)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            inf.predict(frame)
            times.append((time.perf_counter() - t0) * 1000)
        results[name] = {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
                         "image_size": list(p.image_size), "widths": [p.recon_width, p.disc_width]}
        print(name, results[name], flush=True)
    write_report(args.out, {"results": results, "runs": args.runs, "input": "400x400x3 uint8 frame"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
