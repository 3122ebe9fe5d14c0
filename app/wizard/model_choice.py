"""Which model the Train page trains: DRÆM (the default) or DSR, each with its own presets and
its own measured time; and how a model's kind is named wherever a version is shown.

Qt-free helpers; the widgets that use them live in :mod:`app.wizard.train_page`.
"""

from __future__ import annotations

from pathlib import Path

from core.training.estimate import CALIBRATION_OVERHEAD_S, describe_estimate, format_duration

DEFAULT_MODEL = "draem"
#: (kind, what the engineer reads in the model box)
MODELS = (("draem", "DRÆM"), ("dsr", "DSR (for low-contrast, texture-like defects)"))
#: the short name of each kind, as versions, the Deploy page and the status bar show it
KIND_NAMES = {"draem": "DRÆM", "dsr": "DSR"}
WHEN_TO_PICK = ("DRÆM finds visible defects (cracks, scratches, stains, missing parts). Pick DSR "
                "when the defects look almost normal: low-contrast, texture-like changes such as "
                "an uneven surface or frayed fibres.")
HINTS = {"fast": "for a CPU, runs live", "thorough": "for a CPU, an hour: over a break",
         "paper": "for a GPU (the paper's recipe)", "tiny": "smoke test only"}


def presets_for(model: str) -> dict:
    """The presets of a model kind, by name."""
    if model == "dsr":
        from core.training.dsr_presets import DSR_PRESETS

        return DSR_PRESETS
    from core.training.presets import PRESETS

    return PRESETS


def get_model_preset(model: str, name: str):
    """A preset of ``model`` by name (ValueError in one line when unknown)."""
    if model == "dsr":
        from core.training.dsr_presets import get_dsr_preset

        return get_dsr_preset(name)
    from core.training.presets import get_preset

    return get_preset(name)


def probe_key(model: str, preset: str) -> str:
    """The key of a measured step time: the preset's name for DRÆM, 'dsr:<preset>' for DSR."""
    return preset if model == DEFAULT_MODEL else f"{model}:{preset}"


def describe_model_estimate(model: str, preset, seconds_per_step: float | None, minutes: float,
                            n_images: int, holdout: float = 0.1, steps: int | None = None,
                            measuring: bool = False, threads: int | None = None) -> str:
    """The estimate line next to the choice: DRÆM's as before, DSR's from its stage-2 and
    stage-3 steps (its step probe times a whole training step of the chosen preset)."""
    if model != "dsr":
        return describe_estimate(preset, seconds_per_step, minutes, n_images, holdout, steps,
                                 measuring=measuring, threads=threads)
    how = f", {threads} thread{'s' if threads != 1 else ''}" if threads else ""
    if seconds_per_step is None:
        what = f"DSR {preset.config}, {preset.train_size[0]} px"
        return f"{what}: measuring on this machine{how}…" if measuring else f"{what}: not measured yet"
    if minutes:  # steps in the budget: the same line as DRÆM's
        return describe_estimate(preset, seconds_per_step, minutes, n_images, threads=threads)
    total = (steps or preset.steps) * seconds_per_step + CALIBRATION_OVERHEAD_S
    return (f"≈ {format_duration(total)} on this machine ({seconds_per_step:.2f} s per step{how}, "
            f"{n_images} images)")


def kind_of(meta: object) -> str:
    """A bundle's model kind from its metadata: ``meta["model"]``, 'draem' when absent."""
    kind = meta.get("model", DEFAULT_MODEL) if isinstance(meta, dict) else DEFAULT_MODEL
    return kind if kind in KIND_NAMES else str(kind)


def kind_name(meta: object) -> str:
    """'DSR' or 'DRÆM' for a bundle's metadata (an unknown kind is shown as written)."""
    kind = kind_of(meta)
    return KIND_NAMES.get(kind, kind[:20])


def bundle_kind_name(path: str | Path | None) -> str:
    """The model kind of a bundle file ('DSR', 'DRÆM'), '' when it cannot be read."""
    if path is None:
        return ""
    from core.inference.bundle import read_bundle_meta

    try:
        return kind_name(read_bundle_meta(path))
    except Exception:  # a missing or damaged bundle is reported elsewhere; here it has no kind
        return ""
