"""Numbered model versions of one recipe.

Each version lives in ``models/vNNNN/`` with the bundle (``model.limodel``) and
``version.json`` (when and from what it was trained, validation figures, who deployed it,
checksum). A version folder is assembled under a temporary name and renamed into place, so
a half-copied bundle never shows up as a version. Deleting a version removes its bundle but
keeps ``version.json`` (marked deleted) so results that name it stay traceable, and its
number is never reused. ``activations.json`` holds the activation stack used by rollback
and an append-only log of who activated what and when.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text, fsync_dir
from core.crashpoint import crash_point
from core.inference.bundle import BUNDLE_FILE
from core.inference.int8_companion import copy_companion
from core.recipe import Thresholds
from core.store.activations import append_entry, read_activations
from core.store.errors import VersionError
from core.store.safe_read import read_regular_text
from core.store.staging import staging_dir
from core.store.version_info import MAX_INFO_BYTES, parse_version_info

INFO_NAME = "version.json"
ACTIVATIONS_NAME = "activations.json"
_DIR_RE = re.compile(r"^v(\d{4,})$")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers, services)
        return "unknown"


@dataclass(frozen=True)
class ModelVersion:
    """One deployed model bundle of a recipe."""

    version: int
    bundle_path: Path
    deployed_at: str
    deployed_by: str
    trained_at: str | None = None
    trained_from: str | None = None
    validation: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    software_version: str | None = None
    bundle_thresholds: Thresholds | None = None
    sha256: str = ""
    source_path: str = ""
    deleted: bool = False
    deleted_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["bundle_path"] = self.bundle_path.name
        return out


def read_bundle_meta_checked(path: Path) -> dict:
    """Header-only validation of a bundle; raises VersionError with the bundle's message."""
    from core.inference.bundle import BundleError, read_bundle_meta

    try:
        meta = read_bundle_meta(path)
    except BundleError as exc:
        raise VersionError(str(exc)) from None
    thresholds_from_meta(meta, path)  # malformed calibration is refused up front
    return meta


def thresholds_from_meta(meta: dict, path: Path | str) -> Thresholds | None:
    """The bundle's calibrated thresholds, or None when it has none; VersionError if malformed."""
    t = meta.get("thresholds")
    if t is None:
        return None
    try:
        return Thresholds.from_mapping(t)
    except ValueError as exc:
        raise VersionError(f"{path}: bundle thresholds are malformed ({t!r}): {exc}") from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_RAN_OK: set[str] = set()  # SHA-256 of bundles that loaded and ran once in this process


def check_bundle_runs(path: Path, sha256: str, shown_as: Path | None = None) -> None:
    """Load ``path`` (every tensor checked) and run one small inference; VersionError with the
    bundle's message (naming ``shown_as`` if given) otherwise. The same bytes (``sha256``) are
    run once per process."""
    if sha256 in _RAN_OK:
        return
    from core.inference.bundle import BundleError, load_bundle

    try:
        load_bundle(path).probe()
    except BundleError as exc:
        msg = str(exc)
        raise VersionError(msg.replace(str(path), str(shown_as), 1) if shown_as else msg) from None
    if len(_RAN_OK) < 256:
        _RAN_OK.add(sha256)


def check_stored_bundle(path: str | os.PathLike) -> str | None:
    """Before the live app loads ``path``: when it is a version's bundle (``vNNNN/model.limodel``
    beside its ``version.json``), VersionError unless its SHA-256 is the one recorded when the
    version was added; returns that SHA-256 (None when nothing was hashed). Any other file is
    left to the loader's own checks."""
    path = Path(path)
    info = path.parent / INFO_NAME
    if path.name != BUNDLE_FILE or not _DIR_RE.match(path.parent.name) or not info.is_file():
        return None
    try:
        recorded = json.loads(info.read_text(encoding="utf-8")).get("sha256") or ""
    except (OSError, ValueError, AttributeError) as exc:
        raise VersionError(f"{info} is corrupt ({exc})") from None
    if not path.is_file():
        raise VersionError(f"{path}: model file is missing")
    if not recorded:
        return None
    if _sha256(path) != recorded:
        raise VersionError(f"{path}: model file is damaged or was changed after it was added "
                           f"(checksum mismatch); activate another version or add it again")
    return recorded


