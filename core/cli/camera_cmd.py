"""`lineinspect camera list | grab | info`: cameras, replay sources and the simulated line."""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path
from typing import Any

from core.cli.main import CliError

MAX_GRAB_COUNT = 1_000_000  # frames one grab saves
MAX_GRAB_TIMEOUT_S = 3600.0  # an hour without a frame: the camera is not coming back

_SOURCE_HELP = (
    "sim[:seed=3,fps=20,...], a folder of images, a video file (PATH?fps=5,loop=0 for options), "
    "or genicam:SERIAL-OR-ID[,pixel_format=Mono8,exposure=5000,...]"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("camera", help="list, inspect and grab from camera sources")
    sub = parser.add_subparsers(dest="camera_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cti", action="append", default=[], metavar="PATH",
                       help="extra GenTL producer (.cti file or folder); repeatable")
        p.add_argument("--no-bundled", action="store_true",
                       help="do not load the simulated viky.cti bundled with genicam")

    p_list = sub.add_parser("list", help="list devices of every source kind")
    common(p_list)
    p_list.set_defaults(func=_list)

    p_grab = sub.add_parser("grab", help="save N frames from SOURCE as images")
    p_grab.add_argument("source", metavar="SOURCE", help=_SOURCE_HELP)
    p_grab.add_argument("--count", "-n", type=int, default=10, help="frames to save (default 10)")
    p_grab.add_argument("--out", required=True, type=Path, help="output folder")
    p_grab.add_argument("--format", default="png", choices=("png", "bmp", "tiff", "jpg"))
    p_grab.add_argument("--timeout", type=float, default=5.0, help="give up after this many seconds without a frame")
    p_grab.add_argument("--no-masks", action="store_true", help="do not save the simulated line's defect masks")
    p_grab.add_argument("--overwrite", action="store_true", help="allow replacing images already in --out")
    common(p_grab)
    p_grab.set_defaults(func=_grab)

    p_info = sub.add_parser("info", help="features of SOURCE with current values and ranges")
    p_info.add_argument("source", metavar="SOURCE", help=_SOURCE_HELP)
    p_info.add_argument("--json", action="store_true", help="machine-readable output")
    common(p_info)
    p_info.set_defaults(func=_info)


def _configure_genicam(args: argparse.Namespace) -> None:
    if not args.cti and not args.no_bundled:
        return
    from core.camera.genicam.harvester_hub import HarvesterHub, set_default_hub

    set_default_hub(HarvesterHub(args.cti, include_bundled=not args.no_bundled))


def _open(spec: str) -> Any:
    from core.camera import CameraError, SourceSpecError, open_source

    try:
        return open_source(spec)
    except (CameraError, SourceSpecError) as exc:
        raise CliError(f"cannot open SOURCE {spec!r}: {exc}") from None


def _list(args: argparse.Namespace) -> int:
    _configure_genicam(args)
    from core.camera import discover_all

    problems: list[str] = []
    devices = discover_all(problems)
    rows = [("SOURCE", "KIND", "SERIAL", "MODEL", "VENDOR", "DESCRIPTION")]
    rows += [(d.spec, d.kind, d.serial or "-", d.model, d.vendor, d.description) for d in devices]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    for problem in problems:
        print(f"warning: {problem}")
    return 0


def _grab(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= MAX_GRAB_COUNT:
        raise CliError(f"--count must be at least 1 and at most {MAX_GRAB_COUNT}, got {args.count}")
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_GRAB_TIMEOUT_S):
        raise CliError(f"--timeout must be a number of seconds above 0 and at most "
                       f"{MAX_GRAB_TIMEOUT_S:g}, got {args.timeout}")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise CliError(f"--out '{out}' exists and is not a folder")
    if out.is_dir() and not args.overwrite and any(out.glob(f"frame_*.{args.format}")):
        raise CliError(f"--out '{out}' already holds frame_*.{args.format} images; use --overwrite")
    _configure_genicam(args)
    from core.camera import CameraError
    from core.io.images import write_image_atomic

    source = _open(args.source)
    rows: list[dict[str, Any]] = []
    try:
        source.start()
        waited_since = time.monotonic()
        while len(rows) < args.count:
            try:
                frame = source.read(timeout=min(0.5, args.timeout))
            except CameraError as exc:
                raise CliError(f"{source.source_id}: {exc} (saved {len(rows)} of {args.count})") from None
            if frame is None:
                if source.exhausted:
                    raise CliError(f"{source.source_id} ran out after {len(rows)} of {args.count} frames")
                if time.monotonic() - waited_since > args.timeout:
                    raise CliError(f"no frame from {source.source_id} within {args.timeout:g} s "
                                   f"(saved {len(rows)} of {args.count})")
                continue
            waited_since = time.monotonic()
            for notice in source.drain_notices():
                print(f"warning: {notice.message}")
            if not frame.complete:
                print(f"warning: skipped incomplete frame {frame.frame_id}")
                continue
            name = f"frame_{len(rows):05d}.{args.format}"
            write_image_atomic(out / name, frame.image)
            mask = frame.metadata.get("defect_mask")
            if mask is not None and not args.no_masks:
                write_image_atomic(out / "masks" / f"frame_{len(rows):05d}.png", mask)
            rows.append({"file": name, "frame_id": frame.frame_id, "timestamp": f"{frame.wall_time:.6f}",
                         "defect_type": frame.metadata.get("defect_type") or ""})
    finally:
        source.close()
    with open(out / "frames.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"saved {len(rows)} frames from {source.source_id} to {out}")
    return 0


def _info(args: argparse.Namespace) -> int:
    _configure_genicam(args)
    from core.camera import Feature

    source = _open(args.source)
    try:
        identity = source.identity
        caps = source.capabilities()
    finally:
        source.close()
    features = {
        name.value: {
            "support": info.support.value, "value": info.value, "min": info.minimum, "max": info.maximum,
            "inc": info.increment, "choices": list(info.choices), "unit": info.unit, "node": info.node,
        }
        for name, info in ((f, caps.info(f)) for f in Feature)
    }
    if args.json:
        print(json.dumps({"source": identity.spec, "kind": identity.kind, "id": identity.id,
                          "serial": identity.serial, "features": features}, indent=2, default=str))
        return 0
    print(f"{identity.spec}  (kind {identity.kind}, id {identity.id}, serial {identity.serial or '-'})")
    for name, f in features.items():
        if f["support"] == "none":
            print(f"  {name:<17} not supported")
            continue
        extent = ""
        if f["choices"]:
            extent = "choices: " + ", ".join(f["choices"])
        elif f["min"] is not None:
            extent = f"range [{f['min']}, {f['max']}]" + (f" step {f['inc']}" if f["inc"] else "")
        value = "" if f["value"] is None else f"{f['value']} {f['unit']}".strip()
        node = f" ({f['node']})" if f["node"] else ""
        print(f"  {name:<17} {f['support']:<10} {value:<14} {extent}{node}")
    return 0
