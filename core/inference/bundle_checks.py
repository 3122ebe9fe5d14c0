"""What a model bundle must satisfy before anything uses it.

:func:`validate_meta`: every metadata field with its type and range (header only, cheap).
:func:`verify_weights`: every tensor the metadata's model has, with its shape, a floating
point type (integers only for BatchNorm's batch counters), finite values and non-negative
BatchNorm variances. :func:`probe_model`: one inference on a small synthetic image must give
finite results. Each raises ``ValueError`` with one line naming the field or tensor; the
callers (:mod:`core.inference.bundle`) put the file's name in front.

Two model kinds (issue 15), named by ``meta["model"]``: ``"draem"`` (the default: bundles
written before DSR have no such field) with its two widths, and ``"dsr"`` with its sizes in
``meta["dsr"]`` (``DsrConfig.to_dict()``).
"""

from __future__ import annotations

import functools
from typing import Any

from core.recipe import Thresholds

MAX_DEPTH = 32                      # nesting of the metadata's JSON (ours is 3 deep)
MIN_SIDE, MAX_SIDE, SIDE_STEP = 32, 4096, 32   # the discriminative U-Net pools 5 times
MAX_WIDTH = 512                     # the paper's widths are 128 / 64
MAX_FEATURE_MAP_BYTES = 2 << 30     # one float32 feature map at full input resolution
CHANNELS = (3,)                     # the input pipeline always gives RGB
PROBE_SIDE = 128                    # probe inference: image_size, at most this per side
_WIDTHS = ("recon_width", "disc_width")
MODEL_KINDS = ("draem", "dsr")
#: metadata keys every bundle needs, per model kind
REQUIRED_META = {"draem": ("format_version", "preset", "recon_width", "disc_width", "image_size"),
                 "dsr": ("format_version", "preset", "dsr", "image_size")}
DSR_MIN_SIDE = 64                   # DsrModel.check_size: multiples of 32, at least 64
MAX_CODEBOOK = 16384                # the paper's codebooks hold 4,096 codes
MAX_RESIDUAL_LAYERS = 16
#: DsrConfig's whole-number fields that are not widths (those are in [1, MAX_WIDTH])
_DSR_INT_RANGES = {"codebook_size": (1, MAX_CODEBOOK), "residual_layers": (0, MAX_RESIDUAL_LAYERS),
                   "dead_code_restart": (0, 1_000_000)}
_TABLES = ("validation", "score_stats", "training", "preset_settings", "input", "separability")
_TEXTS = ("software_version", "created", "kind", "quantization")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            if d > MAX_DEPTH:
                return d
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return deepest


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def image_size_of(meta: dict) -> tuple[int, int]:
    size = meta.get("image_size")
    if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) for v in size)):
        raise ValueError(f"image_size must be two whole numbers [height, width], got {_short(size)}")
    for side in size:
        if not MIN_SIDE <= side <= MAX_SIDE or side % SIDE_STEP:
            raise ValueError(f"image_size {size[0]}x{size[1]}: each side must be a multiple of "
                             f"{SIDE_STEP} in [{MIN_SIDE}, {MAX_SIDE}]")
    return size[0], size[1]


def check_thresholds(t: Any) -> None:
    if not isinstance(t, dict):
        raise ValueError(f"thresholds must be a table, got {_short(t)}")
    Thresholds.from_mapping(t)  # the limits, as a recipe checks them
    frt = t.get("false_reject_target")
    if frt is not None and not (_is_number(frt) and 0.0 < frt < 1.0):
        raise ValueError(f"thresholds.false_reject_target must be in (0, 1), got {_short(frt)}")


def model_kind(meta: dict) -> str:
    """``meta["model"]``: "draem" when absent (old bundles), else "draem" or "dsr"."""
    kind = meta.get("model", "draem")
    if kind not in MODEL_KINDS:
        raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}, got {_short(kind)} "
                         f"(a bundle of a newer LineInspector?)")
    return kind


def required_meta(meta: dict) -> tuple[str, ...]:
    """The keys a bundle of this metadata's model kind must have."""
    return REQUIRED_META[model_kind(meta)]


