"""The simulated PLC's book of parts: each triggered part waits for its verdict until it
reaches the reject gate, then lands in the OK bin or the NG bin. Pure (no I/O, no clock of its
own: every call says what time it is), so the gate logic is tested with a fake clock.

A part is paired with its result by seq (the frame it became), never by arrival order: the
station may skip a frame, and that part then passes the gate undecided.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

BINS = ("ok", "ng")
REJECTED = ("NG", "ERROR")  # decisions that open the reject gate


@dataclass
class Part:
    count: int  # the trigger count that started it (1, 2, ...)
    seq: int  # the frame it is expected to become
    defective: bool  # ground truth, from the simulated line (not from the station)
    t_trigger: float
    gate_at: float  # when it reaches the reject gate


@dataclass(frozen=True)
class PlcCounts:
    """What the PLC counted. ``missed``: parts that reached the gate undecided (they went to
    the OK bin, the gate stayed shut); ``late``: of those, the ones whose decision came after."""

    parts: int = 0  # triggered
    ok_bin: int = 0
    ng_bin: int = 0
    false_rejects: int = 0  # good parts in the NG bin
    escapes: int = 0  # defective parts in the OK bin (decided OK, or missed)
    missed: int = 0
    late: int = 0
    pending: int = 0  # triggered, not yet at the gate
    unmatched: int = 0  # results whose seq is no part of ours (or already decided)
    overwritten: int = 0  # results the PLC never saw (RESULT_COUNT moved by more than one)
    test_results: int = 0  # commissioning results (TEST bit): not sorted
    decisions: dict[str, int] = field(default_factory=dict)  # decision -> parts sorted by it
    latencies_ms: tuple[float, ...] = ()  # trigger -> result seen, every matched result

    @property
    def wrong_bin(self) -> int:
        return self.false_rejects + self.escapes

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("latencies_ms")
        d["wrong_bin"] = self.wrong_bin
        return d


class PartLedger:
    """Not thread-safe: the PLC's thread owns it (SimPlc hands out snapshots under its lock)."""

    def __init__(self, gate_s: float, review_bin: str = "ng") -> None:
        if review_bin not in BINS:
            raise ValueError(f"review_bin must be one of {', '.join(BINS)}, got {review_bin!r}")
        self.gate_s = gate_s
        self.review_bin = review_bin
        self._pending: dict[int, Part] = {}  # seq -> part on its way to the gate
        self._passed: dict[int, Part] = {}  # seq -> part that passed undecided (a late result finds it)
        self._c: dict[str, int] = dict.fromkeys(
            ("parts", "ok_bin", "ng_bin", "false_rejects", "escapes", "missed", "late",
             "unmatched", "overwritten", "test_results"), 0)
        self._decisions: dict[str, int] = {}
        self._latencies: list[float] = []

    def add(self, count: int, seq: int, defective: bool, now: float) -> Part:
        part = Part(count, seq, bool(defective), now, now + self.gate_s)
        self._pending[seq] = part
        self._c["parts"] += 1
        return part

    def result(self, seq: int, decision: str, now: float, *, test: bool = False) -> str:
        """A decision seen at ``now``; what became of it: "sorted", "late", "test" or "unmatched"."""
        if test:
            self._c["test_results"] += 1
            return "test"
        part = self._pending.get(seq)
        if part is not None and now > part.gate_at:  # it passed while we were not looking
            self.expire(now)
        part = self._pending.pop(seq, None)
        if part is None:
            gone = self._passed.pop(seq, None)
            if gone is None:
                self._c["unmatched"] += 1
                return "unmatched"
            self._c["late"] += 1
            self._latencies.append((now - gone.t_trigger) * 1000.0)
            return "late"
        self._latencies.append((now - part.t_trigger) * 1000.0)
        self._decisions[decision] = self._decisions.get(decision, 0) + 1
        reject = decision in REJECTED or (decision == "REVIEW" and self.review_bin == "ng")
        self._bin(part, reject)
        return "sorted"

    def expire(self, now: float) -> int:
        """Parts past the gate by ``now`` without a decision go to the OK bin; how many."""
        gone = [p for p in self._pending.values() if now > p.gate_at]
        for p in gone:
            del self._pending[p.seq]
            self._passed[p.seq] = p
            self._c["missed"] += 1
            self._bin(p, reject=False)
        while len(self._passed) > 4096:  # a result this stale will never come
            del self._passed[next(iter(self._passed))]
        return len(gone)

    def lost_results(self, n: int) -> None:
        self._c["overwritten"] += n

    def _bin(self, part: Part, reject: bool) -> None:
        self._c["ng_bin" if reject else "ok_bin"] += 1
        if reject and not part.defective:
            self._c["false_rejects"] += 1
        elif not reject and part.defective:
            self._c["escapes"] += 1

    @property
    def pending(self) -> int:
        return len(self._pending)

    def counts(self) -> PlcCounts:
        return PlcCounts(**self._c, pending=len(self._pending), decisions=dict(self._decisions),
                         latencies_ms=tuple(self._latencies))
