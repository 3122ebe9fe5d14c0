"""How a training run (and its measuring probe) and live inspection share the machine.

On a CPU both want every core: PyTorch's OpenMP threads wait for each other at every layer,
so two jobs on the same cores slow each other several-fold (on the 2-core machine: tiny at
7.0 s per step with 2 threads beside live inspection, 0.45 s alone; inspection fell to
1-5 fps). The choice made here: **on a CPU, live inspection is paused while the wizard
measures or trains, and training gets the cores** (the thread count the probe is measured
with is the one the run gets, so the estimate is what the run will see). On a GPU training
runs on the GPU and live inspection goes on.

:class:`CpuClaims` counts who needs the cores (the probe, the run): live inspection is
paused at the first claim and resumed after the last release.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.settings_env import THREADS_ENV, SettingError, check_threads


@dataclass(frozen=True)
class TrainingShare:
    threads: int | None   # torch threads of the run and of its probe (None: a GPU's default)
    pause_live: bool      # live inspection is paused while the probe or the run uses the CPU


def training_threads(cores: int | None = None, env: dict | None = None) -> int:
    """The cores (LINEINSPECTOR_THREADS overrides, when it is a valid thread count; a bad one
    is refused at start-up by :func:`core.settings_env.check_environment`)."""
    env = os.environ if env is None else env
    raw = env.get(THREADS_ENV) or ""
    try:
        n = check_threads(raw, THREADS_ENV) if raw.strip() else None
    except SettingError:
        n = None
    return n or max(1, cores or os.cpu_count() or 1)


def plan_share(cuda: bool, cores: int | None = None, env: dict | None = None) -> TrainingShare:
    if cuda:
        return TrainingShare(threads=None, pause_live=False)
    return TrainingShare(threads=training_threads(cores, env), pause_live=True)


class LiveInspection(Protocol):
    """What the wizard sees of the live window's inspection."""

    def describe(self) -> str | None:
        """What is being inspected ("recipe 'demo' on sim"), None when nothing is."""

    def pause(self, why: str) -> None: ...

    def resume(self) -> None: ...


class CpuClaims:
    """``claim(who)`` / ``release(who)``; ``pause(why)`` at the first claim, ``resume()``
    after the last release. Claiming twice or releasing what is not held does nothing."""

    def __init__(self, pause: Callable[[str], None], resume: Callable[[], None]) -> None:
        self._pause, self._resume = pause, resume
        self.held: set[str] = set()

    def claim(self, who: str, why: str) -> None:
        if who in self.held:
            return
        self.held.add(who)
        if len(self.held) == 1:
            self._pause(why)

    def release(self, who: str) -> None:
        if who not in self.held:
            return
        self.held.discard(who)
        if not self.held:
            self._resume()

    def release_all(self) -> None:
        for who in list(self.held):
            self.release(who)
