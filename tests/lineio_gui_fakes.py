"""Fakes for the Line I/O GUI tests: an in-process transport (the line side is the test
itself) and, until core.lineio.hub lands, a hub with the same method names."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from core.lineio.contract import (LineCommand, LineInput, LineOutput, LineResult, LinkStatus,
                                  StationState, Transport)


class LoopTransport(Transport):
    """A link whose far end is the test: it records what the station sends and lets the test
    send commands from a thread of its own, as a real transport's thread would."""

    def __init__(self, name: str = "loop", state: str = "connected") -> None:
        self.name = name
        self.state, self.detail = state, "in-process"
        self.results: list[LineResult] = []
        self.states: list[StationState] = []
        self.forced: list[tuple[LineOutput, object]] = []
        self.commands = None
        self.stopped = False
        self._lock = threading.Lock()

    def start(self, commands) -> None:
        self.commands = commands

    def publish_result(self, result: LineResult) -> None:
        with self._lock:
            self.results.append(result)

    def publish_state(self, state: StationState) -> None:
        with self._lock:
            self.states.append(state)

    def force(self, output: LineOutput, value) -> None:
        with self._lock:
            self.forced.append((output, value))

    def status(self) -> LinkStatus:
        with self._lock:
            return LinkStatus(self.name, self.state, self.detail, sent=len(self.results))

    def stop(self) -> None:
        self.stopped = True

    def send_from_thread(self, kind: LineInput, value=None) -> threading.Thread:
        """A command as it arrives: on a thread that is not the GUI's."""
        cmd = LineCommand(kind, value, source=self.name, t=time.monotonic())
        t = threading.Thread(target=self.commands, args=(cmd,), name="loop-transport", daemon=True)
        t.start()
        return t


BUILT: list[LoopTransport] = []  # every LoopTransport build() made, newest last


def build(kind: str, options: dict, context) -> LoopTransport:
    """The registry's entry for kind "loop" (tests add it to registry.KINDS)."""
    from core.lineio.registry import LineConfigError

    unknown = set(options) - {"name", "state"}
    if unknown:
        raise LineConfigError(f"unknown option {sorted(unknown)[0]!r}")
    t = LoopTransport(str(options.get("name", "loop")), str(options.get("state", "connected")))
    BUILT.append(t)
    return t


@dataclass
class FakeStats:
    sent: int = 0
    late: int = 0
    fail_safe: int = 0
    dropped: int = 0
    test: int = 0


@dataclass
class FakeSignals:
    outputs: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)


class FakeHub:
    """The hub's API over LoopTransports, synchronously (stand-in until core.lineio.hub lands)."""

    def __init__(self, config, transports=None, *, context=None) -> None:
        from core.lineio.registry import build_transport

        self.config = config
        self.transports = transports if transports is not None else [
            build_transport(t.kind, t.options, context) for t in config.transports if t.enabled]
        self.stats_ = FakeStats()
        self.signals_ = FakeSignals()
        self.state: dict = {}
        self.mapping = config.mapping
        self.started = self.stopped = False
        self.forced_log: list[tuple] = []

    def start(self, commands=None) -> None:
        self.started = True
        for t in self.transports:
            t.start(lambda cmd: (self.signals_.inputs.append(cmd), commands and commands(cmd)))

    def stop(self, timeout: float = 5.0) -> bool:
        self.stopped = True
        for t in self.transports:
            t.stop()
        return True

    def __call__(self, result) -> None:
        self.stats_.sent += 1

    def set_mapping(self, mapping) -> None:
        self.mapping = mapping

    def update_state(self, **fields) -> None:
        self.state.update(fields)

    def force(self, output, value, *, transport=None, who="") -> None:
        self.forced_log.append((output, value, transport, who))
        self.signals_.outputs[str(output)] = value
        for t in self.transports:
            if transport in (None, t.name):
                t.force(output, value)

    def send_test(self, decision: str) -> LineResult:
        r = LineResult(seq=0, verdict=decision, decision=decision, score=0.0, test=True)
        self.stats_.test += 1
        for t in self.transports:
            t.publish_result(r)
        return r

    def statuses(self) -> list[LinkStatus]:
        return [t.status() for t in self.transports]

    def signals(self) -> FakeSignals:
        return self.signals_

    def stats(self) -> FakeStats:
        return self.stats_

    @property
    def alarm(self) -> str:
        bad = [s for s in self.statuses() if s.state != "connected"]
        return "; ".join(f"{s.name} {s.state}" for s in bad)


def ensure_config_module() -> None:
    """Until core.lineio.config lands: a stand-in with its names (validation of two fields)."""
    import sys
    import tomllib
    import types
    from dataclasses import dataclass as dc

    try:
        import core.lineio.config  # noqa: F401
        return
    except ImportError:
        pass
    from core.lineio.registry import LineConfigError

    @dc(frozen=True)
    class Mapping:
        review_as: str = "ng"
        deadline_ms: int = 0
        fail_safe: str = "reject"
        heartbeat_ms: int = 1000

        def __post_init__(self):
            if not isinstance(self.deadline_ms, int) or not 0 <= self.deadline_ms <= 600000:
                raise LineConfigError(f"line_io mapping: deadline_ms must be 0-600000, got {self.deadline_ms!r}")
            if not isinstance(self.heartbeat_ms, int) or not 100 <= self.heartbeat_ms <= 60000:
                raise LineConfigError(f"line_io mapping: heartbeat_ms must be 100-60000, got {self.heartbeat_ms!r}")

    @dc(frozen=True)
    class TransportConfig:
        kind: str
        options: dict = field(default_factory=dict)
        enabled: bool = True

    @dc(frozen=True)
    class LineConfig:
        mapping: Mapping = Mapping()
        transports: tuple = ()

    def load_line_config(data_dir):
        p = data_dir / "line_io.toml"
        if not p.exists():
            return LineConfig()
        d = tomllib.loads(p.read_text())
        ts = tuple(TransportConfig(t.pop("kind"), enabled=t.pop("enabled", True), options=t)
                   for t in d.get("transport", []))
        return LineConfig(Mapping(**d.get("mapping", {})), ts)

    def save_line_config(data_dir, cfg):
        import json
        lines = ["[mapping]"] + [f"{k} = {json.dumps(getattr(cfg.mapping, k))}" for k in
                                 ("review_as", "deadline_ms", "fail_safe", "heartbeat_ms")]
        for t in cfg.transports:
            lines += ["", "[[transport]]", f"kind = {json.dumps(t.kind)}", f"enabled = {json.dumps(t.enabled)}"]
            lines += [f"{k} = {json.dumps(v)}" for k, v in t.options.items()]
        (data_dir / "line_io.toml").write_text("\n".join(lines) + "\n")

    m = types.ModuleType("core.lineio.config")
    m.Mapping, m.TransportConfig, m.LineConfig = Mapping, TransportConfig, LineConfig
    m.load_line_config, m.save_line_config = load_line_config, save_line_config
    sys.modules["core.lineio.config"] = m
