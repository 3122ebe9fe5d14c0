"""Camera throughput: simulated-line render speed, grabber throughput, viky frame rate.

Run: ``.venv/bin/python bench/camera_fps.py [--frames 300] [--size 256]``
"""

from __future__ import annotations

import argparse
import os
import time


def bench_render(frames: int, size: int) -> None:
    import cv2

    from core.camera.sim.line import SimLineSource

    cv2.setNumThreads(1)  # one core, as on a busy inspection PC
    for rate in (0.0, 1.0):
        source = SimLineSource(seed=0, width=size, height=size, defect_rate=rate)
        source.render(0)  # pre-render the part outside the timing
        t0 = time.perf_counter()
        for i in range(frames):
            source.render(i)
        fps = frames / (time.perf_counter() - t0)
        print(f"sim render {size}x{size} defect_rate={rate:.0f}: {fps:7.1f} frames/s (one thread)")


def bench_grabber(frames: int, size: int) -> None:
    from core.camera import Grabber
    from core.camera.sim.line import SimLineSource

    with Grabber(SimLineSource(seed=0, width=size, height=size, fps=0), mode="triggered", queue_size=frames) as g:
        t0 = time.perf_counter()
        for _ in range(frames):
            g.next_frame(5.0)
        fps = frames / (time.perf_counter() - t0)
    print(f"grabber (sim unpaced, triggered): {fps:7.1f} frames/s delivered")


def bench_viky(frames: int) -> None:
    from core.camera import Grabber
    from core.camera.genicam.source import GenICamSource
    from core.camera.genicam.producers import bundled_viky_cti

    if bundled_viky_cti() is None:
        print("viky: skipped (viky.cti not found)")
        return
    for fmt in ("RGBa8", "Mono8"):
        source = GenICamSource("0")
        source.open()
        source.set_feature("pixel_format", fmt)
        with Grabber(source, mode="triggered") as g:
            for _ in range(frames):
                g.next_frame(5.0)
            stats = g.stats()
        print(f"viky serial 0 {fmt}: {stats.fps:5.1f} fps measured over {stats.received} frames")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    print(f"cpu count {os.cpu_count()}")
    bench_render(args.frames, args.size)
    bench_grabber(args.frames, args.size)
    bench_viky(min(args.frames, 60))


if __name__ == "__main__":
    main()
