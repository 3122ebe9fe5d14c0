"""Does anomaly synthesis starve the training step? Step time with the real data pipeline
(synthesis in a worker process) against step time on a pre-made batch.

    .venv/bin/python bench/data_pipeline.py DATA --out bench/out/data_pipeline.json \
        [--preset fast] [--steps 12] [--textures DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.atomic import atomic_write_text  # noqa: E402
from core.device import configure_cpu_threads  # noqa: E402
from core.evaluation.datasets import train_good_images  # noqa: E402
from core.model.draem import DraemModel  # noqa: E402
from core.model.losses import draem_loss  # noqa: E402
from core.training.data import SynthDataset, load_image_set, make_loader, make_simulator  # noqa: E402
from core.training.presets import get_preset  # noqa: E402


def step(model, opt, batch):
    # as the trainer does it: channels_last model and input
    rec, logits = model(batch["augmented"].contiguous(memory_format=torch.channels_last))
    loss, _ = draem_loss(rec, batch["image"], logits, batch["mask"])
    opt.zero_grad()
    loss.backward()
    opt.step()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--textures", type=Path)
    args = ap.parse_args()
    preset = get_preset(args.preset)
    configure_cpu_threads()
    images = load_image_set(train_good_images(args.data)[:64], preset.image_size).images
    ds = SynthDataset(images, make_simulator(args.textures, False), seed=0)
    t0 = time.perf_counter()
    for k in range(64):
        ds[k]
    synth_ms = (time.perf_counter() - t0) * 1000 / 64

    model = DraemModel(preset.recon_width, preset.disc_width).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    loader = make_loader(ds, preset.batch_size, 0, args.steps + 2, workers=1)
    it = iter(loader)
    fixed = next(it)
    step(model, opt, fixed)  # warm-up (also lets the worker fill its prefetch queue)
    with_pipeline = []
    for batch in it:
        t = time.perf_counter()
        step(model, opt, batch)
        with_pipeline.append(time.perf_counter() - t)
    # time spent waiting for data is what the loader adds on top of the step itself
    pre_made = []
    for _ in range(args.steps):
        t = time.perf_counter()
        step(model, opt, fixed)
        pre_made.append(time.perf_counter() - t)
    waits = []
    loader = make_loader(ds, preset.batch_size, 100, 100 + args.steps, workers=1)
    it = iter(loader)
    next(it)
    for _ in range(args.steps - 1):
        t = time.perf_counter()
        batch = next(it)
        waits.append(time.perf_counter() - t)
        step(model, opt, batch)
    out = {
        "preset": preset.name, "batch_size": preset.batch_size,
        "synthesis_ms_per_sample_one_core": round(synth_ms, 2),
        "step_s_with_pipeline_median": round(statistics.median(with_pipeline), 3),
        "step_s_pre_made_batch_median": round(statistics.median(pre_made), 3),
        "data_wait_ms_per_step_median": round(1000 * statistics.median(waits), 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": " ".join(sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
