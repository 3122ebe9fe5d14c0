"""Training presets. The learning-rate schedule is expressed in fractions of the run (see
schedule.py), so it fits a step count or a wall-clock budget alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

ANOMALY_RECIPES = ("paper", "defects")
SCHEDULES = ("step", "cosine")
INPUT_MODES = ("resize", "tiles")


class TrainInput:
    """What a DRÆM and a DSR preset share about their input: ``image_size``, ``input_mode``
    and ``crop`` fields, and the size of one training sample they give."""

    image_size: tuple[int, int]
    input_mode: str
    crop: int

    @property
    def train_size(self) -> tuple[int, int]:
        """(H, W) of a training sample: the crop in tiles mode, else the network input."""
        if self.input_mode == "tiles" and self.crop:
            return self.crop, self.crop
        return self.image_size


@dataclass(frozen=True)
class Preset(TrainInput):
    name: str
    recon_width: int
    disc_width: int
    image_size: tuple[int, int]   # (H, W) of the network input (a tile in tiles mode); multiples of 32
    batch_size: int
    epochs: int | None = None     # paper recipe: epochs over the training set
    steps: int | None = None      # otherwise a fixed number of steps (or a --minutes budget)
    lr: float = 1e-4
    milestones: tuple[float, ...] = (0.8, 0.9)   # "step" schedule: fractions of the run, as the official code
    gamma: float = 0.2
    # --- what the paper's recipe does not have (issue 12); the defaults are the paper's
    schedule: str = "step"        # "step" (x gamma at the milestones) or "cosine" (to 2 % of lr)
    warmup: float = 0.0           # fraction of the run with a linear learning-rate ramp
    ema: float = 0.0              # decay of the weights' moving average (0: off); the average is saved
    anomalies: str = "paper"      # "paper" (Perlin x texture) or "defects" (adds cracks, pits, ...)
    input_mode: str = "resize"    # "resize": squash frames to image_size; "tiles": native pixels
    crop: int = 0                 # tiles mode: training crop side in pixels (0: image_size)
    max_side: int = 0             # tiles mode: frames longer than this are scaled down to it (0: never)
    crop_reach: float = 0.0       # tiles mode: how far crops may reach past the edge before clamping
                                  # (0: uniform inside the frame; 1: edges seen as often as the
                                  # middle; see core.training.data.crop_origin)
    tile_share: float = 0.0       # tiles mode: share of training crops that are exactly one of
                                  # the frame's inference tiles (see core.training.data.random_crop)
    overlap: int = 0              # tiles mode: pixels by which inference tiles overlap
    focal_alpha: float = 0.0      # class balance of the focal loss: anomalous pixels weigh 2 alpha,
                                  # normal ones 2 (1 - alpha); 0: unweighted, as the paper
    base: str | None = None       # warm start: a base model in resources/base (see warmstart.py)
    minutes: float | None = None  # the training time the wizard proposes (None: the step count)

    def __post_init__(self):
        h, w = self.image_size
        if h % 32 or w % 32:
            raise ValueError(f"preset {self.name}: image_size {self.image_size} must be multiples of 32")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"preset {self.name}: schedule must be one of {', '.join(SCHEDULES)}")
        if self.anomalies not in ANOMALY_RECIPES:
            raise ValueError(f"preset {self.name}: anomalies must be one of {', '.join(ANOMALY_RECIPES)}, "
                             f"got {self.anomalies!r}")
        if self.input_mode not in INPUT_MODES:
            raise ValueError(f"preset {self.name}: input_mode must be one of {', '.join(INPUT_MODES)}")
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError(f"preset {self.name}: warmup must be in [0, 1), got {self.warmup}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"preset {self.name}: ema must be in [0, 1), got {self.ema}")
        if self.crop and (self.crop % 32 or self.crop < 32 or self.crop > min(h, w)):
            raise ValueError(f"preset {self.name}: crop must be a multiple of 32 in [32, {min(h, w)}], "
                             f"got {self.crop}")
        if self.max_side and not max(self.train_size) <= self.max_side <= 16384:
            raise ValueError(f"preset {self.name}: max_side must be 0 (never scale) or in "
                             f"[{max(self.train_size)}, 16384], got {self.max_side}")
        if not 0.0 <= self.crop_reach <= 1.0:
            raise ValueError(f"preset {self.name}: crop_reach must be in [0, 1], got {self.crop_reach}")
        if not 0.0 <= self.tile_share <= 1.0:
            raise ValueError(f"preset {self.name}: tile_share must be in [0, 1], got {self.tile_share}")
        if not (self.focal_alpha == 0.0 or 0.0 < self.focal_alpha < 1.0):
            raise ValueError(f"preset {self.name}: focal_alpha must be 0 (unweighted) or in (0, 1), "
                             f"got {self.focal_alpha}")
        if not 0 <= self.overlap < min(h, w) // 2:
            raise ValueError(f"preset {self.name}: overlap must be in [0, {min(h, w) // 2 - 1}], "
                             f"got {self.overlap}")
        if self.batch_size < 1:
            raise ValueError(f"preset {self.name}: batch_size must be >= 1, got {self.batch_size}")
        if self.minutes is not None and not 0 < self.minutes <= 7 * 24 * 60:
            raise ValueError(f"preset {self.name}: minutes must be in (0, 10080], got {self.minutes}")
        if not self.lr > 0:
            raise ValueError(f"preset {self.name}: lr must be positive, got {self.lr}")

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


# What fast and thorough share (chosen by measurement on the 2-core CPU, docs/BENCHMARKS.md):
# native pixels, trained on 128-pixel crops and inspected by 128-pixel tiles without
# overlap (the tile must be the crop: the same bottle model scored 0.43 image AUROC by
# 256-pixel tiles and 0.975 by 128-pixel ones; overlapping tiles cost 2.2x and gave
# 0.974); frames longer than 256 pixels are scaled down to 256, so that a 400x400 frame
# costs what one 256x256 image did and the live window keeps up; crops inside the frame
# (crop_reach 0: reaching past the edge took magnetic tile from 0.702 to 0.79-0.80 image
# AUROC at 20 minutes but cost bottle 0.986 -> 0.94-0.97, BENCHMARKS 7.8), 30 % of them
# exactly an inference tile (tile_share 0.3, BENCHMARKS 7.9: at 20 minutes bottle 0.986 ->
# 0.994, magnetic tile 0.702 -> 0.738; the simulated line 0.724 -> 0.826 at 10); defect-like
# anomalies, a warm start from the shipped base model, a short warm-up, cosine decay and a
# moving average of the weights.
_CPU = dict(lr=5e-4, schedule="cosine", warmup=0.02, ema=0.99, anomalies="defects",
            input_mode="tiles", max_side=256, tile_share=0.3, base="base-12x8")

PRESETS: dict[str, Preset] = {
    # Chosen by measurement for a 2-core CPU: 20 minutes, keeps up with a 20-fps camera live.
    "fast": Preset("fast", 12, 8, (128, 128), 8, steps=2600, minutes=20, **_CPU),
    # The same network trained three times longer: an hour on the 2-core CPU (over a break).
    "thorough": Preset("thorough", 12, 8, (128, 128), 8, steps=7800, minutes=60, **_CPU),
    # The paper's recipe: meant for a GPU (about 198 GMAC per 256x256 image).
    "paper": Preset("paper", 128, 64, (256, 256), 8, epochs=700),
    # For tests and smoke runs only.
    "tiny": Preset("tiny", 8, 4, (64, 64), 4, steps=20),
}


def get_preset(name: str, **overrides) -> Preset:
    return select_preset(PRESETS, name, "preset", overrides)


def preset_from_dict(d: dict) -> Preset:
    """A preset from its ``to_dict()`` (bundles and checkpoints of any version)."""
    return rebuild_preset(Preset, {"milestones": (0.8, 0.9), **d})


def select_preset(table: dict, name: str, label: str, overrides: dict):
    """``table[name]`` with ``overrides`` (None values ignored); ValueError in one line."""
    try:
        preset = table[name]
    except KeyError:
        raise ValueError(f"unknown {label} '{name}' (choose from {', '.join(table)})") from None
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(overrides) - {f.name for f in fields(preset)})
    if unknown:
        raise ValueError(f"{label} {name}: unknown setting(s) {', '.join(unknown)}")
    if "image_size" in overrides:
        overrides["image_size"] = tuple(overrides["image_size"])
    return replace(preset, **overrides) if overrides else preset


def rebuild_preset(cls, d: dict):
    """A preset dataclass from its ``to_dict()``: unknown keys dropped, lists made tuples."""
    known = {f.name for f in fields(cls)}
    d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known}
    return cls(**d)
