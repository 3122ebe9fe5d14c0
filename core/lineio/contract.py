"""The line-interface contract: the signals a station exchanges with the line, the messages
that carry them and the interface every transport (GenICam outputs, Modbus TCP, OPC UA,
MQTT, S7) implements.

Outputs (station -> line): READY, BUSY, RESULT_VALID, OK, REVIEW, NG, SEQ (the part's
sequence number), SCORE, ERROR, HEARTBEAT. Inputs (line -> station): TRIGGER, RECIPE
(select a recipe by name or number), START, STOP, RESET_COUNTERS, ACK_ALARM.

Every result carries ``seq``, the sequence number of the frame it belongs to (the camera's
frame number), so the PLC matches a result to its part even when frames were skipped.
``decision`` is what the line is told: the model's verdict after the station's mapping
(REVIEW as OK, NG or its own output) and its deadline (a late result is never sent as OK:
it becomes the fail-safe, NG or ERROR).

Threading: the station never calls a transport from the inspection thread. Each transport
runs behind its own thread and bounded queue (:mod:`core.lineio.runner`), so a PLC that
stalls delays only its own link. Transports call ``commands`` from their own threads.
"""

from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


class LineInput(str, enum.Enum):
    TRIGGER = "trigger"
    RECIPE = "recipe"  # value: recipe name (str) or recipe number (int, 1-based, in the station's list)
    START = "start"
    STOP = "stop"
    RESET_COUNTERS = "reset_counters"
    ACK_ALARM = "ack_alarm"
    LOT = "lot"  # value: the lot number (text); from the transports that carry text (MQTT, OPC UA)

    def __str__(self) -> str:
        return self.value


class LineOutput(str, enum.Enum):
    READY = "ready"  # inspecting and able to take a part
    BUSY = "busy"  # a part is being inspected (trigger taken, result not yet out)
    RESULT_VALID = "result_valid"  # the OK / REVIEW / NG / SEQ / SCORE outputs hold a new result
    OK = "ok"
    REVIEW = "review"
    NG = "ng"
    SEQ = "seq"  # sequence number of the frame the result belongs to
    SCORE = "score"
    ERROR = "error"  # inspection not possible / fail-safe raised / alarm active
    HEARTBEAT = "heartbeat"  # toggles (or counts) while the station is alive

    def __str__(self) -> str:
        return self.value


DECISIONS = ("OK", "REVIEW", "NG", "ERROR")  # what LineResult.decision may say
LINK_STATES = ("stopped", "connecting", "connected", "down")


@dataclass(frozen=True)
class LineResult:
    """One inspected part as the line is told it."""

    seq: int  # frame sequence number (Frame.frame_id)
    verdict: str  # the model's verdict: "OK" | "REVIEW" | "NG"
    decision: str  # after mapping and deadline: one of DECISIONS
    score: float
    recipe: str = ""
    model_version: int | None = None
    t_trigger: float = 0.0  # time.monotonic() of the trigger (frame receipt when unknown)
    t_ready: float = 0.0  # time.monotonic() the result was ready
    wall_time: float = 0.0  # time.time() of the frame (for messages read by people)
    late: bool = False  # ready after the deadline: decision is the fail-safe
    test: bool = False  # a fake result sent from the Line I/O page (commissioning)
    error: str = ""

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"LineResult.decision must be one of {', '.join(DECISIONS)}, "
                             f"got {self.decision!r}")

    def as_dict(self) -> dict:
        """JSON-ready (a NaN score becomes None)."""
        d = asdict(self)
        if not math.isfinite(self.score):
            d["score"] = None
        return d


@dataclass(frozen=True)
class LineCommand:
    """An order from the line."""

    kind: LineInput
    value: str | int | None = None
    source: str = ""  # the transport it came from
    t: float = 0.0  # time.monotonic() it was received


@dataclass(frozen=True)
class StationState:
    """The slow-changing outputs: sent on change and with every heartbeat."""

    ready: bool = False
    busy: bool = False
    error: str = ""  # "" when none
    alarm: str = ""  # "" when none
    recipe: str = ""
    model_version: int | None = None
    heartbeat: int = 0  # counts up once per heartbeat period
    ok: int = 0  # counters of the current recipe
    review: int = 0
    ng: int = 0
    late: int = 0  # results replaced by the fail-safe
    last_seq: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LinkStatus:
    """A transport's link as the status bar and the Line I/O page show it."""

    name: str  # e.g. "modbus-server 0.0.0.0:5020"
    state: str = "stopped"  # one of LINK_STATES
    detail: str = ""  # plain words: why it is down, where it is connected
    sent: int = 0  # results delivered
    failed: int = 0  # deliveries that failed (then retried, queued or counted as lost)
    queued: int = 0  # waiting to go out
    inputs: dict[str, object] = field(default_factory=dict)  # last value of each input seen


CommandSink = Callable[[LineCommand], None]


class Transport(ABC):
    """One link to the line. All methods but ``start`` / ``stop`` / ``status`` are called from
    the transport's own runner thread, one at a time; they may block up to the transport's
    own timeout and raise (the runner counts the failure and retries or drops)."""

    name: str = "transport"

    @abstractmethod
    def start(self, commands: CommandSink) -> None:
        """Open / listen / connect (quickly: a peer that is not there yet is not an error,
        the link shows "connecting" or "down"). ``commands`` receives the line's orders."""

    @abstractmethod
    def publish_result(self, result: LineResult) -> None:
        """Set the result outputs for one part (OK / REVIEW / NG / SEQ / SCORE / RESULT_VALID)."""

    @abstractmethod
    def publish_state(self, state: StationState) -> None:
        """Set READY / BUSY / ERROR / HEARTBEAT and the counters."""

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        """Drive one output by hand (commissioning; the caller logs it)."""
        raise NotImplementedError(f"{self.name}: forcing outputs is not supported")

    @abstractmethod
    def status(self) -> LinkStatus:
        """Thread-safe, never blocks."""

    @abstractmethod
    def stop(self) -> None:
        """Close sockets and servers; idempotent."""
