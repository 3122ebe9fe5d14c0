"""The simulated PLC (core.lineio.sim_plc) against a real pymodbus server on loopback: a stand-in
station laid out as the register map (tests/sim_plc_station.py). Gate times run on a fake clock:
the test steps the PLC (trigger_part / poll) and moves the clock itself; the thread is run with
generous gates only, and nothing asserts a timing."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.lineio.sim_plc import SimPlc, sim_truth
from tests.lineio_net import free_port
from tests.sim_plc_station import StandInStation


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def station_factory():
    made: list[StandInStation] = []

    def make(decide) -> StandInStation:
        st = StandInStation(decide)
        st.start()
        made.append(st)
        return st

    yield make
    for st in made:
        st.stop()


@pytest.fixture
def plc_factory():
    made: list[SimPlc] = []

    def make(station: StandInStation, defective=(), **kw) -> SimPlc:
        kw.setdefault("gate_ms", 1000)
        plc = SimPlc("127.0.0.1", station.port, truth=lambda seq: seq in set(defective), **kw)
        made.append(plc)
        return plc

    yield make
    for plc in made:
        assert plc.stop()


def step(plc: SimPlc, clock: Clock, dt: float = 0.01) -> str | None:
    clock.t += dt
    return plc.poll()


def test_options_are_checked():
    truth = lambda seq: False  # noqa: E731
    for bad, word in [({"parts_per_min": 0}, "parts_per_min"), ({"parts_per_min": float("nan")}, "parts_per_min"),
                      ({"parts_per_min": "60"}, "parts_per_min"), ({"gate_ms": -1}, "gate_ms"),
                      ({"gate_ms": True}, "gate_ms"), ({"poll_ms": 0}, "poll_ms"), ({"port": 0}, "port"),
                      ({"port": 5020.0}, "port"), ({"parts": -1}, "parts"), ({"unit_id": 248}, "unit_id"),
                      ({"base": 65535}, "base"), ({"review_bin": "review"}, "review_bin"),
                      ({"host": "plc.local"}, "host"), ({"timeout_s": 0}, "timeout_s"),
                      ({"first_seq": -1}, "first_seq")]:
        with pytest.raises(ValueError, match=word):
            SimPlc(**{"truth": truth, **bad})


def test_wrong_bins_false_rejects_and_escapes(station_factory, plc_factory):
    answers = {0: "NG", 1: "OK", 2: "OK", 3: "NG", 4: "REVIEW", 5: "ERROR"}
    st = station_factory(answers.get)
    clock = Clock()
    plc = plc_factory(st, defective={1, 3}, clock=clock)
    assert plc.connect()
    outcomes = []
    for _ in answers:
        plc.trigger_part()
        outcomes.append(step(plc, clock))
    assert outcomes == ["sorted"] * 6 and st.triggers == 6
    c = plc.counts()
    # good 0 -> NG, good 4 -> REVIEW (NG bin by default), good 5 -> ERROR (rejected): false rejects;
    # defective 1 -> OK: an escape; 2 and 3 right
    assert (c.parts, c.ok_bin, c.ng_bin) == (6, 2, 4)
    assert (c.false_rejects, c.escapes, c.wrong_bin, c.missed, c.late) == (3, 1, 4, 0, 0)
    assert c.decisions == {"NG": 2, "OK": 2, "REVIEW": 1, "ERROR": 1} and len(c.latencies_ms) == 6


def test_review_to_the_ok_bin_when_configured(station_factory, plc_factory):
    st = station_factory(lambda seq: "REVIEW")
    clock = Clock()
    plc = plc_factory(st, defective={0}, clock=clock, review_bin="ok")
    assert plc.connect()
    plc.trigger_part()
    assert step(plc, clock) == "sorted"
    c = plc.counts()
    assert (c.ok_bin, c.ng_bin, c.escapes) == (1, 0, 1)


def test_no_result_by_the_gate_is_missed_and_a_later_one_late(station_factory, plc_factory):
    st = station_factory(lambda seq: None)  # the station holds every result
    clock = Clock()
    plc = plc_factory(st, defective={0}, clock=clock, gate_ms=500)
    assert plc.connect()
    plc.trigger_part()
    assert step(plc, clock, 0.4) is None
    assert plc.counts().pending == 1 and plc.counts().missed == 0
    step(plc, clock, 0.2)  # past the gate, undecided: the OK bin (the gate stayed shut)
    c = plc.counts()
    assert (c.pending, c.missed, c.ok_bin, c.escapes, c.late) == (0, 1, 1, 1, 0)
    st.publish(0, "NG")
    assert step(plc, clock) == "late"
    c = plc.counts()
    assert (c.missed, c.late, c.ok_bin, c.ng_bin) == (1, 1, 1, 0) and len(c.latencies_ms) == 1


def test_a_result_seen_after_the_gate_counts_late_not_sorted(station_factory, plc_factory):
    """The PLC did not poll between the gate and the result: the part still passed undecided."""
    st = station_factory(lambda seq: None)
    clock = Clock()
    plc = plc_factory(st, clock=clock, gate_ms=100)
    assert plc.connect()
    plc.trigger_part()
    st.publish(0, "NG")
    assert step(plc, clock, 0.5) == "late"
    c = plc.counts()
    assert (c.missed, c.late, c.ok_bin, c.ng_bin) == (1, 1, 1, 0)


def test_pairing_is_by_seq_when_a_frame_is_skipped(station_factory, plc_factory):
    st = station_factory({0: "OK", 1: "skip", 2: "NG"}.get)
    clock = Clock()
    plc = plc_factory(st, defective={2}, clock=clock)
    assert plc.connect()
    for _ in range(3):
        plc.trigger_part()
        step(plc, clock)
    step(plc, clock, 2.0)
    c = plc.counts()
    # by order, frame 2's NG would have gone to part 2 (good): a false reject and an escape
    assert (c.ok_bin, c.ng_bin, c.missed, c.false_rejects, c.escapes, c.unmatched) == (2, 1, 1, 0, 0, 0)


def test_results_the_plc_never_saw_and_test_results(station_factory, plc_factory):
    st = station_factory(lambda seq: None)
    clock = Clock()
    plc = plc_factory(st, clock=clock)
    assert plc.connect()
    plc.trigger_part()
    plc.trigger_part()
    st.publish(0, "OK")
    st.publish(1, "OK")  # two results between polls: the first is overwritten
    assert step(plc, clock) == "sorted"
    st.publish(0, "NG", test=True)  # a commissioning result is no part
    assert step(plc, clock) == "test"
    st.publish(7, "NG")
    assert step(plc, clock) == "unmatched"
    step(plc, clock, 2.0)
    c = plc.counts()
    assert (c.overwritten, c.test_results, c.unmatched, c.missed, c.ok_bin) == (1, 1, 1, 1, 2)


def test_station_gone_parts_pass_undecided(station_factory, plc_factory):
    st = station_factory(lambda seq: None)
    clock = Clock()
    plc = plc_factory(st, defective={1}, clock=clock, timeout_s=0.5)
    assert plc.connect()
    plc.trigger_part()
    st.stop()  # the station vanishes: the line goes on, the PLC says so and keeps counting
    assert step(plc, clock) is None and not plc.connected
    plc.trigger_part()
    assert not plc.connect()
    step(plc, clock, 2.0)
    c = plc.counts()
    assert (c.parts, c.missed, c.ok_bin, c.escapes) == (2, 2, 2, 1)


def test_thread_runs_the_parts_then_stops(station_factory, plc_factory):
    st = station_factory(lambda seq: "NG" if seq % 2 else "OK")
    plc = plc_factory(st, defective={1, 3}, parts=5, parts_per_min=6000, gate_ms=10000, poll_ms=1)
    plc.start()
    assert plc.wait_done(10.0), plc.counts()
    assert plc.stop()
    c = plc.counts()
    assert st.triggers == 5 and (c.parts, c.ok_bin, c.ng_bin, c.wrong_bin, c.missed) == (5, 3, 2, 0, 0)
    assert plc.first_trigger_at <= plc.last_trigger_at
    assert not [t for t in threading.enumerate() if t.name == "sim-plc"]


def test_no_station_never_hangs():
    plc = SimPlc("127.0.0.1", free_port(), truth=lambda seq: False, parts=3, timeout_s=0.2)
    plc.start()
    assert not plc.wait_done(0.3) and not plc.connected
    assert plc.stop() and plc.counts().parts == 0


def test_ground_truth_from_the_simulated_line():
    from core.camera.sim.line import SimLineConfig, SimLineSource

    config = SimLineConfig(width=64, height=64, seed=3, defect_rate=0.5)
    truth = sim_truth(config)
    source = SimLineSource(config)
    assert [truth(i) for i in range(8)] == [source.render(i)[1]["defect_type"] is not None for i in range(8)]


def test_base_and_unit_id_through_the_hub_and_modbus_server(tmp_path):
    """The real "modbus-server" link behind the hub, its map moved to base 1000 and unit 7: the
    hub answers each TRIGGER LineCommand with a result for that frame (odd frames NG)."""
    from core.lineio.config import LineConfig
    from core.lineio.contract import LineInput
    from core.lineio.hub import LineInterface
    from core.lineio.registry import TransportContext
    from tests.lineio_fakes import result, wait_for

    port = free_port()
    hub = LineInterface(LineConfig.from_dict({"transport": [{"kind": "modbus-server", "host": "127.0.0.1",
                                                              "port": port, "base": 1000, "unit_id": 7}]}),
                        context=TransportContext(data_dir=tmp_path))
    frames = iter(range(100))

    def on_command(cmd):
        if cmd.kind == LineInput.TRIGGER:
            n = next(frames)
            hub(result(n, "NG" if n % 2 else "OK"))

    hub.start(on_command)
    clock = Clock()
    plc = SimPlc("127.0.0.1", port, truth=lambda seq: seq == 2, base=1000, unit_id=7, clock=clock)
    try:
        assert wait_for(plc.connect)
        for _ in range(4):
            plc.trigger_part()
            assert wait_for(lambda: plc.poll() == "sorted")
    finally:
        plc.stop()
        assert hub.stop()
    c = plc.counts()
    assert (c.parts, c.ok_bin, c.ng_bin, c.false_rejects, c.escapes, c.missed) == (4, 2, 2, 2, 1, 0)


def test_a_burst_of_results_between_two_polls_is_all_sorted_from_the_ring(tmp_path):
    """The real modbus-server link: five results written before the PLC polls again (a station
    catching up) all reach their parts through the result ring; none is overwritten."""
    from core.lineio.contract import LineResult
    from core.lineio.modbus import build
    from core.lineio.registry import TransportContext
    from tests.lineio_fakes import wait_for

    port = free_port()
    link = build("modbus-server", {"host": "127.0.0.1", "port": port}, TransportContext(data_dir=tmp_path))
    link.start(lambda cmd: None)
    clock = Clock()
    plc = SimPlc("127.0.0.1", port, truth=lambda seq: seq in (1, 3), clock=clock)
    try:
        assert wait_for(plc.connect)
        for _ in range(5):
            plc.trigger_part()
        for seq in range(5):
            link.publish_result(LineResult(seq=seq, verdict="NG", decision="NG" if seq in (1, 3) else "OK",
                                           score=0.5))
        assert step(plc, clock) == "sorted"
    finally:
        plc.stop()
        link.stop()
    c = plc.counts()
    assert (c.parts, c.ok_bin, c.ng_bin, c.overwritten, c.missed, c.wrong_bin) == (5, 3, 2, 0, 0, 0)


def test_the_whole_loop_through_the_station_and_modbus_server(tmp_path):
    """The real thing: the headless station (simulated line, triggered; a fake model) with the
    hub's "modbus-server" link, and the PLC's thread driving it. Each part lands where the
    station's own verdict for its frame sends it, judged against the line's truth."""
    from core.camera.registry import open_source
    from core.inspection.session import LiveSession
    from core.lineio.config import LineConfig
    from core.lineio.contract import LineInput
    from core.lineio.hub import LineInterface
    from core.lineio.registry import TransportContext
    from core.station.station import Station, triggered_opener
    from tests.inspection_fakes import FakeInferencer, FakePrediction, Sink
    from tests.test_station import Recipes

    class CoinModel(FakeInferencer):
        """OK or NG by the image's parity: both bins get parts, whatever the line's truth."""

        def predict(self, image):
            score = 0.9 if int(image.sum()) % 2 else 0.1
            return FakePrediction(score, np.full(image.shape[:2], score, np.float32))

    port = free_port()
    config = LineConfig.from_dict({"transport": [{"kind": "modbus-server", "host": "127.0.0.1", "port": port}]})
    hub = LineInterface(config, context=TransportContext(data_dir=tmp_path))
    sink = Sink()
    station = Station(tmp_path, "alpha", "sim:fps=0,width=64,height=64,seed=1,defect_rate=0.5", mode="triggered",
                      line=hub, recipes=Recipes(), results=sink, source_opener=triggered_opener(open_source),
                      session_factory=lambda recipe, bundle, spec, **kw: LiveSession(
                          recipe, bundle, spec, inferencer=CoinModel(), **kw))
    station.open()
    plc = None
    try:
        truth = sim_truth(station.camera().config)
        plc = SimPlc("127.0.0.1", port, truth=truth, parts=8, parts_per_min=3000, gate_ms=20000, poll_ms=1)
        plc.start()
        assert plc.wait_done(20.0), plc.counts()
        assert plc.stop()
        triggers = [c for c in hub.signals().inputs if c.kind == LineInput.TRIGGER]
        assert len(triggers) == 8 and triggers[0].source.startswith("modbus-server")
    finally:
        if plc is not None:
            plc.stop()
        station.close()
    verdicts = {r.frame_id: r.verdict for r in sink.records}
    assert sorted(verdicts) == list(range(8))
    rejected = {seq for seq, v in verdicts.items() if v != "OK"}  # REVIEW -> NG: the default mapping
    c = plc.counts()
    assert (c.parts, c.missed, c.late, c.unmatched, c.ng_bin) == (8, 0, 0, 0, len(rejected))
    assert c.false_rejects == sum(1 for s in rejected if not truth(s))
    assert c.escapes == sum(1 for s in set(range(8)) - rejected if truth(s))
    assert 0 < c.ng_bin < 8, verdicts  # both bins used (else the pairing went unchecked)


def test_bench_flags_are_checked(capsys):
    from bench import line_plc

    for argv, word in [(["--parts", "0"], "--parts"), (["--parts-per-min", "inf"], "--parts-per-min"),
                       (["--gate-ms", "x"], "--gate-ms"), (["--deadline-ms", "1.5"], "--deadline-ms"),
                       (["--poll-ms", "0"], "--poll-ms"), (["--review-bin", "review"], "--review-bin"),
                       (["--source", "sim:fps=0"], "--parts-per-min"), (["--source", "sim:nope=1"], "--source"),
                       (["--bundle", "/no/such.limodel"], "--bundle"), (["--warmup", "-1"], "--warmup")]:
        with pytest.raises(SystemExit) as exc:
            line_plc.parse_args(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert word in err and "Traceback" not in err, err
    args = line_plc.parse_args(["--source", "sim:fps=10"])
    assert args.parts_per_min == 600.0 and args.bundle.is_file()
