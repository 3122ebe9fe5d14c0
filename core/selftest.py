"""Headless self-test: is this installation (source tree or frozen bundle) able to inspect?

``lineinspector --self-test`` (and, in the bundle, ``lineinspect self-test``) runs, in order:

runtime   Python, torch (CPU or CUDA build), numpy, OpenCV, ONNX Runtime (with its int8
          quantisation), onnx, harvesters, safetensors import; where the frozen bundle lives
model     the demo model (``resources/demo/model.limodel``) loads on the "auto" backend: every
          installed backend (PyTorch, ONNX Runtime, OpenVINO when present) is built, checked
          against PyTorch and timed, as the live window does on a new machine
sim       frames from the simulated production line (``sim``)
genicam   frames from the ``viky.cti`` GenTL producer (three simulated cameras) through
          harvesters; in the frozen bundle the producer must be the one inside the bundle
inspect   every frame grabbed is inspected (score, anomaly map, verdict)
results   the results are written to a temporary results store (database and image archive)
          and read back

Each check prints one line, ``PASS`` or ``FAIL`` with the reason; a check whose input
failed is reported as ``FAIL ... not run (...)``. The exit status is 0 only when every check
passed. Nothing is written outside a temporary folder (the backend cache included), which is
removed afterwards unless ``--keep``. Callers (the GUI entry point) may append checks of their
own (e.g. Qt) through ``extra_checks``. No Qt here.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core import __version__
from core.demo import DEMO_MODEL

ROOT = Path(__file__).resolve().parents[1]  # source tree root, or sys._MEIPASS when frozen
CHECKS = ("runtime", "model", "sim", "genicam", "inspect", "results")

ExtraCheck = tuple[str, Callable[[], str]]


class CheckFailed(Exception):
    """A check's own failure, with a message meant for the operator (no traceback)."""


@dataclass
class Outcome:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class _State:
    """What the checks hand on to each other."""

    workdir: Path
    inferencer: Any = None
    frames: list = field(default_factory=list)  # (source label, Frame)
    results: list = field(default_factory=list)  # InspectionResult


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path | None:
    """The frozen bundle's data folder (PyInstaller's ``sys._MEIPASS``), None from source."""
    base = getattr(sys, "_MEIPASS", None)
    return Path(base).resolve() if is_frozen() and base else None


def build_parser(prog: str = "lineinspector --self-test", add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, add_help=add_help, description="Headless self-test: load the demo model, grab frames from the "
        "simulated line and from the viky.cti GenTL producer, inspect them and write the results "
        "to a temporary results store. Exit status 0 only if everything worked.")
    p.add_argument("--model", default=None,
                   help=f"model bundle to load (default: the demo model, {DEMO_MODEL})")
    p.add_argument("--backend", default="auto",
                   help="inference backend: auto (default: every installed backend is built, "
                        "checked and timed), pytorch, onnxruntime, openvino or reference")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--frames", type=int, default=4, help="frames to grab from each source (default 4)")
    p.add_argument("--sim", default="sim:seed=7", help="SOURCE of the simulated line (default sim:seed=7)")
    p.add_argument("--cti", default=None,
                   help="GenTL producer to use (default: viky.cti from the genicam package, "
                        "inside the bundle when frozen)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for frames from a source")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (results store, cache)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the checks do")
    return p


# --- the checks ------------------------------------------------------------------------------
def _check_runtime(args: argparse.Namespace, st: _State) -> str:
    import cv2
    import harvesters.core  # noqa: F401
    import numpy as np
    import onnx
    import onnxruntime
    import onnxruntime.quantization  # noqa: F401  (int8 export; imports its helpers by path)
    import safetensors  # noqa: F401
    import torch

    cuda = torch.version.cuda
    build = f"CUDA {cuda} build" if cuda else "CPU build"
    if cuda:
        build += ", GPU available" if torch.cuda.is_available() else ", no GPU found (runs on CPU)"
    where = f"frozen bundle {bundle_dir()}" if is_frozen() else f"source tree {ROOT}"
    return (f"LineInspector {__version__}, Python {platform.python_version()}, torch "
            f"{torch.__version__} ({build}), numpy {np.__version__}, OpenCV {cv2.__version__}, "
            f"ONNX Runtime {onnxruntime.__version__}, onnx {onnx.__version__}; {where}")


