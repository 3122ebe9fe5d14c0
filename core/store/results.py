"""ResultsStore: one object for the GUI/CLI that records, archives, prunes and queries.

It owns a :class:`ResultsWriter` (the only writer of ``<data>/results/results.sqlite``), an
:class:`ImageArchive` (``<data>/archive``) and a :class:`ResultsQuery`. Use it as a
context manager or call :meth:`close` so the last batch is committed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.store import paths
from core.store.archive import ImageArchive, PruneReport
from core.store.records import ResultRecord
from core.store.results_query import ResultsQuery
from core.store.results_writer import ResultsWriter

if TYPE_CHECKING:
    import numpy as np


class ResultsStore(ResultsQuery):
    """Record inspections under ``data_dir`` (None: see :func:`core.store.paths.data_dir`).

    Query methods (summary, score_distribution, last, iter_records, export_csv) come from
    :class:`ResultsQuery` and see committed rows only; call :meth:`flush` first if needed.
    """

    def __init__(self, data_dir: str | os.PathLike | None = None, *,
                 ok_sample_fraction: float = 0.0, batch_size: int = 50,
                 max_delay_s: float = 0.2,
                 on_commit: Callable[[list[ResultRecord]], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 seed: int | None = None) -> None:
        self.data_dir = paths.data_dir(data_dir)
        super().__init__(paths.results_db_path(self.data_dir))
        self.archive = ImageArchive(paths.archive_dir(self.data_dir),
                                    ok_sample_fraction=ok_sample_fraction, seed=seed)
        self.writer = ResultsWriter(self.db_path, batch_size=batch_size,
                                    max_delay_s=max_delay_s, on_commit=on_commit,
                                    on_error=on_error)

    def record(self, record: ResultRecord, image: np.ndarray | None = None,
               heatmap: np.ndarray | None = None) -> ResultRecord:
        """Archive the image if its verdict calls for it, then queue the record.

        Images are BGR (or gray) arrays as OpenCV uses; a float heat map (0..1) is colour
        mapped. Returns the record as queued (with archive paths; ``id`` still None).
        """
        record.check()
        if image is not None and self.archive.should_archive(record.verdict):
            saved = self.archive.save(image, heatmap, time=record.time, recipe=record.recipe,
                                      verdict=record.verdict, frame_id=record.frame_id)
            record = dataclasses.replace(record, image_path=saved.image,
                                         heatmap_path=saved.heatmap)
        self.writer.append(record)
        return record

    def append(self, record: ResultRecord) -> None:
        """Queue a record as is (no archiving)."""
        self.writer.append(record)

    def image_file(self, rel: str | None) -> Path | None:
        """File path of an archived image path stored in a record (None stays None)."""
        return None if rel is None else self.archive.resolve(rel)

    def apply_retention(self, *, max_age_days: float | None = None,
                        max_total_mb: float | None = None,
                        now: float | None = None) -> PruneReport:
        """Prune archived files by age and total size; their rows are flagged, never deleted."""
        cap = None if max_total_mb is None else int(max_total_mb * 1024 * 1024)
        report = self.archive.prune(max_age_days=max_age_days, max_total_bytes=cap, now=now)
        self.writer.mark_pruned(report.removed)
        return report

    @property
    def committed_count(self) -> int:
        return self.writer.committed_count

    def flush(self, timeout: float | None = 30.0) -> None:
        self.writer.flush(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        self.writer.close(timeout)

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
