"""Warm starts: per-part training begins from weights that already know the job.

Two sources:

* a **base model** shipped in ``resources/base/`` (``base-12x8.limodel``: trained by
  ``scripts/make_base_model.py`` on procedural textures, the simulated line and CC0 images
  only, never on a customer's or a benchmark's part; see ``resources/base/README.md``);
* a **previous model** of the same part (``--continue-from MODEL``): "continue training"
  adds minutes to a deployed version instead of starting again.

Both are ordinary model bundles; the weights must match the preset's widths exactly.
"""

from __future__ import annotations

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2] / "resources" / "base"


def base_path(name: str) -> Path:
    return BASE_DIR / f"{name}.limodel"


def available_bases() -> list[str]:
    return sorted(p.stem for p in BASE_DIR.glob("*.limodel")) if BASE_DIR.is_dir() else []


def resolve(source: str | Path) -> Path:
    """A base name (``base-12x8``) or a bundle path -> the bundle file; clear error if absent."""
    p = Path(source)
    if p.suffix == ".limodel" or p.parent != Path("."):
        if not p.is_file():
            raise ValueError(f"warm start: model {p} not found")
        return p
    path = base_path(str(source))
    if not path.is_file():
        names = ", ".join(available_bases()) or "none are installed"
        raise ValueError(f"warm start: base model '{source}' not found in {BASE_DIR} ({names}); "
                         "train without one with --no-base")
    return path


def initial_weights(source: str | Path, recon_width: int, disc_width: int) -> tuple[dict, dict]:
    """(state_dict, metadata) of ``source``; refused unless its widths are the preset's."""
    from core.inference.bundle import load_bundle

    path = resolve(source)
    bundle = load_bundle(path)
    widths = (int(bundle.meta["recon_width"]), int(bundle.meta["disc_width"]))
    if widths != (recon_width, disc_width) or int(bundle.meta.get("channels", 3)) != 3:
        raise ValueError(f"warm start: {path.name} has widths {widths[0]}/{widths[1]}, the preset "
                         f"needs {recon_width}/{disc_width}: choose a preset with those widths, "
                         "or train from scratch (--no-base)")
    return bundle.state_dict, bundle.meta


def describe(meta: dict, path: Path) -> dict:
    """What a new bundle records about the weights it started from."""
    training = meta.get("training") or {}
    return {"from": str(path), "kind": meta.get("kind", "model"), "preset": meta.get("preset"),
            "steps": training.get("steps"), "created": meta.get("created")}
