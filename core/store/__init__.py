"""Recipes, model versions and the results store (no Qt; numpy/cv2 only where images are).

Public API::

    RecipeStore, Recipe, CameraConfig, Roi, Preprocessing, Thresholds, ModelVersion
    ResultsStore, ResultRecord, ResultsQuery, ResultsWriter, ImageArchive
    Verdict, verdict_for, data_dir
    StoreError, RecipeError, VersionError, ResultsError
"""

from core.store.archive import ArchivedPaths, ImageArchive, PruneReport
from core.store.errors import RecipeError, ResultsError, StoreError, VersionError
from core.store.paths import data_dir
from core.store.recipe import CameraConfig, Preprocessing, Recipe, Roi, Thresholds, TrainingConfig
from core.store.recipes import RecipeListing, RecipeStore
from core.store.records import ResultRecord
from core.store.results import ResultsStore
from core.store.results_query import RecipeSummary, ResultsQuery, ScoreHistogram
from core.store.results_writer import ResultsWriter
from core.store.thresholds import Verdict, verdict_for
from core.store.versions import ModelVersion

__all__ = [
    "ArchivedPaths", "CameraConfig", "ImageArchive", "ModelVersion", "Preprocessing",
    "PruneReport", "Recipe", "RecipeError", "RecipeListing", "RecipeStore", "RecipeSummary",
    "ResultRecord", "ResultsError", "ResultsQuery", "ResultsStore", "ResultsWriter", "Roi",
    "ScoreHistogram", "StoreError", "Thresholds", "TrainingConfig", "Verdict", "VersionError", "data_dir",
    "verdict_for",
]
