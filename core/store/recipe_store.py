"""RecipeStore: recipes on disk (one TOML file each) and their model versions.

Saves are atomic and keep the previous file as ``recipe.toml.prev``. A broken recipe never
stops the others from loading: :meth:`RecipeStore.list` returns the good ones plus
``(name, message)`` for each broken one.

Every change of a recipe and its sidecars runs under the recipe's lock (an OS file lock in
``recipes/.locks/``, see :mod:`core.filelock`), so two programs changing the same recipe
never lose each other's updates. The active version and the activation stack are written
together in ``recipe.toml``; the activation log (``models/activations.json``) follows. Stale
staging folders of interrupted ``add_version`` calls are removed when the store is opened.
:meth:`RecipeStore.deploy` adds and activates a trained model with one write of the recipe.
The file itself is read and written by :mod:`core.store.recipe_file`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from core.crashpoint import crash_point
from core.filelock import FileLock, LockBusyError
from core.recipe import (CameraConfig, Preprocessing, Recipe, RecipeError, Roi, Thresholds,
                         TrainingConfig, check_name)
from core.store import paths
from core.store.errors import StoreError, VersionError
from core.store.recipe_file import RECIPE_FILE, read_recipe, write_recipe
from core.store.staging import clean_stale
from core.store.versions import (ModelVersion, VersionRegistry, current_user,
                                 read_bundle_meta_checked, thresholds_from_meta)

LOCK_DIR = ".locks"
LOCK_TIMEOUT_S = 60.0


class RecipeListing(NamedTuple):
    recipes: list[Recipe]
    errors: list[tuple[str, str]]  # (folder name, message) of recipes that failed to load


class RecipeStore:
    """All recipes under ``<data>/recipes``. ``data_dir`` None: see :func:`paths.data_dir`."""

    def __init__(self, data_dir: str | os.PathLike | None = None) -> None:
        self.data_dir = paths.data_dir(data_dir)
        self.root = paths.recipes_dir(self.data_dir)
        self.clean_staging()

    def clean_staging(self) -> list[Path]:
        """Remove what interrupted writers left (staging folders of dead owners, old temporary
        files) in every recipe; returns what was removed. Never raises."""
        removed: list[Path] = []
        try:
            folders = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            return removed
        for folder in folders:
            removed += clean_stale(folder / "models")
            removed += clean_stale(folder)
        return removed

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold recipe ``name``'s lock (re-entrant) for a read-modify-write of it."""
        path = self.root / LOCK_DIR / f"{check_name(name)}.lock"
        lock = FileLock(path, timeout=LOCK_TIMEOUT_S)
        try:
            lock.acquire()
        except LockBusyError:
            raise RecipeError(f"recipe '{name}' is busy: another program has been changing it "
                              f"for over {LOCK_TIMEOUT_S:.0f} s; try again") from None
        except OSError as exc:
            raise RecipeError(f"recipe '{name}': cannot lock {path} ({exc})") from None
        try:
            yield
        finally:
            lock.release()

    # --- recipes ------------------------------------------------------------------------

    def recipe_dir(self, name: str) -> Path:
        return self.root / check_name(name)

    def recipe_file(self, name: str) -> Path:
        return self.recipe_dir(name) / RECIPE_FILE

    def exists(self, name: str) -> bool:
        return self.recipe_file(name).is_file()

    def names(self) -> list[str]:
        """Folder names of all recipes (good or broken), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def list(self) -> RecipeListing:
        good: list[Recipe] = []
        bad: list[tuple[str, str]] = []
        for name in self.names():
            try:
                good.append(self.get(name))
            except (StoreError, RecipeError) as exc:
                bad.append((name, str(exc)))
        return RecipeListing(good, bad)

    def get(self, name: str, *, check_model: bool = True) -> Recipe:
        """Load and validate a recipe, including (unless ``check_model`` is False, e.g. to
        repair it) that its active model file is present."""
        recipe = self._load(name)
        if check_model and recipe.active_version is not None:
            reg = self.registry(name)
            try:
                mv = reg.get(recipe.active_version)
            except VersionError as exc:
                raise RecipeError(f"recipe '{name}': active_version {recipe.active_version}: "
                                  f"{str(exc).split(': ', 1)[-1]}") from None
            if mv.deleted or not mv.bundle_path.is_file():
                raise RecipeError(f"recipe '{name}': active_version {recipe.active_version}: "
                                  f"model file {mv.bundle_path} is missing")
        return recipe

    def _load(self, name: str) -> Recipe:
        """Load and validate the file only (no model check): used to repair a recipe."""
        return read_recipe(self.recipe_file(name), name)

    def save(self, recipe: Recipe) -> Recipe:
        """Validate and write atomically, keeping the previous file as recipe.toml.prev.

        The activation state (``active_version``, ``activation_stack``) is kept as the file
        has it: only activate, rollback and delete_version change it, so a recipe read before
        another program activated a model cannot undo that activation. To change other
        fields without losing another program's change to them, use :meth:`update`.
        """
        recipe = recipe.validated()
        with self.locked(recipe.name):
            try:
                current = self._load(recipe.name)
            except (StoreError, RecipeError):  # missing or broken (being repaired): the
                current = None                 # caller's state stands
                current = None
            if current is not None:
                recipe.active_version = current.active_version
                recipe.activation_stack = current.activation_stack
            return self._write(recipe)

    def update(self, name: str, change: Callable[[Recipe], Recipe | None]) -> Recipe:
        """Read recipe ``name``, apply ``change`` (it edits the recipe in place or returns a
        new one) and save it, all under the recipe's lock: a read-modify-write that another
        program's concurrent update cannot undo."""
        with self.locked(name):
            recipe = self._load(name)
            return self.save(change(recipe) or recipe)

    def _write(self, recipe: Recipe) -> Recipe:
        """Write the file as is (the caller holds the lock and has validated ``recipe``)."""
        return write_recipe(self.recipe_file(recipe.name), recipe)

    def create(self, name: str, *, source: str = "", settings: dict[str, Any] | None = None,
               roi: Roi | None = None, preprocessing: Preprocessing | None = None,
               thresholds: Thresholds | None = None, false_reject_target: float = 0.01,
               bundle: str | os.PathLike | None = None, trained_from: str | None = None,
               validation: dict | None = None, deployed_by: str | None = None) -> Recipe:
        """Create a new recipe; with ``bundle`` it becomes version 1 and is activated (as by
        :meth:`deploy`). Explicit ``thresholds`` win over the ones calibrated in the bundle.
        """
        check_name(name)
        with self.locked(name):
            if self.recipe_dir(name).exists():
                raise RecipeError(f"recipe '{name}' already exists ({self.recipe_dir(name)})")
            recipe = Recipe(name=name, camera=CameraConfig(source, dict(settings or {})), roi=roi,
                            preprocessing=preprocessing or Preprocessing(), thresholds=thresholds,
                            false_reject_target=false_reject_target).validated()
            if bundle is not None:
                return self._deploy(recipe, bundle, new=True, thresholds=thresholds,
                                    trained_from=trained_from, validation=validation,
                                    deployed_by=deployed_by)
            self.recipe_dir(name).mkdir(parents=True)
            try:
                return self._write(recipe)
            except BaseException:
                shutil.rmtree(self.recipe_dir(name), ignore_errors=True)
                raise

    def deploy(self, name: str, bundle: str | os.PathLike, *, source: str, roi: Roi | None,
               preprocessing: Preprocessing | None = None, false_reject_target: float = 0.01,
               training: TrainingConfig | None = None, thresholds: Thresholds | None = None,
               trained_from: str | None = None, validation: dict | None = None,
               deployed_by: str | None = None) -> int:
        """Add ``bundle`` as the next version of recipe ``name``, activate it and return its number.

        A recipe that does not exist yet is created with ``preprocessing`` and
        ``false_reject_target``; an existing one takes ``source`` and ``roi`` (the new model was
        trained on them) and keeps its other fields. ``training`` (if given) and the thresholds
        (``thresholds``, else the bundle's calibrated ones, else the recipe's) are set in the
        same, single write of ``recipe.toml``, under the recipe's lock; the bundle is copied,
        hashed and test-run once. On any error the active model stays as it was (and a recipe
        this call created is removed again).
        """
        with self.locked(name):
            new = not self.recipe_dir(name).exists()
            if new:
                recipe = Recipe(name=name, camera=CameraConfig(source), roi=roi,
                                preprocessing=preprocessing or Preprocessing(),
                                false_reject_target=false_reject_target)
            else:
                recipe = self._load(name)
                recipe.roi, recipe.camera.source = roi, source
            if training is not None:
                recipe.training = training
            return self._deploy(recipe.validated(), bundle, new=new, thresholds=thresholds,
                                trained_from=trained_from, validation=validation,
                                deployed_by=deployed_by).active_version

    def _deploy(self, recipe: Recipe, bundle: str | os.PathLike, *, new: bool,
                thresholds: Thresholds | None, trained_from: str | None,
                validation: dict | None, deployed_by: str | None) -> Recipe:
        """Add and activate ``bundle`` for ``recipe`` (validated; the caller holds its lock)."""
        name = recipe.name
        calibrated = thresholds_from_meta(read_bundle_meta_checked(Path(bundle)), bundle)
        recipe.thresholds = thresholds or calibrated or recipe.thresholds
        recipe = recipe.validated()  # refused before anything is written
        reg = self.registry(name)
        reg.activation_log()  # a damaged log is refused before anything is written
        before = (recipe.active_version, self._stack(recipe, reg))
        if new:
            self.recipe_dir(name).mkdir(parents=True)
        try:
            mv = reg.add(bundle, trained_from=trained_from, validation=validation,
                         deployed_by=deployed_by)  # checked, copied, hashed and run once
            recipe.active_version = mv.version
            recipe.activation_stack = [v for v in before[1] if v != mv.version] + [mv.version]
            recipe = self._write(recipe)  # the one write: model, stack, limits and training
        except BaseException:
            if new:
                shutil.rmtree(self.recipe_dir(name), ignore_errors=True)
            raise
        reg.record_activation(mv.version, deployed_by or current_user(), "activate",
                              recipe.activation_stack, active=mv.version, before=before)
        return recipe

    def delete(self, name: str) -> Path:
        """Move a recipe folder (models included) to ``<data>/trash``; returns where it went."""
        with self.locked(name):
            src = self.recipe_dir(name)
            if not src.is_dir():
                raise RecipeError(f"recipe '{name}' does not exist")
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            dst = paths.trash_dir(self.data_dir) / "recipes" / f"{name}-{stamp}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dst))
            return dst

    # --- model versions -----------------------------------------------------------------

    def registry(self, name: str) -> VersionRegistry:
        return VersionRegistry(self.recipe_dir(name) / "models", name)

    def versions(self, name: str) -> list[ModelVersion]:
        self._require(name)
        return self.registry(name).list()

    def survey_versions(self, name: str) -> tuple[list[ModelVersion], list[str]]:
        """The readable versions and one line per unreadable one (see VersionRegistry.survey)."""
        self._require(name)
        return self.registry(name).survey()

    def version(self, name: str, version: int) -> ModelVersion:
        self._require(name)
        return self.registry(name).get(version)

    def add_version(self, recipe: str | Recipe, bundle_path: str | os.PathLike, *,
                    trained_from: str | None = None, validation: dict | None = None,
                    deployed_by: str | None = None) -> int:
        """Copy a validated bundle in as the next version (not activated); returns its number."""
        name = recipe.name if isinstance(recipe, Recipe) else recipe
        self._require(name)
        return self.registry(name).add(bundle_path, trained_from=trained_from,
                                       validation=validation, deployed_by=deployed_by).version

    def activate(self, name: str, version: int, *, by: str | None = None,
                 adopt_thresholds: bool = True) -> Recipe:
        """Make ``version`` the active model, after checking it loads.

        With ``adopt_thresholds`` the bundle's calibrated thresholds (if it has any) replace
        the recipe's, since limits calibrated for one model do not fit another.
        """
        return self._switch(name, version, by=by, adopt_thresholds=adopt_thresholds,
                            action="activate")

    def rollback(self, name: str, *, by: str | None = None,
                 adopt_thresholds: bool = True) -> Recipe:
        """Re-activate the version that was active before the current one.

        Walks back the activation history, skipping versions that were deleted or no longer
        load; without history, falls back to the highest older version.
        """
        with self.locked(name):
            recipe = self._load(name)
            reg = self.registry(name)
            reg.activation_log()  # a damaged log is refused before anything is tried
            stack = self._stack(recipe, reg)
            while stack and stack[-1] == recipe.active_version:
                stack.pop()
            candidates = list(reversed(stack))
            if recipe.active_version is not None:
                candidates += sorted((mv.version for mv in reg.list()
                                      if mv.version < recipe.active_version), reverse=True)
            problems = []
            for v in dict.fromkeys(candidates):
                if v == recipe.active_version:
                    continue
                try:
                    reg.verify(v)
                except VersionError as exc:
                    problems.append(str(exc))
                    continue
                new_stack = stack[:stack.index(v) + 1] if v in stack else [v]
                return self._switch(name, v, by=by, adopt_thresholds=adopt_thresholds,
                                    action="rollback", stack=new_stack)
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise VersionError(f"recipe '{name}': no earlier model version to roll back to{detail}")

    def activation_stack(self, name: str) -> list[int]:
        """Versions activated before, oldest first, the active one last (rollback walks it)."""
        return self._stack(self._load(name), self.registry(name))

    @staticmethod
    def _stack(recipe: Recipe, reg: VersionRegistry) -> list[int]:
        stack = recipe.activation_stack
        if stack is None:  # saved by a release that kept the stack in activations.json
            stack = reg.activation_stack()
        stack = list(dict.fromkeys(stack))
        active = recipe.active_version
        if active is not None and (not stack or stack[-1] != active):
            stack = [v for v in stack if v != active] + [active]  # the recipe file wins
        return stack

    def _switch(self, name: str, version: int, *, by: str | None, adopt_thresholds: bool,
                action: str, stack: list[int] | None = None) -> Recipe:
        with self.locked(name):
            recipe = self._load(name)
            reg = self.registry(name)
            reg.activation_log()  # a damaged log is refused before anything is written
            before = (recipe.active_version, self._stack(recipe, reg))
            reg.verify(version)  # raises: a bundle that fails to load never becomes active
            mv = reg.get(version)
            if stack is None:
                stack = [v for v in before[1] if v != version] + [version]
            recipe.active_version, recipe.activation_stack = version, stack
            if adopt_thresholds and mv.bundle_thresholds is not None:
                recipe.thresholds = mv.bundle_thresholds
            # one write: active version, stack and thresholds agree whatever happens next
            recipe = self._write(recipe.validated())
            crash_point("switch:after-recipe")
            reg.record_activation(version, by or current_user(), action, stack,
                                  active=version, before=before)
            return recipe

    def delete_version(self, name: str, version: int) -> None:
        """Delete a version's bundle (record kept); refused for the active version."""
        with self.locked(name):
            recipe = self._load(name)
            if recipe.active_version == version:
                raise VersionError(f"recipe '{name}': model version {version} is active; "
                                   f"activate or roll back to another version first")
            reg = self.registry(name)
            reg.activation_log()
            before = (recipe.active_version, self._stack(recipe, reg))
            reg.mark_deleted(version)
            recipe.activation_stack = [v for v in before[1] if v != version]
            self._write(recipe)
            reg.record_activation(version, current_user(), "delete", recipe.activation_stack,
                                  active=recipe.active_version, before=before)

    def active_bundle_path(self, name: str) -> Path | None:
        """Path of the active model bundle, None if the recipe has no active model."""
        recipe = self.get(name)
        if recipe.active_version is None:
            return None
        return self.registry(name).get(recipe.active_version).bundle_path

    def _require(self, name: str) -> None:
        if not self.recipe_file(name).is_file():
            raise RecipeError(f"recipe '{name}' does not exist ({self.recipe_file(name)})")
