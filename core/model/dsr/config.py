"""DSR sizes in one dataclass, with the paper's configuration and smaller ones.

DSR (Zavrtanik, Kristan, Skocaj, ECCV 2022) is five networks around one VQ-VAE; every width
they use is a field here so that a configuration can be named, stored in a bundle and
rebuilt. ``paper()`` is the official code's sizes (train_dsr.py / test_dsr.py), ``tiny()``
is for tests, ``cpu()`` the one this product trains and runs on a CPU, chosen by
measurement (``bench/dsr_speed.py``, docs/BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DsrConfig:
    """Every size of the DSR networks.

    ``hidden`` / ``residual_hidden`` / ``residual_layers``: the VQ-VAE encoders' and both
    image decoders' widths and residual stacks. ``codebook_size`` x ``embedding_dim``: each
    of the two codebooks (fine level at 1/4 resolution, coarse at 1/8). ``restriction_width``:
    the base width of the subspace restriction networks (the official code uses the
    embedding dimension). ``object_bottleneck``: the object-specific decoder's narrowest
    width (64 in the official code, fixed there). ``detector_width``: the base width of the
    anomaly detection and upsampling U-Nets. ``commitment_cost``, ``decay``, ``epsilon``:
    the quantisers' commitment weight and EMA codebook update. ``dead_code_restart``: a code
    unused for this many codebook updates is restarted on a random feature (0: never, as the
    official code; see core/model/dsr/quantiser.py for why this project restarts them).
    """

    hidden: int = 128
    residual_hidden: int = 64
    residual_layers: int = 2
    codebook_size: int = 4096
    embedding_dim: int = 128
    restriction_width: int = 128
    object_bottleneck: int = 64
    detector_width: int = 64
    commitment_cost: float = 0.25
    decay: float = 0.99
    epsilon: float = 1e-5
    channels: int = 3
    dead_code_restart: int = 20

    #: input height and width must be multiples of this: the coarse level is at 1/8 and the
    #: subspace restriction network pools it twice more; the object decoder pools 1/4 twice.
    MULTIPLE = 32

    def __post_init__(self) -> None:
        for name in ("hidden", "residual_hidden", "codebook_size", "embedding_dim",
                     "restriction_width", "object_bottleneck", "detector_width", "channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"DsrConfig.{name} must be positive, got {getattr(self, name)}")
        if self.hidden % 2:
            raise ValueError(f"DsrConfig.hidden must be even (its half is a layer width), got {self.hidden}")
        if self.residual_layers < 0:
            raise ValueError("DsrConfig.residual_layers must be >= 0")
        if self.dead_code_restart < 0:
            raise ValueError(f"DsrConfig.dead_code_restart must be >= 0, got {self.dead_code_restart}")
        if not 0.0 <= self.decay < 1.0:
            raise ValueError(f"DsrConfig.decay must be in [0, 1), got {self.decay}")

    @classmethod
    def paper(cls) -> "DsrConfig":
        """The paper's and official code's sizes: 4,096 x 128 codebooks, hidden 128."""
        return cls()

    @classmethod
    def cpu(cls) -> "DsrConfig":
        """The CPU configuration: a quarter of the paper's widths, 512 codes of 32 dimensions,
        detection U-Nets of width 8. Measured on the 2-core CPU (bench/dsr_speed.py), a
        256x256 frame took 1,919 ms with the paper's sizes, 258 ms with half widths and
        detector 8, about 120 ms with these; the detection U-Nets at full resolution are
        half of that, the rest is the VQ-VAE and both decoders."""
        return cls(hidden=32, residual_hidden=16, codebook_size=512, embedding_dim=32,
                   restriction_width=16, object_bottleneck=16, detector_width=8)

    @classmethod
    def tiny(cls) -> "DsrConfig":
        """Smallest useful sizes, for tests: every layer exists, each is a few channels wide."""
        return cls(hidden=8, residual_hidden=4, residual_layers=1, codebook_size=32,
                   embedding_dim=8, restriction_width=4, object_bottleneck=4, detector_width=4)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "DsrConfig":
        """Rebuild from ``to_dict`` output; unknown keys are an error, not silently dropped."""
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown DsrConfig fields: {sorted(unknown)}")
        return cls(**values)
