"""On-disk cache for exported graphs and backend decisions, keyed by bundle hash + machine.

Location: ``$LINEINSPECTOR_CACHE`` if set, else the platform's user cache folder. Entries
are content-addressed (the bundle's SHA-256), so a retrained bundle never reuses a stale
graph; deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

from core.atomic import atomic_write_bytes, atomic_write_text

ENV_VAR = "LINEINSPECTOR_CACHE"
APP_NAME = "LineInspector"
EXPORT_VERSION = 2  # bump when the exported graph changes, to invalidate cached files


def cache_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_fingerprint(device: str, threads: int) -> str:
    """Short hash of what decides which backend is fastest here."""
    import torch

    parts = [platform.system(), platform.machine(), cpu_model(), str(os.cpu_count()), str(threads),
             device, torch.__version__]
    for mod in ("onnxruntime", "openvino"):
        try:
            parts.append(f"{mod}={__import__(mod).__version__}")
        except ImportError:
            parts.append(f"{mod}=none")
    if device.startswith("cuda") and torch.cuda.is_available():
        parts.append(torch.cuda.get_device_name(0))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def onnx_for_bundle(bundle_path: str | os.PathLike, bundle_sha: str | None = None,
                    batch: int | None = None) -> Path:
    """Path of the bundle's fp32 ONNX export in the cache, exporting it on first use."""
    from core.inference.backends.export import file_sha256, onnx_model_bytes
    from core.inference.bundle import load_bundle

    sha = bundle_sha or file_sha256(bundle_path)
    tag = "dyn" if batch is None else f"b{batch}"
    out = cache_dir() / "onnx" / f"{sha[:32]}_{tag}_v{EXPORT_VERSION}.onnx"
    if out.is_file():
        return out
    bundle = load_bundle(bundle_path)
    data = onnx_model_bytes(bundle.build_model(), bundle.meta, batch=batch,
                            extra_meta={"source_bundle_sha256": sha})
    return atomic_write_bytes(out, data)


def decision_path(bundle_sha: str, fingerprint: str) -> Path:
    return cache_dir() / "decisions" / f"{bundle_sha[:32]}_{fingerprint}.json"


def read_decision(bundle_sha: str, fingerprint: str) -> dict | None:
    path = decision_path(bundle_sha, fingerprint)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    ok = isinstance(data, dict) and all(isinstance(data.get(k), str) for k in ("backend", "candidate"))
    return data if ok else None


def write_decision(bundle_sha: str, fingerprint: str, decision: dict) -> None:
    atomic_write_text(decision_path(bundle_sha, fingerprint), json.dumps(decision, indent=2))
