"""Model bundles: one pickle-free file holding the weights and the metadata.

On disk a bundle is a safetensors file; our metadata is a JSON document stored in the
safetensors header under the key ``lineinspector``. Reading the metadata only parses the
header, so listing many bundles is cheap. Writes are atomic (temporary file, fsync,
rename), so a crash never leaves a half-written bundle behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from core import __version__
from core.atomic import atomic_write_bytes
from core.inference.bundle_checks import (build_empty_model, model_kind, required_meta,
                                          validate_meta, verify_weights)

FORMAT_VERSION = 1
META_KEY = "lineinspector"
SUFFIX = ".limodel"
BUNDLE_FILE = "model" + SUFFIX  # a bundle's name in a run folder, a model version, the demo
if TYPE_CHECKING:  # torch is imported lazily: reading metadata must stay cheap
    import torch



class BundleError(ValueError):
    """A bundle could not be read; the message names the file and the problem."""


@dataclass
class ModelBundle:
    path: Path
    meta: dict
    state_dict: dict[str, "torch.Tensor"]

    @property
    def kind(self) -> str:
        """"draem" or "dsr" (``meta["model"]``; bundles without it are DRÆM)."""
        return model_kind(self.meta)

    def build_model(self):
        """Instantiate the model the metadata describes (DraemModel or DsrModel), load the weights."""
        model = build_empty_model(self.meta)
        try:
            model.load_state_dict(self.state_dict, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise BundleError(f"{self.path}: weights do not match the metadata ({first})") from exc
        return model.eval()

    def probe(self) -> None:
        """Build the model and run one small inference; BundleError unless all is finite."""
        from core.inference.bundle_checks import probe_model

        try:
            probe_model(self.build_model(), self.meta)
        except (ValueError, RuntimeError) as exc:
            if isinstance(exc, BundleError):
                raise
            raise BundleError(f"{self.path}: {str(exc).splitlines()[0]}") from None


def save_bundle(path: str | os.PathLike, state_dict: dict[str, "torch.Tensor"], meta: dict) -> Path:
    """Write a bundle atomically; fills in format_version, created and software_version."""
    from safetensors.torch import save as st_save

    path = Path(path)
    full = {"format_version": FORMAT_VERSION, "software_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    full.update(meta)
    full["format_version"] = FORMAT_VERSION
    missing = [k for k in required_meta(full) if k not in full]
    if missing:
        raise ValueError(f"bundle metadata lacks {', '.join(missing)}")
    validate_meta(json.loads(json.dumps(full)))  # as it will be read back (lists, not tuples)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    data = st_save(tensors, metadata={META_KEY: json.dumps(full)})
    return atomic_write_bytes(path, data)


def _read_header(path: Path) -> tuple[dict, int]:
    if not path.exists():
        raise BundleError(f"{path}: model file not found")
    if not path.is_file():
        raise BundleError(f"{path}: not a file")
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise BundleError(f"{path}: truncated or empty file ({size} bytes), not a model bundle")
        (n,) = struct.unpack("<Q", raw)
        if n <= 0 or n > 100_000_000 or 8 + n > size:
            raise BundleError(f"{path}: not a model bundle (bad header; corrupt, truncated or foreign file)")
        try:
            header = json.loads(fh.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleError(f"{path}: corrupt bundle header ({exc})") from None
        except RecursionError:
            raise BundleError(f"{path}: corrupt bundle header (nested too deeply)") from None
    if not isinstance(header, dict):
        raise BundleError(f"{path}: corrupt bundle header")
    try:
        data_len = max((int(v["data_offsets"][1]) for k, v in header.items()
                        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v),
                       default=0)
    except (TypeError, ValueError, IndexError, KeyError):
        raise BundleError(f"{path}: corrupt bundle header (bad tensor offsets)") from None
    if 8 + n + data_len > size:
        raise BundleError(f"{path}: truncated bundle ({size} bytes, header promises {8 + n + data_len})")
    return header, n


def read_bundle_meta(path: str | os.PathLike) -> dict:
    """Read and validate only the metadata of a bundle (cheap)."""
    path = Path(path)
    header, _ = _read_header(path)
    table = header.get("__metadata__") or {}
    raw = table.get(META_KEY) if isinstance(table, dict) else None
    if raw is None:
        raise BundleError(f"{path}: a safetensors file but not a LineInspector model bundle "
                          f"(no '{META_KEY}' metadata)")
    if not isinstance(raw, str):
        raise BundleError(f"{path}: corrupt bundle header ('{META_KEY}' metadata is not text)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}: corrupt bundle metadata ({exc})") from None
    except RecursionError:
        raise BundleError(f"{path}: corrupt bundle metadata (nested too deeply)") from None
    if not isinstance(meta, dict):
        raise BundleError(f"{path}: bundle metadata must be a JSON object, got {type(meta).__name__}")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise BundleError(f"{path}: bundle metadata has no valid format_version")
    if version > FORMAT_VERSION:
        raise BundleError(f"{path}: bundle format {version} is newer than this software supports "
                          f"({FORMAT_VERSION}); update LineInspector")
    try:
        missing = [k for k in required_meta(meta) if k not in meta]
        if missing:
            raise BundleError(f"{path}: bundle metadata lacks {', '.join(missing)}")
        return validate_meta(meta)
    except BundleError:
        raise
    except ValueError as exc:
        raise BundleError(f"{path}: bad bundle metadata: {exc}") from None


def load_bundle(path: str | os.PathLike) -> ModelBundle:
    """Load metadata and weights (no pickle involved)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_bundle_meta(path)
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise BundleError(f"{path}: cannot read weights ({exc})") from exc
    try:
        verify_weights(state, meta)
    except ValueError as exc:
        raise BundleError(f"{path}: {exc}") from None
    return ModelBundle(path=path, meta=meta, state_dict=state)
