"""The Modbus register map's pure helpers: encoding a result and the state, decoding what a
PLC reads back, the trigger counter and the command bits."""

from __future__ import annotations

import math

import pytest

from core.lineio import modbus_map as mm
from core.lineio.contract import LineInput, LineResult, StationState


def test_addresses_follow_the_documented_map():
    assert (mm.STATUS, mm.HEARTBEAT, mm.SEQ, mm.SCORE, mm.RESULT_COUNT) == (0, 1, 2, 4, 6)
    assert (mm.OK_COUNT, mm.REVIEW_COUNT, mm.NG_COUNT, mm.LATE_COUNT, mm.MODEL_VERSION) == (7, 8, 9, 10, 11)
    assert (mm.TRIGGER_ACK, mm.CMD_ACK, mm.TRIGGER, mm.RECIPE, mm.COMMAND) == (12, 13, 100, 101, 102)
    bits = [mm.ST_READY, mm.ST_BUSY, mm.ST_RESULT_VALID, mm.ST_OK, mm.ST_REVIEW, mm.ST_NG,
            mm.ST_ERROR, mm.ST_ALARM, mm.ST_TEST]
    assert bits == [1 << i for i in range(9)]
    assert [mm.CMD_START, mm.CMD_STOP, mm.CMD_RESET_COUNTERS, mm.CMD_ACK_ALARM, mm.CMD_SELECT_RECIPE] == [1, 2, 4, 8, 16]


def test_result_round_trip_high_word_first():
    r = LineResult(seq=0x12345678, verdict="NG", decision="NG", score=0.75, test=True)
    state = mm.state_bits(StationState(ready=True, busy=True))
    regs = mm.encode_result(r, state=state | mm.ST_OK, heartbeat=70000, result_count=65536 + 3)
    assert len(regs) == mm.RESULT_SIZE
    assert regs[mm.SEQ:mm.SEQ + 2] == [0x1234, 0x5678]
    assert regs[mm.SCORE:mm.SCORE + 2] == [0x3F40, 0x0000]  # 0.75 as IEEE float32, big-endian
    assert regs[mm.HEARTBEAT] == 70000 % 65536 and regs[mm.RESULT_COUNT] == 3
    d = mm.decode_status(regs)
    assert d["ready"] and d["busy"] and d["result_valid"] and d["ng"] and d["test"]
    assert not d["ok"] and not d["alarm"] and d["decision"] == "NG"  # the old OK bit is replaced
    assert d["seq"] == 0x12345678 and d["score"] == 0.75 and d["result_count"] == 3


def test_nan_score_error_decision_and_station_error():
    r = LineResult(seq=-1, verdict="OK", decision="ERROR", score=math.nan)
    d = mm.decode_status(mm.encode_result(r))
    assert math.isnan(d["score"]) and d["decision"] == "ERROR" and d["error"]
    assert d["seq"] == 0xFFFFFFFF  # negative seq wraps like a PLC's UDINT
    bits = mm.state_bits(StationState(error="camera lost", alarm="x"))
    d = mm.decode_status([bits] + [0] * 15)
    assert d["error"] and d["alarm"] and d["decision"] == "" and not d["result_valid"]
    assert "ok_count" in d and d["cmd_ack"] == 0
    assert mm.float32_regs(1e300) == mm.float32_regs(math.inf)  # too large is inf, not an error


def test_counters_and_model_version():
    s = StationState(ok=65537, review=2, ng=3, late=4, model_version=None)
    assert mm.encode_counters(s) == [1, 2, 3, 4, 0]
    assert mm.encode_counters(StationState(model_version=7))[-1] == 7


def test_trigger_counter_and_command_bits():
    assert mm.trigger_steps(5, 5) == 0 and mm.trigger_steps(5, 8) == 3
    assert mm.trigger_steps(65535, 1) == 2  # wraps
    assert mm.trigger_steps(0, 1000) == 1  # a reset / restart: one trigger, not a flood
    word = mm.CMD_START | mm.CMD_ACK_ALARM | mm.CMD_SELECT_RECIPE | 0x8000
    assert mm.decode_commands(word) == [LineInput.START, LineInput.ACK_ALARM, LineInput.RECIPE]
    assert word & ~mm.CMD_MASK == 0x8000


def test_result_ring_keeps_the_last_eight_in_order_across_the_counter_wrap():
    from core.lineio.modbus_io import OutputRegisters

    out = OutputRegisters()
    out.regs[mm.RESULT_COUNT] = 65530  # a long-running station: the counter wraps meanwhile
    for seq in range(1, 13):
        first, block = out.result(LineResult(seq=seq, verdict="NG", decision="NG" if seq % 3 else "OK",
                                             score=seq / 100))
    assert first == 0 and len(block) == mm.RING_END and block[mm.RESULT_COUNT] == 6  # 65530 + 12
    got, gone = mm.decode_ring(block, since=65530)  # a PLC that last saw the state before seq 1
    assert gone == 4 and [r["seq"] for r in got] == list(range(5, 13))
    assert [r["result_count"] for r in got] == [65535, 0, 1, 2, 3, 4, 5, 6]
    assert [r["decision"] for r in got] == ["NG" if s % 3 else "OK" for s in range(5, 13)]
    assert abs(got[-1]["score"] - 0.12) < 1e-6
    got, gone = mm.decode_ring(block, since=4)  # one poll behind by two results
    assert gone == 0 and [r["seq"] for r in got] == [11, 12]
    assert mm.decode_ring(block, since=6) == ([], 0)
    fresh = OutputRegisters()
    assert mm.decode_ring(fresh.regs, since=0) == ([], 0)
    with pytest.raises(ValueError, match="0..67"):
        mm.decode_ring(block[:mm.RESULT_SIZE], since=0)
