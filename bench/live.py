"""End-to-end live benchmark of the operator window (not a test).

    .venv/bin/python bench/live.py [--preset fast | --bundle PATH] [--source sim:fps=30]
                                   [--seconds 30] [--out bench/out/live.json]

Opens the real window (offscreen unless a display is set, e.g. under xvfb-run) on the
simulated line with a recipe using the model, lets it run, and reports:

* inspected frames per second (worker) and displayed frames per second (GUI);
* latency from the frame's timestamp (receipt from the camera) to the result being painted:
  median, 95th percentile, max;
* the longest stall of the GUI event loop (gap between ticks of a 5 ms timer, minus 5 ms);
* the CPU each thread used over the run, in cores (Linux /proc).

The window runs its own ``app.exec()`` event loop, as in the app. The session loads the
model as the app does: the bundle's verified int8 companion where it has one
(``LINEINSPECTOR_PRECISION=fp32`` for fp32), else the fastest fp32 backend.

Without --bundle, a randomly initialised model of --preset is used: speed does not depend
on the weights.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_bundle(preset_name: str, folder: Path) -> Path:
    import torch

    from core.inference.bundle import save_bundle
    from core.model.draem import DraemModel
    from core.training.presets import PRESETS

    from core.training.data import auto_scale

    p = PRESETS[preset_name]
    # the scale training would fix for the simulated line's 400x400 frames
    scale = auto_scale([(400, 400)], p.max_side) if p.input_mode == "tiles" else 1.0
    torch.manual_seed(0)
    model = DraemModel(p.recon_width, p.disc_width)
    meta = {"preset": p.name, "recon_width": p.recon_width, "disc_width": p.disc_width,
            "image_size": list(p.image_size), "input": {"mode": p.input_mode, "scale": scale, "overlap": p.overlap},
            "thresholds": {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}}
    return save_bundle(folder / f"{preset_name}.limodel", model.state_dict(), meta)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def thread_cpu() -> dict[int, tuple[str, float]]:
    """native thread id -> (name, CPU seconds) from /proc (Linux); Python names where known."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (task / "comm").read_text().strip()
        except OSError:
            continue  # the thread ended
        tid = int(task.name)
        out[tid] = (names.get(tid, comm), (int(fields[11]) + int(fields[12])) / tick)
    return out


def cpu_by_thread(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores used per thread name over the run (threads of one name summed), busiest first."""
    used: dict[str, float] = {}
    for tid, (name, cpu) in after.items():
        name = "GUI (main thread)" if name == "MainThread" else name
        used[name] = used.get(name, 0.0) + cpu - before.get(tid, (name, 0.0))[1]
    used["total"] = sum(used.values())
    return {k: round(v / seconds, 2) for k, v in sorted(used.items(), key=lambda kv: -kv[1]) if v > 0}


def main() -> int:
    from core.camera.delivery import DeliveryMode

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--source", default="sim:fps=30")
    ap.add_argument("--mode", choices=[m.value for m in DeliveryMode], default=DeliveryMode.LIVE.value)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds ignored at the start")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window
    from core.store.recipe_store import RecipeStore

    tmp = Path(tempfile.mkdtemp(prefix="lineinspector-bench-"))
    bundle = args.bundle or make_bundle(args.preset, tmp)
    RecipeStore(tmp / "data").create("bench", source=args.source, bundle=bundle)
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(
        ["--data-dir", str(tmp / "data"), "--recipe", "bench", "--mode", args.mode,
         "--device", args.device]))
    window.resize(1440, 900)
    window.show()

    state = {"measuring": False, "last_tick": None, "max_gap": 0.0, "seq": -1}
    latencies: list[float] = []
    shown: list[float] = []

    def on_displayed(result) -> None:
        if result.seq == state["seq"]:
            return  # a re-judged repaint, not a new frame
        state["seq"] = result.seq
        now = time.monotonic()
        if state["measuring"]:
            latencies.append((now - result.frame.timestamp) * 1000.0)
            shown.append(now)

    def on_tick() -> None:
        now = time.monotonic()
        if state["measuring"] and state["last_tick"] is not None:
            state["max_gap"] = max(state["max_gap"], now - state["last_tick"])
        state["last_tick"] = now

    window.presenter.displayed.connect(on_displayed)
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(on_tick)
    probe.start()

    def spin(seconds: float) -> None:
        """Run the real event loop (app.exec, as the app does) for ``seconds``."""
        QTimer.singleShot(round(seconds * 1000), lambda: app.exit(0))  # quit() would close the window
        app.exec()

    t_open = time.monotonic()
    while window.controller.session is None and time.monotonic() - t_open < 120:
        spin(0.1)
    if window.controller.session is None:
        print("the session did not start", file=sys.stderr)
        return 1
    spin(args.warmup)
    worker = window.controller.session.worker
    n0 = worker.stats().inspected
    cpu0 = thread_cpu()
    state["measuring"], t0 = True, time.monotonic()
    spin(args.seconds)
    state["measuring"] = False
    cpu1 = thread_cpu()
    elapsed = time.monotonic() - t0
    w = worker.stats()
    status = window.controller.status()
    meta = window.controller.session.inferencer.meta
    result = {
        "model": {"preset": meta.get("preset"), "image_size": meta.get("image_size"),
                  "bundle": str(args.bundle) if args.bundle else "random weights",
                  "backend": getattr(window.controller.session.inferencer, "backend_name", "?"),
                  "device": str(getattr(window.controller.session.inferencer, "device", "?"))},
        "source": args.source, "mode": args.mode, "seconds": round(elapsed, 1),
        "inspected_fps": round((w.inspected - n0) / elapsed, 2),
        "displayed_fps": round(len(shown) / elapsed, 2),
        "camera_fps": round(status.camera_fps, 2),
        "skipped_total": status.skipped,
        "inference_ms_last": round(w.last_latency_ms or 0.0, 1),
        "latency_frame_to_display_ms": {
            "median": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(pct(latencies, 0.95), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None},
        "cpu_cores_used_by_thread": cpu_by_thread(cpu0, cpu1, elapsed),
        "gui_longest_stall_ms": round(max(0.0, state["max_gap"] * 1000.0 - 5.0), 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "qt_platform": QApplication.platformName()},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    window.close()
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
