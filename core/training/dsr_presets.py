"""DSR's training presets: the network sizes (a :class:`DsrConfig` by name), the input, the
batch and the steps or minutes of stages 2 and 3 together (stage 1, the general appearance
VQ-VAE, is the shipped base file, core/training/dsr_base.py).

``fast`` and ``thorough`` take their input exactly as DRÆM's: native pixels, frames scaled so
their longer side is at most 256, trained on 128-pixel crops and inspected by 128-pixel tiles.
``stage3_share`` is the share of the steps (or of the minutes) that stage 3 (the upsampling
module) gets; stage 2 gets the rest. The official code gives stage 3 half of stage 2's epochs
(a third of the run); its module is small and learns fast, so the CPU presets give it less.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from typing import TYPE_CHECKING

from core.training.presets import TrainInput, rebuild_preset, select_preset

if TYPE_CHECKING:  # torch is imported only when a configuration is built (the wizard reads presets)
    from core.model.dsr.config import DsrConfig

CONFIGS = ("cpu", "paper", "tiny")  # DsrConfig's classmethods
MULTIPLE = 32  # DsrConfig.MULTIPLE: sides are multiples of it, at least twice it
INPUT_MODES = ("resize", "tiles")
MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class DsrPreset(TrainInput):
    name: str
    config: str                     # "cpu" | "paper" | "tiny" (CONFIGS)
    image_size: tuple[int, int]     # (H, W) of the network input (a tile in tiles mode)
    batch_size: int
    steps: int                      # stages 2 + 3 without a --minutes budget
    minutes: float | None = None    # the training time the wizard proposes
    input_mode: str = "resize"
    crop: int = 0                   # tiles mode: training crop side (0: image_size)
    max_side: int = 0               # tiles mode: longer frames are scaled down to it (0: never)
    overlap: int = 0                # tiles mode: pixels by which inference tiles overlap
    stage3_share: float = 1 / 3     # share of the steps / minutes for stage 3
    lr: float = 2e-4                # Adam, both stages (the official rate)

    def __post_init__(self) -> None:
        def bad(what: str) -> ValueError:
            return ValueError(f"DSR preset {self.name}: {what}")

        if self.config not in CONFIGS:
            raise bad(f"config must be one of {', '.join(CONFIGS)}, got {self.config!r}")
        h, w = self.image_size
        m = MULTIPLE
        if h % m or w % m or min(h, w) < 2 * m:
            raise bad(f"image_size {self.image_size} must be multiples of {m}, at least {2 * m}")
        if self.input_mode not in INPUT_MODES:
            raise bad(f"input_mode must be one of {', '.join(INPUT_MODES)}, got {self.input_mode!r}")
        if self.crop and (self.crop % m or self.crop < 2 * m or self.crop > min(h, w)):
            raise bad(f"crop must be a multiple of {m} in [{2 * m}, {min(h, w)}], got {self.crop}")
        if self.max_side and not max(self.train_size) <= self.max_side <= 16384:
            raise bad(f"max_side must be 0 (never scale) or in [{max(self.train_size)}, 16384], "
                      f"got {self.max_side}")
        if not 0 <= self.overlap < min(h, w) // 2:
            raise bad(f"overlap must be in [0, {min(h, w) // 2 - 1}], got {self.overlap}")
        if not 1 <= self.batch_size <= 1024:
            raise bad(f"batch_size must be in [1, 1024], got {self.batch_size}")
        if not 2 <= self.steps <= 10_000_000:
            raise bad(f"steps must be in [2, 10000000] (one per stage at least), got {self.steps}")
        if self.minutes is not None and not 0 < self.minutes <= MAX_MINUTES:
            raise bad(f"minutes must be in (0, {MAX_MINUTES}], got {self.minutes}")
        if not 0.0 < self.stage3_share < 1.0:
            raise bad(f"stage3_share must be between 0 and 1 (exclusive), got {self.stage3_share}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise bad(f"lr must be positive, got {self.lr}")

    def total_steps(self, n_images: int) -> int:
        """Stages 2 and 3 together (the same for any number of images), as Preset's."""
        del n_images
        return self.steps

    def dsr_config(self) -> "DsrConfig":
        from core.model.dsr.config import DsrConfig

        return getattr(DsrConfig, self.config)()

    def stage_steps(self, steps: int | None = None) -> tuple[int, int]:
        """(stage 2, stage 3) steps of ``steps`` (default the preset's), each at least one."""
        total = self.steps if steps is None else int(steps)
        if total < 2:
            raise ValueError(f"DSR needs at least 2 steps (one per stage), got {total}")
        s3 = min(total - 1, max(1, round(total * self.stage3_share)))
        return total - s3, s3

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_size"] = list(self.image_size)
        return d


# fast/thorough: the input exactly as DRÆM's fast (core/training/presets.py)
_CPU = dict(input_mode="tiles", crop=128, max_side=256, stage3_share=0.25)

DSR_PRESETS: dict[str, DsrPreset] = {
    # 20 minutes on the 2-core CPU; the step count is what runs without a --minutes budget:
    # 20 minutes gave 2,956 (bottle) and 3,163 (magnetic tile) steps, docs/BENCHMARKS.md §10.1
    "fast": DsrPreset("fast", "cpu", (128, 128), 8, steps=3000, minutes=20, **_CPU),
    "thorough": DsrPreset("thorough", "cpu", (128, 128), 8, steps=9000, minutes=60, **_CPU),
    # the paper's sizes and input (256x256, batch 8): meant for a GPU
    "paper": DsrPreset("paper", "paper", (256, 256), 8, steps=60_000),
    # tests and smoke runs only
    "tiny": DsrPreset("tiny", "tiny", (64, 64), 2, steps=4),
}


def get_dsr_preset(name: str, **overrides) -> DsrPreset:
    """A preset by name with ``overrides`` (None values ignored); ValueError in one line."""
    return select_preset(DSR_PRESETS, name, "DSR preset", overrides)


def dsr_preset_from_dict(d: dict) -> DsrPreset:
    """A preset from its ``to_dict()`` (bundles, checkpoints)."""
    return rebuild_preset(DsrPreset, d)
