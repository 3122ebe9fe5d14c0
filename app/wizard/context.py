"""What the wizard pages share: the store, the recipe being built, where its files go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.recipe import Preprocessing, Roi
from core.store import RecipeStore
from core.training.collect import SampleFolder
from core.training.share import LiveInspection


def default_preset(device: str = "auto") -> str:
    """'paper' where a CUDA GPU will train, else 'fast'."""
    import torch

    return "paper" if device != "cpu" and torch.cuda.is_available() else "fast"


@dataclass
class WizardContext:
    store: RecipeStore
    source: str = "sim"
    recipe_name: str = ""
    is_new: bool = True
    roi: Roi | None = None
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    model: str = "draem"              # the model kind to train: "draem" or "dsr" (the recipe's choice)
    preset: str = "fast"
    anomalies: str = "defects"        # synthetic anomalies: "defects" or "paper" (the recipe's choice)
    steps: int | None = None          # overrides the preset's steps (tests, smoke runs)
    workers: int | None = None
    device: str = "auto"
    auto_measure: bool = True         # time the selected preset when the Train page opens
    seed: int = 0
    holdout: float = 0.1
    false_reject: float = 0.01
    result: dict | None = None        # the training job's "done" event
    validation: dict | None = None    # figures and proposed thresholds from the Validate page
    deployed_version: int | None = None
    retrain: str = ""                 # recipe preselected for retraining on the Part page
    live: LiveInspection | None = None  # the live window's inspection (paused while training on a CPU)
    # the live window's role gate: (recipe, reason, bundle) checks the role and writes the audit
    # entry before a deploy (raises to refuse); set, the Deploy page asks for a reason
    record_deploy: Callable[[str, str, str], None] | None = None

    @property
    def work_dir(self) -> Path:
        """``<data>/training/<recipe>``: samples and the training run of this recipe."""
        return self.store.data_dir / "training" / self.recipe_name

    @property
    def run_dir(self) -> Path:
        return self.work_dir / "run"

    def samples(self) -> SampleFolder:
        return SampleFolder(self.work_dir / "samples")

    @property
    def bundle(self) -> Path | None:
        return Path(self.result["bundle"]) if self.result else None
