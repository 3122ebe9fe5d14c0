"""The Modbus register map shared by the station's "modbus-server" / "modbus-client" kinds and
the simulated PLC: holding registers (function 3 to read, 6/16 to write), 0-based addresses
relative to the link's ``base`` option. 32-bit values take two registers, HIGH word first.

Station -> line (the station writes, the PLC reads), base+0 .. base+15:

    0  STATUS        bits: READY BUSY RESULT_VALID OK REVIEW NG ERROR ALARM TEST (bit0..bit8)
    1  HEARTBEAT     uint16, +1 per heartbeat, wraps
    2-3 SEQ          uint32, seq of the last result
    4-5 SCORE        float32, anomaly score of the last result (NaN when none)
    6  RESULT_COUNT  uint16, +1 after each result is fully written, wraps: the handshake
    7-10 OK/REVIEW/NG/LATE counts (uint16, wrap)
    11 MODEL_VERSION uint16 (0 = none)
    12 TRIGGER_ACK   the last TRIGGER count the station has taken
    13 CMD_ACK       last command error: 0 none, 1 bad recipe number, 2 refused
    20-67 RESULT_RING the last 8 results, 6 registers each (COUNT, BITS, SEQ, SCORE): the
                     result whose RESULT_COUNT is c sits in slot c % 8, so a PLC that polls
                     slower than results come (a station catching up) misses none of the
                     last 8: it reads 0..67 in one request and takes every slot whose COUNT
                     is newer than the last one it took

Line -> station (the PLC writes), base+100 .. base+102:

    100 TRIGGER  uint16 counter: each increment (mod 65536) is one trigger
    101 RECIPE   recipe number (1-based), taken with the SELECT_RECIPE command bit
    102 COMMAND  bits START STOP RESET_COUNTERS ACK_ALARM SELECT_RECIPE: the PLC sets a bit,
                 the station acts and clears it

Pure functions only (no pymodbus here) so the simulated PLC and tests can use them freely.
"""

from __future__ import annotations

import math
import struct

from core.lineio.contract import LineInput, LineResult, StationState

# station -> line
STATUS = 0
HEARTBEAT = 1
SEQ = 2  # 2 registers
SCORE = 4  # 2 registers
RESULT_COUNT = 6
OK_COUNT = 7
REVIEW_COUNT = 8
NG_COUNT = 9
LATE_COUNT = 10
MODEL_VERSION = 11
TRIGGER_ACK = 12
CMD_ACK = 13
OUT_SIZE = 16  # registers base+0 .. base+15
RESULT_SIZE = 7  # registers 0..6: what a PLC reads in one request after RESULT_COUNT moved
RING = 20  # the result ring: RING_SLOTS slots of SLOT_SIZE registers
RING_SLOTS = 8
SLOT_SIZE = 6  # COUNT, BITS (result STATUS bits), SEQ (2), SCORE (2)
RING_END = RING + RING_SLOTS * SLOT_SIZE  # 68: read 0..67 to have the status and the ring

# line -> station
TRIGGER = 100
RECIPE = 101
COMMAND = 102
IN_START = TRIGGER
IN_SIZE = 3  # registers base+100 .. base+102

# STATUS bits
ST_READY = 1 << 0
ST_BUSY = 1 << 1
ST_RESULT_VALID = 1 << 2
ST_OK = 1 << 3
ST_REVIEW = 1 << 4
ST_NG = 1 << 5
ST_ERROR = 1 << 6
ST_ALARM = 1 << 7
ST_TEST = 1 << 8
DECISION_BITS = {"OK": ST_OK, "REVIEW": ST_REVIEW, "NG": ST_NG, "ERROR": ST_ERROR}
RESULT_BITS = ST_RESULT_VALID | ST_OK | ST_REVIEW | ST_NG | ST_TEST  # what a result sets
STATE_BITS = ST_READY | ST_BUSY | ST_ALARM  # what the station state sets (ERROR is shared)

# COMMAND bits
CMD_START = 1 << 0
CMD_STOP = 1 << 1
CMD_RESET_COUNTERS = 1 << 2
CMD_ACK_ALARM = 1 << 3
CMD_SELECT_RECIPE = 1 << 4
COMMAND_BITS = {CMD_START: LineInput.START, CMD_STOP: LineInput.STOP,
                CMD_RESET_COUNTERS: LineInput.RESET_COUNTERS, CMD_ACK_ALARM: LineInput.ACK_ALARM,
                CMD_SELECT_RECIPE: LineInput.RECIPE}
CMD_MASK = CMD_START | CMD_STOP | CMD_RESET_COUNTERS | CMD_ACK_ALARM | CMD_SELECT_RECIPE

# CMD_ACK values
ACK_NONE = 0
ACK_BAD_RECIPE = 1
ACK_REFUSED = 2

MAX_TRIGGERS_PER_STEP = 16  # a larger jump of TRIGGER is taken as a PLC restart: one trigger


def u16(value: int) -> int:
    """A count as a register value (wraps at 65536)."""
    return int(value) % 65536


def uint32_regs(value: int) -> list[int]:
    v = int(value) % (1 << 32)
    return [v >> 16, v & 0xFFFF]


def regs_uint32(regs) -> int:
    return (int(regs[0]) << 16) | int(regs[1])


