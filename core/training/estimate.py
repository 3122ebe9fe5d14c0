"""How long will training take on this machine? A short measured probe.

:func:`measure_seconds_per_step` runs a few real training steps (forward, loss, backward,
optimizer) of a preset at its image size and batch size on random data and times them
after a warm-up step. :func:`estimate_seconds` turns that into a total for a number of
images. ``python -m core.training.estimate [--model dsr] --preset fast`` prints the result
as JSON, so a GUI can run the probe in a separate process. For DSR the probe times stage 2's
step (the slower stage), so the estimate errs long.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from core.training.dsr_presets import DsrPreset, get_dsr_preset
from core.training.presets import Preset, get_preset

CALIBRATION_OVERHEAD_S = 5.0   # loading images, calibration on held-out images, saving


def measure_seconds_per_step(preset: Preset | DsrPreset, steps: int = 3, device: str = "auto",
                             threads: int | None = None) -> float:
    """Median wall time of ``steps`` training steps (after one warm-up step); for a DSR
    preset, of stage 2's step (the slower of its two stages)."""
    if isinstance(preset, DsrPreset):
        return _measure_dsr(preset, steps, device, threads)
    import torch

    from core.device import configure_cpu_threads, select_device
    from core.model.draem import DraemModel
    from core.model.losses import draem_loss

    dev = select_device(device)
    if dev.type != "cuda":
        configure_cpu_threads(threads)
    torch.manual_seed(0)
    model = DraemModel(preset.recon_width, preset.disc_width).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=preset.lr)
    h, w = preset.image_size
    x = _smooth_batch(preset.batch_size, h, w, dev)
    mask = (torch.rand(preset.batch_size, 1, h, w, device=dev) > 0.9).float()
    times = []
    for i in range(steps + 1):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.float16, enabled=dev.type == "cuda"):
            rec, logits = model(x)
        loss, _ = draem_loss(rec.float(), x, logits.float(), mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i:  # the first step pays for allocation and kernel selection
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def _smooth_batch(batch: int, h: int, w: int, device):
    """Smooth, image-like data: uniform white noise is far slower on some CPUs than real parts."""
    import torch

    coarse = torch.rand(batch, 3, max(1, h // 16), max(1, w // 16), device=device)
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)


def _measure_dsr(preset: DsrPreset, steps: int, device: str, threads: int | None) -> float:
    import itertools

    import torch

    from core.device import configure_cpu_threads, select_device
    from core.model.dsr.model import DsrModel
    from core.training.dsr_stages import train_object_specific

    dev = select_device(device)
    if dev.type != "cuda":
        configure_cpu_threads(threads)
    torch.manual_seed(0)
    model = DsrModel(preset.dsr_config()).to(dev)
    h, w = preset.train_size
    x = _smooth_batch(preset.batch_size, h, w, dev)
    stamps = [time.perf_counter()]

    def report(*_):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())

    train_object_specific(model, itertools.repeat(x), steps + 1, report=report)
    times = sorted(b - a for a, b in zip(stamps[1:], stamps[2:]))  # after the warm-up step
    return times[len(times) // 2]


def estimate_seconds(preset: Preset, n_images: int, seconds_per_step: float,
                     holdout: float = 0.1, steps: int | None = None) -> float:
    """Estimated wall time of a whole run: steps x seconds/step + fixed overhead."""
    n_train = max(1, n_images - int(round(n_images * holdout)))
    total = steps or preset.total_steps(n_train)
    return total * seconds_per_step + CALIBRATION_OVERHEAD_S


def describe_estimate(preset: Preset, seconds_per_step: float | None, minutes: float, n_images: int,
                      holdout: float = 0.1, steps: int | None = None, measuring: bool = False,
                      threads: int | None = None) -> str:
    """One line for the wizard: the run's length (or, with a ``minutes`` budget, its steps)
    from the measured seconds per step; "measuring…" while the probe runs."""
    how = f", {threads} thread{'s' if threads != 1 else ''}" if threads else ""
    if seconds_per_step is None:
        what = (f"{preset.image_size[0]} px, DSR {preset.config} sizes"
                if isinstance(preset, DsrPreset) else
                f"{preset.image_size[0]} px, widths {preset.recon_width}/{preset.disc_width}")
        return f"{what}: measuring on this machine{how}…" if measuring else f"{what}: not measured yet"
    sps = seconds_per_step
    if minutes:
        return (f"{format_duration(minutes * 60)}: about {int(minutes * 60 / sps)} steps on this "
                f"machine ({sps:.2f} s per step{how})")
    total = estimate_seconds(preset, n_images, sps, holdout, steps)
    return f"≈ {format_duration(total)} on this machine ({sps:.2f} s per step{how}, {n_images} images)"


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 20 min'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.training.estimate",
                                description="Measure training seconds per step of a preset")
    p.add_argument("--model", choices=("draem", "dsr"), default="draem")
    p.add_argument("--preset", default="fast")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (the ones the run will get; default: every core)")
    p.add_argument("--images", type=int, default=None, help="also estimate a run on N images")
    args = p.parse_args(argv)
    try:
        for name, value, top in (("--steps", args.steps, 100), ("--threads", args.threads, 1024),
                                 ("--images", args.images, 10**7)):
            if value is not None and not 1 <= value <= top:
                raise ValueError(f"{name} must be a whole number in [1, {top}], got {value}")
        preset = get_dsr_preset(args.preset) if args.model == "dsr" else get_preset(args.preset)
        sps = measure_seconds_per_step(preset, args.steps, args.device, args.threads)
    except (ValueError, RuntimeError) as exc:
        print(json.dumps({"error": str(exc)}))
        return 1
    out = {"model": args.model, "preset": preset.name, "seconds_per_step": sps, "threads": args.threads}
    if args.images:
        out["total_s"] = estimate_seconds(preset, args.images, sps)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
