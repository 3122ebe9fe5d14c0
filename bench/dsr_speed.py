"""How fast DSR's networks run on this CPU, by configuration (issue 15: the CPU-practical
configuration is to be chosen by measurement): PyTorch eval-mode forward of one frame,
random weights (speed does not depend on them), beside DRÆM `fast` for scale.

    .venv/bin/python bench/dsr_speed.py --size 256 --threads 2 --json bench/out/dsr_speed.json
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._report import write_report  # noqa: E402
from core.settings_env import check_threads  # noqa: E402


def configs():
    from core.model.dsr.config import DsrConfig

    cpu = DsrConfig.cpu()
    half = DsrConfig(hidden=64, residual_hidden=32, codebook_size=1024, embedding_dim=64,
                     restriction_width=64, object_bottleneck=32, detector_width=8)
    return {"paper": DsrConfig.paper(), "half widths, 1,024 codes, detector 8": half,
            "cpu, detector 16": dataclasses.replace(cpu, detector_width=16),
            "cpu (the chosen one)": cpu}


def time_forward(model, x, repeat: int) -> list[float]:
    import torch

    with torch.inference_mode():
        model(x)  # warm-up
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            model(x)
            out.append((time.perf_counter() - t0) * 1000.0)
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    from core.model.draem import DraemModel
    from core.model.dsr.model import DsrModel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256, help="square frame side, a multiple of 32 (64-1024)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=10, help="timed forwards per model (1-100)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "dsr_speed.json")
    args = ap.parse_args(argv)
    if not (64 <= args.size <= 1024 and args.size % 32 == 0):
        ap.error(f"--size must be a multiple of 32 from 64 to 1024, got {args.size}")
    if not 1 <= args.repeat <= 100:
        ap.error(f"--repeat must be 1-100, got {args.repeat}")
    try:
        torch.set_num_threads(check_threads(args.threads, "--threads"))
    except ValueError as exc:
        ap.error(str(exc))
    torch.manual_seed(0)
    x = torch.rand(1, 3, args.size, args.size)
    rows = {}
    models = {name: DsrModel(cfg).eval() for name, cfg in configs().items()}
    models["DRÆM fast (12/8), for scale"] = DraemModel(12, 8, 3).eval()
    for name, model in models.items():
        ms = time_forward(model, x, args.repeat)
        params = sum(p.numel() for p in model.parameters())
        rows[name] = {"parameters": params, "median_ms": round(statistics.median(ms), 1),
                      "min_ms": round(min(ms), 1)}
        print(f"{name:<30} {params:>11,} parameters  {statistics.median(ms):8.1f} ms median "
              f"({min(ms):.1f} min) per {args.size}x{args.size} frame")
        del model
    write_report(args.json, {"size": args.size, "threads": args.threads, "repeat": args.repeat,
                             "torch": torch.__version__, "models": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
