"""Persistence: recipes and model versions on disk, and the results store (no Qt; numpy/cv2
only where images are). The recipe model itself (Recipe, Thresholds, Verdict, ...) is
:mod:`core.recipe`.

Public API::

    RecipeStore, RecipeListing, ModelVersion
    ResultsStore, ResultRecord, ResultsQuery, ResultsWriter, ImageArchive
    data_dir
    StoreError, VersionError, ResultsError
"""

from core.store.archive import ArchivedPaths, ImageArchive, PruneReport
from core.store.errors import ResultsError, StoreError, VersionError
from core.store.paths import data_dir
from core.store.recipe_store import RecipeListing, RecipeStore
from core.store.records import ResultRecord
from core.store.results import ResultsStore
from core.store.results_query import RecipeSummary, ResultsQuery, ScoreHistogram
from core.store.results_writer import ResultsWriter
from core.store.versions import ModelVersion

__all__ = [
    "ArchivedPaths", "ImageArchive", "ModelVersion", "PruneReport", "RecipeListing",
    "RecipeStore", "RecipeSummary", "ResultRecord", "ResultsError", "ResultsQuery",
    "ResultsStore", "ResultsWriter", "ScoreHistogram", "StoreError", "VersionError", "data_dir",
]
