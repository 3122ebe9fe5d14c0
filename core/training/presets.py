"""Training presets. The learning-rate schedule is expressed in steps (see schedule.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Preset:
    name: str
    recon_width: int
    disc_width: int
    image_size: tuple[int, int]   # (H, W); multiples of 32 (five poolings in the U-Net)
    batch_size: int
    epochs: int | None = None     # paper recipe: epochs over the training set
    steps: int | None = None      # otherwise a fixed number of steps (or a --minutes budget)
    lr: float = 1e-4
    milestones: tuple[float, ...] = (0.8, 0.9)   # fractions of the run, as the official code
    gamma: float = 0.2

    def __post_init__(self):
        h, w = self.image_size
        if h % 32 or w % 32:
            raise ValueError(f"preset {self.name}: image_size {self.image_size} must be multiples of 32")

    def total_steps(self, n_images: int) -> int:
        if self.steps is not None:
            return self.steps
        per_epoch = max(1, -(-n_images // self.batch_size))
        return int(self.epochs or 1) * per_epoch

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_size"] = list(self.image_size)
        d["milestones"] = list(self.milestones)
        return d


PRESETS: dict[str, Preset] = {
    # The paper's recipe: meant for a GPU (about 198 GMAC per 256x256 image).
    "paper": Preset("paper", 128, 64, (256, 256), 8, epochs=700),
    # Chosen by measurement for a 2-core CPU: trains in under 20 minutes, runs live (docs/BENCHMARKS.md).
    "fast": Preset("fast", 16, 8, (256, 256), 8, steps=600),
    # For tests and smoke runs only.
    "tiny": Preset("tiny", 8, 4, (64, 64), 4, steps=20),
}


def get_preset(name: str, **overrides) -> Preset:
    try:
        preset = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset '{name}' (choose from {', '.join(PRESETS)})") from None
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "image_size" in overrides:
        overrides["image_size"] = tuple(overrides["image_size"])
    return replace(preset, **overrides) if overrides else preset


def preset_from_dict(d: dict) -> Preset:
    d = dict(d)
    d["image_size"] = tuple(d["image_size"])
    d["milestones"] = tuple(d.get("milestones", (0.8, 0.9)))
    return Preset(**d)
