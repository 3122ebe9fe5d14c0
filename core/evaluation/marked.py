"""Validate a new model on the parts an engineer marked in the reject gallery (issue 17):
confirmed defects must still be caught, false rejects should now pass.

The marked parts' images are the archived ones (already preprocessed to the ROI, as the
station inspected them); parts whose image retention removed are counted, not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.evaluation.validation import Scored, _score
from core.recipe import Preprocessing, Roi, Thresholds
from core.store import paths
from core.store.marks import MarkStore


@dataclass
class MarkedCheck:
    """Scores of a recipe's marked parts under ``thresholds`` (the limits proposed)."""

    thresholds: Thresholds
    defects: list[Scored] = field(default_factory=list)        # confirmed defects
    false_rejects: list[Scored] = field(default_factory=list)  # good parts once rejected
    missing: int = 0  # marked parts whose archived image is gone or unreadable

    @property
    def defects_caught(self) -> int:
        """Confirmed defects the new model keeps off the good stream (REVIEW or NG)."""
        return sum(s.score >= self.thresholds.ok_limit for s in self.defects)

    @property
    def defects_ng(self) -> int:
        return sum(s.score >= self.thresholds.ng_limit for s in self.defects)

    @property
    def false_rejects_passed(self) -> int:
        """False rejects the new model passes as OK."""
        return sum(s.score < self.thresholds.ok_limit for s in self.false_rejects)

    def summary(self) -> dict:
        """Plain figures (stored with the validation of the version)."""
        return {"confirmed_defects": len(self.defects), "confirmed_caught": self.defects_caught,
                "confirmed_ng": self.defects_ng, "false_rejects": len(self.false_rejects),
                "false_rejects_passed": self.false_rejects_passed, "missing": self.missing}

    def text(self) -> str:
        """One line for the Validate page."""
        if not (self.defects or self.false_rejects):
            return ("Marked parts: none with an image left to validate on" if self.missing
                    else "Marked parts: none for this recipe (mark them in the reject gallery)")
        parts = []
        if self.defects:
            parts.append(f"{self.defects_caught} of {len(self.defects)} confirmed defects still "
                         f"caught ({self.defects_ng} NG)")
        if self.false_rejects:
            parts.append(f"{self.false_rejects_passed} of {len(self.false_rejects)} false "
                         f"rejects now pass as OK")
        note = f"; {self.missing} without an image (archive pruned)" if self.missing else ""
        return "Marked parts: " + ", ".join(parts) + note


def marked_paths(data_dir: str | Path, recipe: str) -> tuple[list[Path], list[Path], int]:
    """(confirmed defect images, false reject images, number without an archived image)."""
    archive = paths.archive_dir(Path(data_dir))
    out: dict[str, list[Path]] = {"confirmed_defect": [], "false_reject": []}
    missing = 0
    db = paths.results_db_path(Path(data_dir))
    if not db.is_file():
        return [], [], 0
    for part in MarkStore(db).marked(recipe):
        rel = part.record.image_path
        if rel is None or part.record.archive_pruned or not (archive / rel).is_file():
            missing += 1
            continue
        out[part.mark.kind].append(archive / rel)
    return out["confirmed_defect"], out["false_reject"], missing


def check_marked(inferencer, data_dir: str | Path, recipe: str, thresholds: Thresholds, *,
                 roi: Roi | None = None,
                 preprocessing: Preprocessing | None = None) -> MarkedCheck:
    """Score ``recipe``'s marked parts with ``inferencer`` under ``thresholds``."""
    defects, good, missing = marked_paths(data_dir, recipe)
    pre = preprocessing or Preprocessing()
    skipped: list = []
    check = MarkedCheck(thresholds, missing=missing)
    if defects:
        check.defects = _score(inferencer, defects, roi, pre, skipped)
    if good:
        check.false_rejects = _score(inferencer, good, roi, pre, skipped)
    check.missing += len(skipped)
    return check
