"""Where a training step's CPU time goes (torch.profiler, self time per operator).

    .venv/bin/python bench/train_profile.py [--preset paper] [--widths R D] [--batch 2]
                                            [--layout channels_last|nchw]
                                            [--out bench/out/train_profile.json]

One warm-up step, then one profiled step of forward + DRAEM loss + backward + Adam on a
random batch (synthesis excluded: bench/data_pipeline.py covers it). The share of the
convolutions bounds what any change outside them can gain: anomalib's DraemModel runs the
same convolutions through the same PyTorch / oneDNN kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.atomic import atomic_write_text  # noqa: E402
from core.device import configure_cpu_threads  # noqa: E402
from core.model.draem import DraemModel  # noqa: E402
from core.model.losses import draem_loss  # noqa: E402
from core.training.presets import get_preset  # noqa: E402

CONV_OPS = ("aten::convolution_backward", "aten::mkldnn_convolution", "aten::convolution",
            "aten::_convolution", "aten::conv2d", "aten::thnn_conv2d")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--widths", type=int, nargs=2, default=None, help="override the preset's widths")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--layout", choices=("channels_last", "nchw"), default="channels_last")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from torch.profiler import ProfilerActivity, profile

    threads = configure_cpu_threads(None)
    p = get_preset(args.preset, **({"recon_width": args.widths[0], "disc_width": args.widths[1]}
                                   if args.widths else {}))
    torch.manual_seed(0)
    fmt = torch.channels_last if args.layout == "channels_last" else torch.contiguous_format
    model = DraemModel(p.recon_width, p.disc_width).to(memory_format=fmt).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    h, w = p.image_size
    x = torch.rand(args.batch, 3, h, w).contiguous(memory_format=fmt)
    target = torch.rand(args.batch, 3, h, w).contiguous(memory_format=fmt)
    mask = (torch.rand(args.batch, 1, h, w) > 0.9).float()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        rec, logits = model(x)
        draem_loss(rec, target, logits, mask)[0].backward()
        opt.step()

    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        step()
        seconds = time.perf_counter() - t0
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    ops = sorted(((e.key, e.self_cpu_time_total / 1e6) for e in events), key=lambda kv: -kv[1])
    conv = sum(s for k, s in ops if k in CONV_OPS)
    result = {
        "preset": p.name, "widths": [p.recon_width, p.disc_width], "image_size": [h, w],
        "batch": args.batch, "layout": args.layout, "threads": threads,
        "step_seconds": round(seconds, 2),
        "convolution_share": round(conv * 1e6 / total, 3),
        "top_ops_self_seconds": {k: round(s, 2) for k, s in ops[:12]},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        atomic_write_text(args.out, json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
