"""Simulated production line: the embedded default source when no camera is attached.

Parts (brushed metal or moulded plastic) ride a conveyor past the camera with small
variations of position, rotation, lighting and noise; a configurable fraction carries
a defect (scratch, dent, stain, crack, chip) whose ground-truth mask is in
``frame.metadata["defect_mask"]`` (uint8 0/255, same HxW as the image) with
``frame.metadata["defect_type"]`` (None for a good part). Frame ``i`` depends only on
the configuration and the seed, never on timing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from numbers import Real
from typing import Any

import cv2
import numpy as np

from core.camera.base import Capabilities, DeviceInfo, Feature, FeatureInfo, SourceIdentity, Support, feature_name
from core.camera.errors import FeatureError
from core.camera.paced import MAX_FPS, PacedSource
from core.camera.sim.defects import DEFECT_TYPES, apply_defect
from core.camera.sim.render import MATERIALS, SHAPES, compose, render_belt, render_part

MIN_SIZE, MAX_SIZE = 32, 4096
BASE_EXPOSURE_US = 5000.0
NOISE_MARGIN = 64  # the noise field is this much larger than a frame, both ways
# What a user may type for each numeric option (the camera feature ranges for exposure and
# gain); nan, inf and absurd values are refused with the option's name.
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "seed": (0, 2**63 - 1), "fps": (0.0, MAX_FPS), "noise": (0.0, 255.0), "jitter": (0.0, 1.0),
    "rotation": (0.0, 180.0), "lighting": (0.0, 1.0), "exposure_us": (10.0, 100000.0),
    "gain_db": (0.0, 24.0), "belt_speed": (-1024, 1024),
}


@dataclass(slots=True)
class SimLineConfig:
    seed: int = 0
    fps: float = 20.0
    width: int = 256
    height: int = 256
    defect_rate: float = 0.2
    defect_types: tuple[str, ...] = DEFECT_TYPES
    material: str = "metal"
    shape: str = "plate"
    color: bool = True  # BGR8; False: Mono8
    noise: float = 2.5  # sensor noise sigma at gain 0 dB (grey levels)
    jitter: float = 0.04  # position jitter, fraction of the part size
    rotation: float = 6.0  # rotation jitter, degrees
    lighting: float = 0.08  # brightness and gradient jitter
    exposure_us: float = BASE_EXPOSURE_US
    gain_db: float = 0.0
    belt_speed: int = 7  # belt texture shift per frame, pixels
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        if not (MIN_SIZE <= self.width <= MAX_SIZE and MIN_SIZE <= self.height <= MAX_SIZE):
            raise ValueError(f"sim width/height must be in [{MIN_SIZE}, {MAX_SIZE}], got {self.width}x{self.height}")
        if not 0.0 <= self.defect_rate <= 1.0:
            raise ValueError(f"sim defect_rate must be in [0, 1], got {self.defect_rate}")
        bad = [t for t in self.defect_types if t not in DEFECT_TYPES]
        if bad or not self.defect_types:
            raise ValueError(f"sim defect_types {bad or '(empty)'} invalid; choose from {', '.join(DEFECT_TYPES)}")
        if self.material not in MATERIALS:
            raise ValueError(f"sim material must be one of {', '.join(MATERIALS)}, got {self.material!r}")
        if self.shape not in SHAPES:
            raise ValueError(f"sim shape must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        for name, (low, high) in NUMBER_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not (
                    math.isfinite(value) and low <= value <= high):
                raise ValueError(f"sim {name} must be a number from {low:g} to {high:g}, got {value!r}")
        if self.extra:
            raise ValueError(f"unknown sim option(s): {', '.join(sorted(self.extra))}")

    @classmethod
    def from_options(cls, options: dict[str, str]) -> SimLineConfig:
        """Build from ``key=value`` strings (the ``sim:seed=3,fps=20`` spec form)."""
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, raw in options.items():
            if key not in known:
                extra[key] = raw
                continue
            default = getattr(cls(), key)
            try:
                if isinstance(default, bool):
                    kwargs[key] = str(raw).lower() in ("1", "true", "yes", "on")
                elif isinstance(default, tuple):
                    items = raw if isinstance(raw, (list, tuple)) else str(raw).replace("+", "|").split("|")
                    kwargs[key] = tuple(str(t).strip() for t in items if str(t).strip())
                else:
                    kwargs[key] = type(default)(raw)
            except ValueError:
                raise ValueError(f"sim option {key}={raw!r} is not a valid {type(default).__name__}") from None
        config = cls(**kwargs, extra=extra)
        config.validate()
        return config


class SimLineRenderer:
    """Renders frame ``i`` of a configuration; the clean part is pre-rendered once."""

    def __init__(self, config: SimLineConfig) -> None:
        config.validate()
        self.config = config
        rng = np.random.default_rng([config.seed, 0x5EED])
        w, h = config.width, config.height
        self.part = render_part(rng, int(min(w, h) * 0.7), config.material, config.shape)
        self._period = 128
        self.belt = render_belt(rng, w, h, self._period)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        self._ramp_x, self._ramp_y = (xs / w - 0.5), (ys / h - 0.5)
        self._shadow_src = cv2.GaussianBlur(self.part.alpha, (0, 0), self.part.size / 40)
        # Sensor noise: drawing 3*w*h normals costs ~5 ms a frame, more than the rest of the
        # frame; a frame takes a window of a field drawn once, at an offset of its own.
        self._noise_field = rng.standard_normal((h + NOISE_MARGIN, w + NOISE_MARGIN, 3), dtype=np.float32)

    def render(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        cfg = self.config
        # Independent streams: a defect never shifts the pose, lighting or noise of frame i.
        rng, rng_defect, rng_noise = (np.random.default_rng([cfg.seed, index, k]) for k in range(3))
        w, h, s = cfg.width, cfg.height, self.part.size
        defect = None
        if rng.random() < cfg.defect_rate:
            defect = str(cfg.defect_types[int(rng.integers(len(cfg.defect_types)))])
        dx, dy = rng.uniform(-cfg.jitter, cfg.jitter, 2) * s
        angle = float(rng.uniform(-cfg.rotation, cfg.rotation))
        gx, gy, level = (float(v) for v in rng.uniform(-cfg.lighting, cfg.lighting, 3))
        tex, alpha = self.part.texture, self.part.alpha
        mask_part = None
        if defect is not None:
            tex, alpha = tex.copy(), alpha.copy()
            mask_part = apply_defect(defect, tex, alpha, self.part, rng_defect)
        m = cv2.getRotationMatrix2D((s / 2, s / 2), angle, 1.0)
        m[:, 2] += (w / 2 - s / 2 + dx, h / 2 - s / 2 + dy)
        part = cv2.warpAffine(np.dstack([tex, alpha]), m, (w, h), flags=cv2.INTER_LINEAR)
        m_shadow = m.copy()
        m_shadow[:, 2] += (s * 0.03, s * 0.04)
        shadow = cv2.warpAffine(self._shadow_src, m_shadow, (w, h), flags=cv2.INTER_LINEAR)
        shift = (index * cfg.belt_speed) % self._period
        belt = self.belt[:, shift: shift + w]
        light = (1.0 + level) + gx * self._ramp_x + gy * self._ramp_y  # stays float32
        gain = 10.0 ** (cfg.gain_db / 20.0)
        oy, ox = rng_noise.integers(0, NOISE_MARGIN + 1, 2)
        noise = self._noise_field[oy:oy + h, ox:ox + w] * np.float32(cfg.noise * gain)
        image = compose(belt, part[:, :, :3], part[:, :, 3], shadow, light,
                        noise, cfg.exposure_us / BASE_EXPOSURE_US * gain)
        if not cfg.color:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        mask = np.zeros((h, w), np.uint8)
        if mask_part is not None:
            warped = cv2.warpAffine(mask_part, m, (w, h), flags=cv2.INTER_LINEAR)
            mask = np.where(warped > 127, 255, 0).astype(np.uint8)
        meta = {"defect_type": defect, "defect_mask": mask, "part_index": index,
                "pose": {"dx": float(dx), "dy": float(dy), "angle": angle}}
        return image, meta


class SimLineSource(PacedSource):
    """The simulated line as a camera source (software trigger, fault injection)."""

    kind = "sim"
    # like output_watchers, for every instance: a bench peer that never sees the station's source
    every_output_watchers: list[Callable[[str, bool], None]] = []

    def __init__(self, config: SimLineConfig | None = None, **overrides: Any) -> None:
        config = replace(config or SimLineConfig(), **overrides)
        config.validate()
        super().__init__(config.fps)
        self._config = config
        self._renderer: SimLineRenderer | None = None
        self.output_states: dict[str, bool] = {}
        # called with (line, value) on each set_digital_output, on the caller's thread (bench peers)
        self.output_watchers: list[Callable[[str, bool], None]] = []

    @property
    def config(self) -> SimLineConfig:
        return self._config

    @property
    def identity(self) -> SourceIdentity:
        return SourceIdentity(self.kind, f"seed={self._config.seed}")

    def _open(self) -> None:
        cfg = self._config
        old = self._renderer.config if self._renderer is not None else None
        geometry = lambda c: (c.seed, c.width, c.height, c.material, c.shape)  # noqa: E731
        if old is None or geometry(old) != geometry(cfg):
            self._renderer = SimLineRenderer(cfg)
        else:
            self._renderer.config = cfg  # per-frame parameters only

    def _produce(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        assert self._renderer is not None
        return self._renderer.render(index)

    def render(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Frame ``index`` directly (no pacing); handy for datasets and tests."""
        self._open()
        return self._produce(index)

    def capabilities(self) -> Capabilities:
        caps = super().capabilities()
        cfg, f = self._config, caps.features
        rw = Support.READ_WRITE
        f[Feature.EXPOSURE] = FeatureInfo(rw, cfg.exposure_us, 10.0, 100000.0, None, unit="us")
        f[Feature.GAIN] = FeatureInfo(rw, cfg.gain_db, 0.0, 24.0, None, unit="dB")
        f[Feature.WIDTH] = FeatureInfo(rw, cfg.width, MIN_SIZE, MAX_SIZE, 1, unit="px")
        f[Feature.HEIGHT] = FeatureInfo(rw, cfg.height, MIN_SIZE, MAX_SIZE, 1, unit="px")
        f[Feature.PIXEL_FORMAT] = FeatureInfo(rw, "BGR8" if cfg.color else "Mono8", choices=("BGR8", "Mono8"))
        f[Feature.DIGITAL_OUTPUT] = FeatureInfo(rw, dict(self.output_states), choices=("Line1", "Line2"))
        return caps

    def set_feature(self, name: Feature | str, value: Any) -> None:
        feature = feature_name(name)
        changes: dict[str, Any] = {}
        try:
            if feature is Feature.EXPOSURE:
                changes["exposure_us"] = float(value)
            elif feature is Feature.GAIN:
                changes["gain_db"] = float(value)
            elif feature in (Feature.WIDTH, Feature.HEIGHT):
                changes[feature.value] = int(value)
            elif feature is Feature.PIXEL_FORMAT:
                if value not in ("BGR8", "Mono8"):
                    raise FeatureError(f"{self.source_id}: pixel_format must be BGR8 or Mono8, got {value!r}")
                changes["color"] = value == "BGR8"
        except (TypeError, ValueError):
            raise FeatureError(f"{self.source_id}: {feature.value} needs a number, got {value!r}") from None
        if not changes:
            super().set_feature(feature, value)
            if feature is Feature.FRAME_RATE:
                self._config = replace(self._config, fps=self._fps)
            return
        info = self.capabilities().info(feature)
        number = next(iter(changes.values()))
        if info.minimum is not None and not isinstance(number, bool) and not (
            info.minimum <= number <= info.maximum and math.isfinite(number)
        ):
            raise FeatureError(f"{self.source_id}: {feature.value}={number} out of range [{info.minimum}, {info.maximum}]")
        self._config = replace(self._config, **changes)
        if self.is_open:
            self._open()

    def set_digital_output(self, line: str, value: bool) -> None:
        if line not in ("Line1", "Line2"):
            raise FeatureError(f"{self.source_id}: no output line {line!r} (have Line1, Line2)")
        self.output_states[line] = bool(value)
        for watch in (*self.output_watchers, *SimLineSource.every_output_watchers):
            watch(line, bool(value))

    def line_status(self, line: str) -> bool | None:
        if line not in ("Line1", "Line2"):
            return None
        return self.output_states.get(line, False)


def sim_device_info() -> DeviceInfo:
    return DeviceInfo(kind="sim", id="default", model="Simulated production line",
                      vendor="LineInspector", description="procedural parts with defects",
                      open_spec="sim")