def _check_model(args: argparse.Namespace, st: _State) -> str:
    from core.inference.labels import backend_details, backend_label
    from core.inference.load import load_model

    path = Path(args.model).expanduser() if args.model else DEMO_MODEL
    if not path.is_file():
        raise CheckFailed(f"model file {path} not found"
                          + ("" if args.model else " (the demo model is missing from resources/demo)"))
    # "auto" caches exported graphs and its choice: keep that in the temporary folder
    previous = os.environ.get("LINEINSPECTOR_CACHE")
    os.environ["LINEINSPECTOR_CACHE"] = str(st.workdir / "cache")
    try:
        inf = load_model(path, args.backend, args.device, fallback=False)
    finally:
        if previous is None:
            os.environ.pop("LINEINSPECTOR_CACHE", None)
        else:
            os.environ["LINEINSPECTOR_CACHE"] = previous
    meta = getattr(inf, "meta", None) or {}
    t = meta.get("thresholds") or {}
    if not all(k in t for k in ("ok_limit", "ng_limit", "pixel")):
        raise CheckFailed(f"{path.name}: the model carries no calibrated thresholds ({sorted(t)})")
    timings = (getattr(inf, "selection", None) or {}).get("timings_ms") or {}
    broken = {k: v for k, v in timings.items() if isinstance(v, str)}
    if broken:  # a backend installed here that cannot run in this build
        raise CheckFailed(f"{path.name}: backend(s) unusable: "
                          + "; ".join(f"{k}: {v}" for k, v in broken.items()))
    st.inferencer = inf
    size = "x".join(str(v) for v in meta.get("image_size", ()))
    return f"{path.name} ({size}) on {backend_label(inf)}: {backend_details(inf)}"


def _grab(source: Any, count: int, timeout: float, label: str) -> list:
    frames = []
    source.start()
    deadline = time.monotonic() + timeout
    while len(frames) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed(f"{label}: only {len(frames)} of {count} frames in {timeout:g} s")
        frame = source.read(min(1.0, left))
        if frame is not None:
            frames.append(frame)
    source.stop()
    return frames


def _describe_frames(frames: list) -> str:
    shapes = sorted({"x".join(str(v) for v in f.image.shape) + f" {f.image.dtype}" for f in frames})
    return f"{len(frames)} frames ({', '.join(shapes)})"


def _check_sim(args: argparse.Namespace, st: _State) -> str:
    from core.camera.registry import open_source

    source = open_source(args.sim)
    try:
        frames = _grab(source, args.frames, args.timeout, args.sim)
    finally:
        source.close()
    st.frames += [(args.sim, f) for f in frames]
    return f"{_describe_frames(frames)} from '{args.sim}'"


def _viky_path(args: argparse.Namespace) -> Path:
    from core.camera.genicam.producers import bundled_viky_cti, check_producer

    if args.cti:
        cti = Path(args.cti).expanduser()
    else:
        found = bundled_viky_cti()
        if found is None:
            raise CheckFailed("viky.cti not found in the genicam package"
                              + (" inside the bundle" if is_frozen() else ""))
        cti = found
        inside = bundle_dir()
        if inside is not None and not cti.resolve().is_relative_to(inside):
            raise CheckFailed(f"viky.cti was found outside the bundle ({cti}), not in {inside}")
    reason = check_producer(cti)
    if reason is not None:
        raise CheckFailed(f"GenTL producer {cti} {reason}")
    return cti


def _check_genicam(args: argparse.Namespace, st: _State) -> str:
    from core.camera.genicam.source import GenICamSource
    from core.camera.genicam.harvester_hub import HarvesterHub

    cti = _viky_path(args)
    hub = HarvesterHub([cti], include_bundled=False, env={})  # this producer only
    try:
        devices = hub.devices()
        if hub.report.failed:
            raise CheckFailed("; ".join(hub.report.problems()))
        if not devices:
            raise CheckFailed(f"{cti.name} loaded but lists no device")
        device = devices[0]
        source = GenICamSource(device.serial or device.id, hub=hub)
        source.open()
        try:
            frames = _grab(source, args.frames, args.timeout, source.source_id)
        finally:
            source.close()
    finally:
        hub.reset()
    st.frames += [(source.source_id, f) for f in frames]
    return (f"{cti.name} at {cti}: {len(devices)} device(s); {_describe_frames(frames)} "
            f"from {device.model or '?'} {device.id} ({source.source_id})")