class VersionRegistry:
    """The ``models/`` folder of one recipe."""

    def __init__(self, models_dir: Path, recipe_name: str) -> None:
        self.dir = Path(models_dir)
        self.recipe = recipe_name

    def _fail(self, msg: str) -> VersionError:
        return VersionError(f"recipe '{self.recipe}': {msg}")

    def version_dir(self, version: int) -> Path:
        return self.dir / f"v{version:04d}"

    def _numbers(self) -> list[int]:
        if not self.dir.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.dir.iterdir() if (m := _DIR_RE.match(p.name)))

    def list(self) -> list[ModelVersion]:
        """All versions, oldest first, deleted ones included (``deleted=True``)."""
        return [self.get(n) for n in self._numbers()]

    def survey(self) -> tuple[list[ModelVersion], list[str]]:
        """Every readable version, oldest first, and a one-line problem for each unreadable
        one (a corrupt ``version.json`` must not hide the good versions beside it)."""
        found, problems = [], []
        for n in self._numbers():
            try:
                found.append(self.get(n))
            except VersionError as exc:
                problems.append(str(exc))
        return found, problems

    def get(self, version: int) -> ModelVersion:
        info_path = self.version_dir(version) / INFO_NAME
        if not info_path.is_file():
            known = ", ".join(str(n) for n in self._numbers()) or "none"
            raise self._fail(f"no model version {version} (versions: {known})")
        try:
            info = parse_version_info(json.loads(read_regular_text(info_path, MAX_INFO_BYTES)),
                                      version)
        except RecursionError:
            raise self._fail(f"{info_path} is corrupt (nested too deeply)") from None
        except ValueError as exc:  # JSON, UTF-8, not a regular file, a field's type or range
            raise self._fail(f"{info_path} is corrupt ({exc})") from None
        except OSError as exc:
            raise self._fail(f"cannot read {info_path} ({exc})") from None
        return ModelVersion(**info, bundle_path=self.version_dir(version) / BUNDLE_FILE)

    def add(self, bundle: str | os.PathLike, *, trained_from: str | None = None,
            validation: dict | None = None, deployed_by: str | None = None) -> ModelVersion:
        """Validate ``bundle``, copy it in as the next version number and return it."""
        src = Path(bundle)
        meta = read_bundle_meta_checked(src)
        with staging_dir(self.dir) as staging:  # owned; removed at exit or when found stale
            dst = staging / BUNDLE_FILE
            with src.open("rb") as fin, dst.open("wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
                fout.flush()
                os.fsync(fout.fileno())
            read_bundle_meta_checked(dst)  # the copy, not just the source, must be readable
            sha = _sha256(dst)
            check_bundle_runs(dst, sha, shown_as=src)  # weights checked, one inference run
            copy_companion(src, dst)  # its verified int8 graph, if it has one
            training = meta.get("training_data")
            info = ModelVersion(
                version=0, bundle_path=dst, deployed_at=now_iso(),
                deployed_by=deployed_by or current_user(),
                trained_at=meta.get("created"),
                trained_from=trained_from if trained_from is not None else (
                    None if training is None else
                    training if isinstance(training, str) else json.dumps(training)),
                validation=dict(validation if validation is not None
                                else meta.get("validation") or {}),
                preset=meta.get("preset"), software_version=meta.get("software_version"),
                bundle_thresholds=thresholds_from_meta(meta, src),
                sha256=sha, source_path=str(src.resolve()))
            crash_point("add:staged")
            return self._publish(staging, info)

    def _publish(self, staging: Path, info: ModelVersion) -> ModelVersion:
        """Rename the staging folder to the next free vNNNN (retrying if another writer won)."""
        for _ in range(100):
            number = max(self._numbers(), default=0) + 1
            record = replace(info, version=number, bundle_path=self.version_dir(number) / BUNDLE_FILE)
            atomic_write_text(staging / INFO_NAME, json.dumps(record.to_json(), indent=2) + "\n")
            try:
                os.rename(staging, self.version_dir(number))
            except OSError:
                if self.version_dir(number).exists():
                    continue  # taken concurrently: try the next number
                raise
            fsync_dir(self.dir)
            return record
        raise self._fail("could not allocate a version number")

    def verify(self, version: int) -> dict:
        """Check that a stored version can be loaded (present, not deleted, checksum, header)."""
        mv = self.get(version)
        if mv.deleted:
            raise self._fail(f"model version {version} was deleted on {mv.deleted_at}")
        if not mv.bundle_path.is_file():
            raise self._fail(f"model version {version}: model file {mv.bundle_path} is missing")
        digest = _sha256(mv.bundle_path)
        if mv.sha256 and digest != mv.sha256:
            raise self._fail(f"model version {version}: {mv.bundle_path} is corrupt "
                             f"(checksum mismatch)")
        meta = read_bundle_meta_checked(mv.bundle_path)
        check_bundle_runs(mv.bundle_path, digest)
        return meta

    def mark_deleted(self, version: int) -> None:
        """Remove the bundle of ``version`` but keep its record (marked deleted)."""
        mv = self.get(version)
        if mv.deleted:
            return
        rec = {**mv.to_json(), "deleted": True, "deleted_at": now_iso()}
        atomic_write_text(self.version_dir(version) / INFO_NAME, json.dumps(rec, indent=2) + "\n")
        mv.bundle_path.unlink(missing_ok=True)

    # --- activation stack and log -------------------------------------------------------

    # (the stack lives in recipe.toml beside active_version; see core.store.activations)

    def _activations(self) -> tuple[list[int] | None, list[dict]]:
        path = self.dir / ACTIVATIONS_NAME
        try:
            return read_activations(path)
        except ValueError as exc:
            raise self._fail(f"{path} is corrupt ({exc}); move it aside to start a new "
                             f"activation log") from None
        except OSError as exc:
            raise self._fail(f"cannot read {path} ({exc})") from None

    def activation_stack(self) -> list[int]:
        """The stack as releases before issue 13 stored it here ([] if none): only read to
        carry such recipes over (RecipeStore.activation_stack is the one in force)."""
        return self._activations()[0] or []

    def activation_log(self) -> list[dict]:
        return self._activations()[1]

    def record_activation(self, version: int, by: str, action: str, stack: list[int], *,
                          active: int | None,
                          before: tuple[int | None, list[int]] = (None, [])) -> None:
        """Append one entry to the log (the caller holds the recipe's lock)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / ACTIVATIONS_NAME
        entry = {"version": version, "at": now_iso(), "by": by, "action": action,
                 "active": active, "stack": list(stack)}
        try:
            append_entry(path, entry, before)
        except ValueError as exc:
            raise self._fail(f"{path} is corrupt ({exc}); move it aside to start a new "
                             f"activation log") from None