def dsr_config(meta: dict):
    """``meta["dsr"]`` as a DsrConfig; ValueError naming the first bad field (one line)."""
    from core.model.dsr.config import DsrConfig

    values = meta.get("dsr")
    if not isinstance(values, dict):
        raise ValueError(f"dsr must be a table of DSR sizes, got {_short(values)}")
    fields = DsrConfig.__dataclass_fields__
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"dsr has unknown field {unknown[0]!r}")
    for name, v in values.items():
        default = getattr(DsrConfig, name)
        if isinstance(default, float):
            if not _is_number(v) or v != v or v in (float("inf"), float("-inf")) or v < 0:
                raise ValueError(f"dsr.{name} must be a non-negative number, got {_short(v)}")
        elif not _is_int(v):
            raise ValueError(f"dsr.{name} must be a whole number, got {_short(v)}")
        else:
            low, high = _DSR_INT_RANGES.get(name, (1, MAX_WIDTH))
            if not low <= v <= high:
                raise ValueError(f"dsr.{name} must be a whole number in [{low}, {high}], got {v}")
    if values.get("channels", 3) not in CHANNELS:
        raise ValueError(f"dsr.channels must be 3 (RGB), got {_short(values.get('channels'))}")
    if values.get("epsilon", 1.0) == 0:
        raise ValueError("dsr.epsilon must be positive, got 0")
    try:
        return DsrConfig.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dsr: {str(exc).splitlines()[0]}") from None