def _check_inspect(args: argparse.Namespace, st: _State) -> str:
    from core.inspection.inspector import Inspector
    from core.recipe import Thresholds

    inspector = Inspector(st.inferencer, Thresholds.from_mapping(st.inferencer.meta["thresholds"]),
                          recipe="self-test")
    for seq, (_, frame) in enumerate(st.frames, 1):
        result = inspector.inspect(frame, seq)
        if not math.isfinite(result.score):
            raise CheckFailed(f"frame {frame.frame_id} of {frame.source_id}: score is {result.score}")
        if result.anomaly_map.shape != result.image.shape[:2]:
            raise CheckFailed(f"frame {frame.frame_id}: anomaly map {result.anomaly_map.shape} does "
                              f"not match the image {result.image.shape[:2]}")
        st.results.append(result)
    scores = [r.score for r in st.results]
    verdicts: dict[str, int] = {}
    for r in st.results:
        verdicts[str(r.verdict)] = verdicts.get(str(r.verdict), 0) + 1
    latency = sorted(r.latency_ms for r in st.results)[len(st.results) // 2]
    return (f"{len(st.results)} frames: scores {min(scores):.4f}..{max(scores):.4f}, "
            + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
            + f"; median {latency:.0f} ms per frame")


def _check_results(args: argparse.Namespace, st: _State) -> str:
    from core.inspection.recorder import to_record
    from core.store.results import ResultsStore

    folder = st.workdir / "data"
    store = ResultsStore(folder, ok_sample_fraction=1.0, seed=0)  # archive every image
    try:
        for r in st.results:
            store.record(to_record(r), r.image, r.anomaly_map)
        store.flush(30.0)
        back = store.last(len(st.results) + 10, recipe="self-test")
    finally:
        store.close(30.0)
    if len(back) != len(st.results):
        raise CheckFailed(f"wrote {len(st.results)} results, read back {len(back)} from {store.db_path}")
    archived = [p for rec in back for p in (rec.image_path, rec.heatmap_path) if p]
    missing = [p for p in archived if not (store.archive.resolve(p)).is_file()]
    if not archived or missing:
        raise CheckFailed(f"archived images missing: {missing or 'none archived'}")
    return (f"{len(back)} results written and read back, {len(archived)} images archived "
            f"(temporary store {folder})")


_FUNCS: dict[str, Callable[[argparse.Namespace, _State], str]] = {
    "runtime": _check_runtime, "model": _check_model, "sim": _check_sim,
    "genicam": _check_genicam, "inspect": _check_inspect, "results": _check_results,
}
_NEEDS: dict[str, tuple[str, ...]] = {
    "inspect": ("model", "sim", "genicam"), "results": ("inspect",),
}


# --- driver ------------------------------------------------------------------------------------
def _report(out: TextIO, outcome: Outcome) -> None:
    word = "PASS" if outcome.ok else "FAIL"
    out.write(f"{word}  {outcome.name:<8} {outcome.detail}  [{outcome.seconds:.1f} s]\n")
    out.flush()


def _run_one(name: str, fn: Callable[[], str]) -> Outcome:
    t0 = time.monotonic()
    try:
        detail = fn()
        ok = True
    except CheckFailed as exc:
        detail, ok = str(exc), False
    except Exception as exc:  # anything else: name the error, keep going with the next check
        detail, ok = f"{type(exc).__name__}: {exc}", False
        logging.getLogger(__name__).debug("self-test check %s", name, exc_info=True)
    return Outcome(name, ok, detail, time.monotonic() - t0)


def run_self_test(argv: Sequence[str] | None = None, *, extra_checks: Sequence[ExtraCheck] = (),
                  out: TextIO | None = None, prog: str = "lineinspector --self-test") -> int:
    """Run every check, print one line each to ``out`` (stdout); 0 when all passed, else 1."""
    args = build_parser(prog).parse_args(list(argv) if argv is not None else None)
    return run_checks(args, extra_checks=extra_checks, out=out)


def run_checks(args: argparse.Namespace, *, extra_checks: Sequence[ExtraCheck] = (),
               out: TextIO | None = None) -> int:
    """As :func:`run_self_test`, with the options already parsed (``build_parser``)."""
    out = out if out is not None else sys.stdout
    if args.frames < 1:
        out.write("self-test: --frames must be at least 1\n")
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    out.write(f"LineInspector {__version__} self-test ({'frozen bundle' if is_frozen() else 'source tree'}, "
              f"{platform.system()} {platform.machine()})\n")
    workdir = Path(tempfile.mkdtemp(prefix="lineinspector-selftest-"))
    st = _State(workdir)
    outcomes: dict[str, Outcome] = {}
    try:
        for name in CHECKS:
            failed_inputs = [n for n in _NEEDS.get(name, ()) if not outcomes[n].ok]
            if failed_inputs:
                outcome = Outcome(name, False, f"not run ({', '.join(failed_inputs)} failed)")
            else:
                outcome = _run_one(name, lambda fn=_FUNCS[name]: fn(args, st))
            outcomes[name] = outcome
            _report(out, outcome)
        for name, fn in extra_checks:
            outcome = _run_one(name, fn)
            outcomes[name] = outcome
            _report(out, outcome)
    finally:
        st.inferencer = None
        if args.keep:
            out.write(f"kept {workdir}\n")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    failed = [o.name for o in outcomes.values() if not o.ok]
    if failed:
        out.write(f"self-test FAILED: {len(failed)} of {len(outcomes)} checks failed "
                  f"({', '.join(failed)})\n")
    else:
        out.write(f"self-test OK: all {len(outcomes)} checks passed\n")
    out.flush()
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_self_test(argv)


if __name__ == "__main__":
    sys.exit(main())
