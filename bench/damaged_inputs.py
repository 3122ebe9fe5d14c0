"""Reliability run: feed the command line damaged bundles, images and recipes and count what
happens to each (issue 13).

    .venv/bin/python bench/damaged_inputs.py --json bench/out/damaged_inputs.json

Every input is generated here (nothing is downloaded). Each case runs `lineinspect` in its own
process with a time limit, the way a plant would meet the file, and is classed as:

- ``clear``: refused with a one-line ``error: ...`` (exit status 2), no traceback;
- ``accepted``: the command succeeded (right for a damaged image inside a folder, which must
  be skipped and reported, and for recipes that must list while a neighbour is broken);
- ``traceback``: a Python traceback reached the user;
- ``crash``: killed by a signal (segfault, out of memory);
- ``hang``: still running at the time limit.

Target: 0 tracebacks, 0 crashes, 0 hangs. ``--quick`` runs one case of each family.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._report import write_report  # noqa: E402

LIMIT_S = 120.0


# --- the command and its classification ---------------------------------------------------------
def run_cli(args: list[str], timeout: float = LIMIT_S) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LINEINSPECTOR_THREADS": "1"}
    try:
        p = subprocess.run([sys.executable, "-m", "core.cli.main", *args], capture_output=True,
                           text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hang", ""
    out = p.stdout + p.stderr
    if "Traceback (most recent call last)" in out:
        return "traceback", out[-600:]
    if p.returncode < 0:
        return "crash", f"signal {-p.returncode}"
    if p.returncode == 0:
        notes = [ln for ln in out.splitlines() if "skip" in ln.lower() or ln.startswith("warning:")]
        return "accepted", (notes[-1] if notes else out.strip().splitlines()[-1] if out.strip() else "")[:200]
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("error:", "warning:", "skipped"))]
    return "clear", ((errors or lines or [f"exit {p.returncode}"])[-1])[:200]


# --- bundles ------------------------------------------------------------------------------------
def _write_raw_bundle(path: Path, tensors: dict, meta) -> Path:
    """A bundle written without the product's checks (as a damaged or foreign file would be)."""
    from safetensors.torch import save

    from core.inference.bundle import META_KEY

    text = meta if isinstance(meta, str) else json.dumps(meta)
    path.write_bytes(save(tensors, metadata={META_KEY: text}))
    return path


