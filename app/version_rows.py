"""The model versions of a recipe as rows of text, for the GUI's versions dialog
(:mod:`app.versions_dialog`); it reads them through the store."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from app.wizard.model_choice import bundle_kind_name
from core.store.recipe_store import RecipeStore
from core.store.versions import ModelVersion


@dataclass(frozen=True)
class VersionRow:
    version: int
    deployed: str  # local time, minutes
    trained_from: str
    validation: str  # e.g. "AUROC 0.997 · pixel AUROC 0.961 · 24 good, 4 defects"
    limits: str  # e.g. "OK < 0.250, NG ≥ 0.259"
    deployed_by: str
    preset: str
    active: bool
    deleted: bool
    model: str = ""  # "DRÆM" or "DSR", from the bundle's metadata ("" when it cannot be read)

    @property
    def can_activate(self) -> bool:
        return not self.active and not self.deleted


def version_rows(store: RecipeStore, name: str) -> tuple[list[VersionRow], list[str]]:
    """Every readable version of recipe ``name``, newest first, and one line for each version
    that cannot be read (a corrupt ``version.json`` does not hide the others); StoreError if
    the recipe itself cannot be read."""
    active = store.get(name, check_model=False).active_version
    versions, problems = store.survey_versions(name)
    return [_row(mv, mv.version == active) for mv in reversed(versions)], problems


def _row(mv: ModelVersion, active: bool) -> VersionRow:
    v = mv.validation or {}
    calibrated = mv.bundle_thresholds
    limits = v.get("thresholds") or (calibrated.to_dict() if calibrated is not None else {})
    return VersionRow(
        version=mv.version, deployed=local_time(mv.deployed_at),
        trained_from=mv.trained_from or "—", validation=validation_text(v),
        limits=(f"OK < {limits['ok_limit']:.3f}, NG ≥ {limits['ng_limit']:.3f}"
                if "ok_limit" in limits and "ng_limit" in limits else "—"),
        deployed_by=mv.deployed_by or "—", preset=mv.preset or "", active=active,
        deleted=mv.deleted, model="" if mv.deleted else bundle_kind_name(mv.bundle_path))


def validation_text(v: dict) -> str:
    """The validation figures stored with a version, in a few words ("—" when none)."""
    parts = []
    auroc = v.get("auroc", v.get("image_auroc"))
    if isinstance(auroc, (int, float)):
        parts.append(f"AUROC {auroc:.3f}")
    if isinstance(v.get("pixel_auroc"), (int, float)):
        parts.append(f"pixel AUROC {v['pixel_auroc']:.3f}")
    counts = [f"{v[k]} {label}" for k, label in (("holdout_good", "good"), ("test_images", "images"),
                                                 ("defects", "defects")) if isinstance(v.get(k), int)]
    if counts:
        parts.append(", ".join(counts))
    if isinstance(v.get("good_rejected_ng"), int):
        parts.append(f"{v['good_rejected_ng']} good rejected")
    return " · ".join(parts) or "—"


def local_time(iso: str | None) -> str:
    if not iso:
        return "—"
    try:
        t = _dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if t.tzinfo is not None:
        t = t.astimezone()
    return t.strftime("%Y-%m-%d %H:%M")
