"""The recipe floor: what one inspected part is, below ``inspection/`` and ``store/`` (it
imports neither; numpy only, for the preprocessing).

Public API::

    Recipe, CameraConfig, Roi, Preprocessing, TrainingConfig, check_name   (core.recipe.model)
    Thresholds, Verdict, verdict_for, check_limits, VERDICTS               (core.recipe.thresholds)
    apply_preprocessing                                                    (core.recipe.preprocess)
    RecipeError                                                            (core.recipe.errors)
"""

from core.recipe.errors import RecipeError
from core.recipe.model import CameraConfig, Preprocessing, Recipe, Roi, TrainingConfig, check_name
from core.recipe.preprocess import apply_preprocessing
from core.recipe.thresholds import VERDICTS, Thresholds, Verdict, check_limits, verdict_for

__all__ = [
    "VERDICTS", "CameraConfig", "Preprocessing", "Recipe", "RecipeError", "Roi", "Thresholds",
    "TrainingConfig", "Verdict", "apply_preprocessing", "check_limits", "check_name", "verdict_for",
]