def bundle_cases(work: Path) -> list[tuple[str, Path]]:
    import torch

    from core.inference.bundle import load_bundle, save_bundle
    from core.model.draem import DraemModel

    torch.manual_seed(0)
    model = DraemModel(recon_width=8, disc_width=4)
    meta = {"preset": "tiny-test", "recon_width": 8, "disc_width": 4, "image_size": [64, 64],
            "thresholds": {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}}
    good = save_bundle(work / "good.limodel", model.state_dict(), meta)
    full_meta = load_bundle(good).meta
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    cases: list[tuple[str, Path]] = [("valid bundle", good)]
    n = [0]

    def add(name: str, tensors=None, m=None) -> None:
        n[0] += 1
        cases.append((name, _write_raw_bundle(work / f"b{n[0]:03d}.limodel",
                                              state if tensors is None else tensors,
                                              full_meta if m is None else m)))

    def meta_with(**kw):
        return {**full_meta, **kw}

    for field in ("image_size", "recon_width", "disc_width", "thresholds", "preset"):
        for bad in (None, "text", [1, 2, 3], {"a": 1}, -1, 0, 1e308):
            add(f"meta {field} = {json.dumps(bad)[:20]}", m=meta_with(**{field: bad}))
    for size in ([63, 64], [8, 8], [40000, 40000], [-64, 64], [64.5, 64], [64, "64"]):
        add(f"image_size {size}", m=meta_with(image_size=size))
    add("thresholds as strings", m=meta_with(thresholds={"ok_limit": "0.3", "ng_limit": "0.6", "pixel": "x"}))
    add("thresholds NaN", m=meta_with(thresholds={"ok_limit": float("nan"), "ng_limit": 0.6, "pixel": 0.5}))
    add("thresholds out of order", m=meta_with(thresholds={"ok_limit": 0.9, "ng_limit": 0.1, "pixel": 0.5}))
    add("metadata a list", m=[1, 2])
    add("metadata null", m="null")
    add("metadata not JSON", m="{not json")
    add("metadata nested 100000 deep", m="[" * 100000 + "]" * 100000)
    first = next(iter(state))
    add("a tensor missing", tensors={k: v for k, v in state.items() if k != first})
    add("a tensor of the wrong shape", tensors={**state, first: torch.zeros(3, 3)})
    add("integer weights", tensors={k: v.to(torch.int32) if v.is_floating_point() else v
                                    for k, v in state.items()})
    add("NaN weights", tensors={**state, first: torch.full_like(state[first], float("nan"))})
    add("Inf weights", tensors={**state, first: torch.full_like(state[first], float("inf"))})
    var = next(k for k in state if k.endswith("running_var"))
    add("negative BatchNorm variance", tensors={**state, var: -state[var].abs() - 1})
    raw = good.read_bytes()
    for name, data in (("empty file", b""), ("8 bytes", raw[:8]), ("truncated to half", raw[: len(raw) // 2]),
                       ("random bytes", os.urandom(4096)), ("a text file", b"hello\n" * 100)):
        n[0] += 1
        p = work / f"b{n[0]:03d}.limodel"
        p.write_bytes(data)
        cases.append((name, p))
    return cases


# --- images -------------------------------------------------------------------------------------
def _png_header(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def image_cases(work: Path) -> list[tuple[str, bytes, str]]:
    import cv2
    import numpy as np

    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    png = cv2.imencode(".png", img)[1].tobytes()
    jpg = cv2.imencode(".jpg", img)[1].tobytes()
    sof = jpg.find(b"\xff\xc0")
    huge_jpg = jpg[: sof + 5] + struct.pack(">HH", 65000, 65000) + jpg[sof + 9:] if sof > 0 else jpg
    return [
        ("valid PNG", png, ".png"),
        ("PNG header claiming 65535x65535", _png_header(65535, 65535), ".png"),
        ("JPEG with a 65000x65000 SOF", huge_jpg, ".jpg"),
        ("truncated JPEG", jpg[: len(jpg) // 2], ".jpg"),
        ("truncated PNG", png[: len(png) // 2], ".png"),
        ("empty file", b"", ".png"),
        ("random bytes", os.urandom(2048), ".png"),
        ("a text file", b"not an image\n", ".jpg"),
    ]


# --- recipes ------------------------------------------------------------------------------------
def recipe_cases(data: Path, good_bundle: Path) -> list[tuple[str, list[str]]]:
    """Damage one recipe at a time beside a good one, then list, show, activate, roll back."""
    base = ["--data-dir", str(data)]
    return [
        ("create with a name ending in a newline", ["recipe", "create", "bad\n", "--model", str(good_bundle), *base]),
        ("create with ok limit -10", ["recipe", "create", "neg", "--model", str(good_bundle), "--ok-limit", "-10", *base]),
        ("create with ng limit 99", ["recipe", "create", "big", "--model", str(good_bundle), "--ng-limit", "99", *base]),
        ("create with pixel threshold -5", ["recipe", "create", "pix", "--model", str(good_bundle),
                                            "--pixel-threshold", "-5", *base]),
        ("create with ok limit nan", ["recipe", "create", "nan", "--model", str(good_bundle), "--ok-limit", "nan", *base]),
    ]


def damage_recipe(folder: Path, how: str) -> None:
    toml = folder / "recipe.toml"
    if how == "nested array":
        toml.write_text('name = "x"\nv = ' + "[" * 5000 + "]" * 5000 + "\n")
    elif how == "FIFO":
        toml.unlink()
        os.mkfifo(toml)
    elif how == "binary":
        toml.write_bytes(os.urandom(512))
    elif how == "empty":
        toml.write_bytes(b"")
    elif how == "thresholds out of range":
        text = toml.read_text()
        toml.write_text(text.replace("ok_limit = ", "ok_limit = -10 # ", 1))
    elif how == "corrupt activations.json":
        for p in folder.rglob("activations.json"):
            p.write_text("{ not json")
    elif how == "corrupt version.json":
        for p in folder.rglob("version.json"):
            p.write_text("[1, 2")


RECIPE_DAMAGE = ("nested array", "FIFO", "binary", "empty", "thresholds out of range",
                 "corrupt activations.json", "corrupt version.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "damaged_inputs.json")
    ap.add_argument("--quick", action="store_true", help="one case of each family (a smoke test)")
    args = ap.parse_args(argv)
    rows: list[dict] = []

    def record(family: str, name: str, command: str, outcome: tuple[str, str]) -> None:
        rows.append({"family": family, "case": name, "command": command, "outcome": outcome[0],
                     "message": outcome[1]})
        print(f"{family:8s} {outcome[0]:10s} {name} [{command}]: {outcome[1][:120]!r}", flush=True)

    with tempfile.TemporaryDirectory(prefix="damaged-") as tmp:
        work = Path(tmp)
        bundles = bundle_cases(work)
        good = bundles[0][1]
        img_dir = work / "img"
        img_dir.mkdir()
        for i, (name, data, ext) in enumerate(image_cases(work)):
            (img_dir / f"{i:02d}{ext}").write_bytes(data)
        if args.quick:
            bundles = bundles[:2]
        for name, path in bundles:
            data = work / f"data-{path.stem}"
            record("bundle", name, "recipe create --model",
                   run_cli(["recipe", "create", "r", "--model", str(path), "--data-dir", str(data)]))
            record("bundle", name, "predict", run_cli(["predict", str(path), str(img_dir / "00.png"),
                                                       "--out", str(work / "out" / path.stem)]))
        for i, (name, data, ext) in enumerate(image_cases(work)[: 2 if args.quick else None]):
            one = work / f"one{i}"
            one.mkdir()
            (one / f"x{ext}").write_bytes(data)
            (one / "y.png").write_bytes(image_cases(work)[0][1])
            record("image", name, "predict (folder of it and a good one)",
                   run_cli(["predict", str(good), str(one), "--out", str(work / f"pred{i}")]))
            record("image", name, "predict (the file alone)",
                   run_cli(["predict", str(good), str(one / f"x{ext}"), "--out", str(work / f"alone{i}")]))
        data = work / "recipes"
        for name, cmd in recipe_cases(data, good)[: 1 if args.quick else None]:
            record("recipe", name, "recipe create", run_cli(cmd))
        for how in RECIPE_DAMAGE[: 1 if args.quick else None]:
            d = work / f"rd-{how.replace(' ', '_')}"
            base = ["--data-dir", str(d)]
            for r in ("good", "broken"):
                run_cli(["recipe", "create", r, "--model", str(good), *base])
            run_cli(["recipe", "add-version", "broken", str(good), "--activate", *base])
            damage_recipe(d / "recipes" / "broken", how)
            record("recipe", how, "recipe list", run_cli(["recipe", "list", *base], timeout=60))
            record("recipe", how, "recipe show", run_cli(["recipe", "show", "broken", *base], timeout=60))
            record("recipe", how, "recipe activate", run_cli(["recipe", "activate", "broken", "1", *base], timeout=60))
            record("recipe", how, "recipe rollback", run_cli(["recipe", "rollback", "broken", *base], timeout=60))
            shutil.rmtree(d, ignore_errors=True)

    summary: dict[str, dict[str, int]] = {}
    for r in rows:
        s = summary.setdefault(r["family"], {"tried": 0, "clear": 0, "accepted": 0, "traceback": 0,
                                             "crash": 0, "hang": 0})
        s["tried"] += 1
        s[r["outcome"]] += 1
    write_report(args.json, {"summary": summary, "cases": rows})
    print(json.dumps(summary, indent=1))
    bad = sum(s["traceback"] + s["crash"] + s["hang"] for s in summary.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
