"""Where LineInspector keeps its data.

Precedence: an explicit folder (``--data-dir``), then the ``LINEINSPECTOR_DATA``
environment variable, then the platform's user data folder (``platformdirs``).

Layout under the data folder::

    recipes/<name>/recipe.toml            current recipe (recipe.toml.prev: the one before)
    recipes/<name>/models/v0001/          model.limodel + version.json
    recipes/<name>/models/activations.json
    results/results.sqlite                inspection results (WAL mode)
    archive/YYYY-MM-DD/<recipe>/...png    archived NG/REVIEW images and heat maps
    trash/                                deleted recipes (moved, not erased)
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "LINEINSPECTOR_DATA"
APP_NAME = "LineInspector"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """Resolve the data folder (not created here)."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def recipes_dir(root: Path) -> Path:
    return root / "recipes"


def results_db_path(root: Path) -> Path:
    return root / "results" / "results.sqlite"


def archive_dir(root: Path) -> Path:
    return root / "archive"


def trash_dir(root: Path) -> Path:
    return root / "trash"