def _dsr_largest_map(h: int, w: int, cfg) -> int:
    """Floats in DSR's largest single tensor for an h x w input: a detector U-Net's first
    level, the fine encoder's first level, the object decoder's widest level (1/4) or the
    fine level's distances to every code."""
    return max(h * w * (2 * cfg.channels + 2), h * w * cfg.detector_width,
               h * w // 4 * (cfg.hidden // 2), h * w // 16 * 4 * cfg.embedding_dim,
               h * w // 16 * cfg.codebook_size)


def _check_model_sizes(meta: dict, h: int, w: int) -> None:
    """The model kind's own fields, and that one feature map fits in memory."""
    if model_kind(meta) == "dsr":
        cfg = dsr_config(meta)
        if min(h, w) < DSR_MIN_SIDE:
            raise ValueError(f"image_size {h}x{w}: DSR needs each side at least {DSR_MIN_SIDE}")
        floats, what = _dsr_largest_map(h, w, cfg), "the DSR sizes"
    else:
        for key in _WIDTHS:
            v = meta.get(key)
            if not _is_int(v) or not 1 <= v <= MAX_WIDTH:
                raise ValueError(f"{key} must be a whole number in [1, {MAX_WIDTH}], got {_short(v)}")
        width = max(meta["recon_width"], meta["disc_width"])
        floats, what = h * w * width, f"width {width}"
    if floats * 4 > MAX_FEATURE_MAP_BYTES:
        raise ValueError(f"image_size {h}x{w} at {what} needs over "
                         f"{MAX_FEATURE_MAP_BYTES >> 30} GiB per feature map; too large to run")


def validate_meta(meta: Any) -> dict:
    """Raise ValueError naming the first field whose type or range is wrong; return ``meta``."""
    if not isinstance(meta, dict):
        raise ValueError(f"metadata must be a JSON object, got {type(meta).__name__}")
    if _depth(meta) > MAX_DEPTH:
        raise ValueError(f"metadata is nested deeper than {MAX_DEPTH} levels")
    version = meta.get("format_version")
    if not _is_int(version) or version < 1:
        raise ValueError(f"format_version must be a whole number >= 1, got {_short(version)}")
    preset = meta.get("preset")
    if not isinstance(preset, str) or not preset.strip() or len(preset) > 200:
        raise ValueError(f"preset must be a name, got {_short(preset)}")
    model_kind(meta)
    channels = meta.get("channels", 3)
    if not _is_int(channels) or channels not in CHANNELS:
        raise ValueError(f"channels must be 3 (RGB), got {_short(channels)}")
    h, w = image_size_of(meta)
    _check_model_sizes(meta, h, w)
    if meta.get("thresholds") is not None:
        check_thresholds(meta["thresholds"])
    for key in _TABLES:
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise ValueError(f"{key} must be a table, got {_short(meta[key])}")
    for key in _TEXTS:
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise ValueError(f"{key} must be text, got {_short(meta[key])}")
    data = meta.get("training_data")
    if data is not None and not isinstance(data, (str, dict)):
        raise ValueError(f"training_data must be text or a table, got {_short(data)}")
    if "grayscale" in meta and not isinstance(meta["grayscale"], bool):
        raise ValueError(f"grayscale must be true or false, got {_short(meta['grayscale'])}")
    if meta.get("input") is not None:
        from core.inference.tiling import InputSpec

        InputSpec.from_meta(meta)  # ValueError names mode, scale or overlap
    return meta


def build_empty_model(meta: dict):
    """The model the metadata describes, with PyTorch's initial weights (validated metadata)."""
    if model_kind(meta) == "dsr":
        from core.model.dsr.model import DsrModel

        return DsrModel(dsr_config(meta))
    from core.model.draem import DraemModel

    return DraemModel(int(meta["recon_width"]), int(meta["disc_width"]), int(meta.get("channels", 3)))


def describe_sizes(meta: dict) -> str:
    """The model's sizes in a few words, for messages: 'recon_width 8, disc_width 4' or
    'DSR hidden 8, codebooks 32x8'."""
    if model_kind(meta) == "dsr":
        cfg = dsr_config(meta)
        return f"DSR hidden {cfg.hidden}, codebooks {cfg.codebook_size}x{cfg.embedding_dim}"
    return f"recon_width {meta['recon_width']}, disc_width {meta['disc_width']}"


def expected_tensors(meta: dict) -> dict:
    """name -> (shape, is_float) of the model the metadata describes (no memory allocated)."""
    if model_kind(meta) == "dsr":
        return dict(_expected(("dsr", dsr_config(meta))))
    return dict(_expected(("draem", meta["recon_width"], meta["disc_width"], meta.get("channels", 3))))


@functools.lru_cache(maxsize=16)
def _expected(key: tuple) -> tuple:
    """Keyed by the kind and its sizes (a DsrConfig is frozen, so hashable)."""
    import torch

    meta = ({"model": "dsr", "dsr": key[1].to_dict()} if key[0] == "dsr"
            else {"recon_width": key[1], "disc_width": key[2], "channels": key[3]})
    with torch.device("meta"):
        model = build_empty_model(meta)
    return tuple((k, (tuple(v.shape), v.dtype.is_floating_point)) for k, v in model.state_dict().items())


def verify_weights(state: dict, meta: dict) -> None:
    """Raise ValueError unless ``state`` holds exactly the model's tensors, sane (see module)."""
    import torch

    expected = expected_tensors(meta)
    widths = describe_sizes(meta)
    missing = [k for k in expected if k not in state]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise ValueError(f"weights do not match the metadata ({widths}): tensor {missing[0]}{more} missing")
    extra = [k for k in state if k not in expected]
    if extra:
        raise ValueError(f"weights do not match the metadata ({widths}): unexpected tensor {extra[0]}")
    for name, (shape, is_float) in expected.items():
        t = state[name]
        if tuple(t.shape) != shape:
            raise ValueError(f"weights do not match the metadata ({widths}): {name} has shape "
                             f"{list(t.shape)}, expected {list(shape)}")
        if is_float:
            if not t.dtype.is_floating_point:
                raise ValueError(f"tensor {name} is {str(t.dtype).replace('torch.', '')}; "
                                 f"weights must be floating point")
            if not bool(torch.isfinite(t).all()):
                raise ValueError(f"tensor {name} holds NaN or infinite values")
            if name.endswith("running_var") and bool((t < 0).any()):
                raise ValueError(f"BatchNorm variance {name} is negative")
        elif t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool \
                or bool((t < 0).any()):
            raise ValueError(f"tensor {name} must be a non-negative integer count, "
                             f"got {str(t.dtype).replace('torch.', '')}")


def probe_model(model, meta: dict) -> None:
    """One inference on a small synthetic image (the image_size, at most PROBE_SIDE a side, on
    the CPU); ValueError unless the reconstruction, map and score are finite."""
    import numpy as np
    import torch

    from core.inference.scoring import anomaly_map, image_scores, smoothing_kernel

    h, w = (min(s, PROBE_SIDE) for s in image_size_of(meta))
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0.2, 0.8, (1, 3, h, w)).astype(np.float32))
    model = model.float().eval()
    with torch.inference_mode():
        rec, logits = model(x)
        amap = anomaly_map(logits.float())
        score = image_scores(amap, smoothing_kernel((h, w)))
    for what, t in (("reconstruction", rec), ("anomaly map", amap), ("score", score)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"a test inference gives a non-finite {what} (the weights are unusable)")