def float32_regs(value: float) -> list[int]:
    """IEEE float32, high word first; beyond float32's range it is +-inf, a non-number NaN."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    try:
        raw = struct.pack(">f", v)
    except OverflowError:
        raw = struct.pack(">f", math.copysign(math.inf, v))
    hi, lo = struct.unpack(">HH", raw)
    return [hi, lo]


def regs_float32(regs) -> float:
    return struct.unpack(">f", struct.pack(">HH", int(regs[0]), int(regs[1])))[0]


def state_bits(state: StationState) -> int:
    """STATUS bits the station state drives (READY, BUSY, ERROR, ALARM)."""
    bits = 0
    if state.ready:
        bits |= ST_READY
    if state.busy:
        bits |= ST_BUSY
    if state.error:
        bits |= ST_ERROR
    if state.alarm:
        bits |= ST_ALARM
    return bits


def result_bits(result: LineResult) -> int:
    """STATUS bits one result drives (RESULT_VALID, its decision, TEST)."""
    bits = ST_RESULT_VALID | DECISION_BITS[result.decision]
    if result.test:
        bits |= ST_TEST
    return bits


def encode_result(result: LineResult, *, state: int = 0, heartbeat: int = 0,
                  result_count: int = 0) -> list[int]:
    """Registers 0..6 for one result: STATUS (``state`` bits kept, result bits replaced),
    HEARTBEAT, SEQ, SCORE, RESULT_COUNT. The caller owns the count (it passes the new value,
    i.e. the previous one + 1) and writes the seven registers in one step."""
    status = (int(state) & (STATE_BITS | ST_ERROR)) | result_bits(result)
    return [status, u16(heartbeat), *uint32_regs(result.seq), *float32_regs(result.score),
            u16(result_count)]


def slot_address(result_count: int) -> int:
    """The first register of the ring slot that holds the result with this RESULT_COUNT."""
    return RING + (int(result_count) % RING_SLOTS) * SLOT_SIZE


def encode_slot(result: LineResult, result_count: int) -> list[int]:
    """The ring slot of one result: COUNT, BITS, SEQ, SCORE."""
    return [u16(result_count), result_bits(result), *uint32_regs(result.seq), *float32_regs(result.score)]


def decode_ring(regs, since: int) -> tuple[list[dict], int]:
    """(the results of the ring newer than RESULT_COUNT ``since``, oldest first; how many
    newer results are no longer in it). ``regs``: registers 0..RING_END-1 read in one request."""
    if len(regs) < RING_END:
        raise ValueError(f"decode_ring needs registers 0..{RING_END - 1}, got {len(regs)}")
    count = int(regs[RESULT_COUNT])
    new = (count - int(since)) % 65536
    out = []
    for c in range(count - min(new, RING_SLOTS) + 1, count + 1):
        c %= 65536
        a = slot_address(c)
        slot = regs[a:a + SLOT_SIZE]
        if int(slot[0]) != c:  # not written yet (a fresh station) or overwritten meanwhile
            continue
        bits = int(slot[1])
        decision = next((n for n in ("OK", "REVIEW", "NG", "ERROR") if bits & DECISION_BITS[n]), "")
        out.append({"result_count": c, "decision": decision, "test": bool(bits & ST_TEST),
                    "seq": regs_uint32(slot[2:4]), "score": regs_float32(slot[4:6])})
    return out, max(0, new - RING_SLOTS)


def encode_counters(state: StationState) -> list[int]:
    """Registers 7..11: OK, REVIEW, NG, LATE counts and MODEL_VERSION (0 = none)."""
    mv = state.model_version if state.model_version is not None else 0
    return [u16(state.ok), u16(state.review), u16(state.ng), u16(state.late), u16(mv)]


def decode_status(regs) -> dict:
    """What a PLC sees in registers 0..6 (or 0..13 / 0..15): named fields. ``decision`` is the
    result's decision ("" when RESULT_VALID is clear); ERROR alone (without RESULT_VALID) is
    the station's own error."""
    if len(regs) < RESULT_SIZE:
        raise ValueError(f"decode_status needs at least {RESULT_SIZE} registers, got {len(regs)}")
    st = int(regs[STATUS])
    valid = bool(st & ST_RESULT_VALID)
    decision = ""
    if valid:
        for name in ("OK", "REVIEW", "NG", "ERROR"):
            if st & DECISION_BITS[name]:
                decision = name
                break
    out = {
        "ready": bool(st & ST_READY), "busy": bool(st & ST_BUSY), "result_valid": valid,
        "ok": bool(st & ST_OK), "review": bool(st & ST_REVIEW), "ng": bool(st & ST_NG),
        "error": bool(st & ST_ERROR), "alarm": bool(st & ST_ALARM), "test": bool(st & ST_TEST),
        "decision": decision, "heartbeat": int(regs[HEARTBEAT]),
        "seq": regs_uint32(regs[SEQ:SEQ + 2]), "score": regs_float32(regs[SCORE:SCORE + 2]),
        "result_count": int(regs[RESULT_COUNT]),
    }
    if len(regs) > CMD_ACK:
        out.update(ok_count=int(regs[OK_COUNT]), review_count=int(regs[REVIEW_COUNT]),
                   ng_count=int(regs[NG_COUNT]), late_count=int(regs[LATE_COUNT]),
                   model_version=int(regs[MODEL_VERSION]), trigger_ack=int(regs[TRIGGER_ACK]),
                   cmd_ack=int(regs[CMD_ACK]))
    return out


def trigger_steps(previous: int, now: int) -> int:
    """Triggers between two TRIGGER readings (mod 65536); a jump over MAX_TRIGGERS_PER_STEP
    is a PLC restart or a counter reset and counts as one."""
    delta = (int(now) - int(previous)) % 65536
    return 1 if delta > MAX_TRIGGERS_PER_STEP else delta


def decode_commands(word: int) -> list[LineInput]:
    """The command bits set in COMMAND, in bit order (SELECT_RECIPE gives LineInput.RECIPE)."""
    return [kind for bit, kind in COMMAND_BITS.items() if int(word) & bit]
