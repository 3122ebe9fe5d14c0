"""What the Modbus server and client kinds share: the station's output registers as it last
set them, and the taking of the PLC's input registers (trigger counter, recipe number,
command bits) as LineCommands. Neither is thread-safe: the transports hold their own lock."""

from __future__ import annotations

import logging
import time

from core.lineio import modbus_map as mm
from core.lineio.contract import CommandSink, LineCommand, LineInput, LineOutput, LineResult, StationState

_log = logging.getLogger(__name__)

FORCE_BITS = {LineOutput.READY: mm.ST_READY, LineOutput.BUSY: mm.ST_BUSY,
              LineOutput.RESULT_VALID: mm.ST_RESULT_VALID, LineOutput.OK: mm.ST_OK,
              LineOutput.REVIEW: mm.ST_REVIEW, LineOutput.NG: mm.ST_NG, LineOutput.ERROR: mm.ST_ERROR}
# the order commands set together are carried out: select, then start (the recipe just chosen)
COMMAND_ORDER = (mm.CMD_SELECT_RECIPE, mm.CMD_STOP, mm.CMD_START, mm.CMD_RESET_COUNTERS, mm.CMD_ACK_ALARM)


class OutputRegisters:
    """Registers base+0 .. base+67 (status, counters, the result ring); each change returns
    (first address, registers) to write in one request."""

    def __init__(self) -> None:
        self.regs = [0] * mm.RING_END
        self._state_error = self._result_error = False

    def result(self, result: LineResult) -> tuple[int, list[int]]:
        self._result_error = result.decision == "ERROR"
        keep = self.regs[mm.STATUS] & mm.STATE_BITS
        if self._state_error:
            keep |= mm.ST_ERROR
        count = mm.u16(self.regs[mm.RESULT_COUNT] + 1)
        self.regs[:mm.RESULT_SIZE] = mm.encode_result(
            result, state=keep, heartbeat=self.regs[mm.HEARTBEAT], result_count=count)
        slot = mm.slot_address(count)
        self.regs[slot:slot + mm.SLOT_SIZE] = mm.encode_slot(result, count)
        # one block from STATUS to the ring's end: the PLC sees the result and its slot together
        return 0, self.regs[:mm.RING_END]

    def state(self, state: StationState) -> tuple[int, list[int]]:
        self._state_error = bool(state.error)
        status = (self.regs[mm.STATUS] & mm.RESULT_BITS) | mm.state_bits(state)
        if self._result_error:
            status |= mm.ST_ERROR
        self.regs[mm.STATUS] = status
        self.regs[mm.HEARTBEAT] = mm.u16(state.heartbeat)
        self.regs[mm.OK_COUNT:mm.MODEL_VERSION + 1] = mm.encode_counters(state)
        return 0, self.regs[:mm.CMD_ACK + 1]

    def force(self, output: LineOutput, value: bool | int | float) -> tuple[int, list[int]]:
        if output in FORCE_BITS:
            bit = FORCE_BITS[output]
            self.regs[mm.STATUS] = self.regs[mm.STATUS] | bit if value else self.regs[mm.STATUS] & ~bit
            return mm.STATUS, self.regs[mm.STATUS:mm.STATUS + 1]
        if output is LineOutput.SEQ:
            self.regs[mm.SEQ:mm.SEQ + 2] = mm.uint32_regs(int(value))
            return mm.SEQ, self.regs[mm.SEQ:mm.SEQ + 2]
        if output is LineOutput.SCORE:
            self.regs[mm.SCORE:mm.SCORE + 2] = mm.float32_regs(value)
            return mm.SCORE, self.regs[mm.SCORE:mm.SCORE + 2]
        if output is LineOutput.HEARTBEAT:
            self.regs[mm.HEARTBEAT] = mm.u16(int(value))
            return mm.HEARTBEAT, self.regs[mm.HEARTBEAT:mm.HEARTBEAT + 1]
        raise NotImplementedError(f"modbus: output {output} cannot be forced")


class InputTaker:
    """Turns readings of TRIGGER / RECIPE / COMMAND into LineCommands.

    ``take`` returns the commands and the COMMAND word with the bits it took cleared (what
    the PLC must see next); the caller emits the commands outside its lock with :meth:`emit`,
    which sets ``cmd_ack``. ``trigger`` None: the first reading is the baseline (a client
    joining a PLC whose counter already runs), else the counter's last value."""

    def __init__(self, source: str, sink: CommandSink | None, trigger: int | None = 0) -> None:
        self.source, self.sink = source, sink
        self.trigger = trigger
        self.recipe = self.command = 0
        self.cmd_ack = mm.ACK_NONE

    @property
    def trigger_ack(self) -> int:
        return self.trigger or 0

    def inputs(self) -> dict[str, object]:
        return {"trigger": self.trigger_ack, "recipe": self.recipe, "command": self.command}

    def take(self, trigger: int, recipe: int, command: int) -> tuple[list[LineCommand], int]:
        now = time.monotonic()
        cmds: list[LineCommand] = []
        if self.trigger is None:
            self.trigger = int(trigger)
        steps = mm.trigger_steps(self.trigger, trigger)
        self.trigger = int(trigger)
        cmds += [LineCommand(LineInput.TRIGGER, None, self.source, now) for _ in range(steps)]
        self.recipe, self.command = int(recipe), int(command)
        for bit in COMMAND_ORDER:
            if command & bit:
                kind = mm.COMMAND_BITS[bit]
                value = int(recipe) if kind is LineInput.RECIPE else None
                cmds.append(LineCommand(kind, value, self.source, now))
        return cmds, int(command) & ~mm.CMD_MASK & 0xFFFF

    def emit(self, cmds: list[LineCommand]) -> None:
        """Hand ``cmds`` to the station; CMD_ACK says how the last command bits went."""
        acked = None
        for cmd in cmds:
            if cmd.kind is LineInput.RECIPE and (not isinstance(cmd.value, int) or cmd.value < 1):
                _log.warning("%s: SELECT_RECIPE with recipe number %s refused (1-based)", self.source, cmd.value)
                acked = mm.ACK_BAD_RECIPE
                continue
            try:
                if self.sink is not None:
                    self.sink(cmd)
            except Exception:  # the station's bug must not end the link
                _log.exception("%s: command %s failed", self.source, cmd.kind)
                if cmd.kind is not LineInput.TRIGGER:
                    acked = mm.ACK_REFUSED
                continue
            if cmd.kind is not LineInput.TRIGGER and acked is None:
                acked = mm.ACK_NONE
        if acked is not None:
            self.cmd_ack = acked
