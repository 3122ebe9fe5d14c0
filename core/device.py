"""Device auto-selection shared by training and inference."""

from __future__ import annotations

import torch

from core.settings_env import resolve_threads


def select_device(preference: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else CPU. 'cuda' without a GPU is an error."""
    pref = (preference or "auto").lower()
    if pref == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device '{preference}' requested but no CUDA GPU is available")
    if pref not in ("cpu",) and not pref.startswith("cuda"):
        raise ValueError(f"unknown device '{preference}' (use auto, cpu or cuda[:N])")
    return torch.device(pref)


def configure_cpu_threads(threads: int | None = None) -> int:
    """Use every core for intra-op work unless told otherwise; returns the count set.

    ``threads`` (None or 0: automatic), else ``$LINEINSPECTOR_THREADS``, else every core; a
    count outside 1 .. :func:`core.settings_env.max_threads` is a SettingError (torch would
    crash on it), raised before torch sees it."""
    n = resolve_threads(threads)
    torch.set_num_threads(n)
    return n
