"""The station's OPC UA information model (under Objects/<station>, namespace
"urn:lineinspector:station" unless configured) and the values each message puts in it.

    <station>/Station    Ready, Busy, Error (Boolean), ErrorText (String), Alarm (Boolean),
                         Heartbeat (Int64, counts up)
    <station>/Recipe     Name (String), ModelVersion (Int32, -1 = none)
    <station>/LastResult Valid, Verdict, Decision, Score (Double, NaN = none), Late, Test,
                         Time (DateTime), Seq (Int64)
    <station>/Counters   OK, Review, NG, Late (Int64, of the current recipe)
    <station>/Alarms     Active (String, "" = none), Count (Int64, alarms raised since start)
    methods on <station>: SelectRecipe(Name: String), Start(), Stop(), ResetCounters(),
                          AcknowledgeAlarm(), Trigger(), SetLot(Name: String: the lot);
                          each returns Message (String)

A result is written in one event-loop step (no client request is served between its
fields) and Seq is written last, so a client that reads or subscribes to Seq sees the other
LastResult fields of that same part. Node ids are strings "<station>.<Folder>.<Name>" in the
station's namespace, so a PLC program can address them without browsing.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable

from asyncua import ua

from core.lineio.contract import LineInput, LineOutput, LineResult, StationState

V = ua.VariantType
MODEL: dict[str, tuple[tuple[str, ua.VariantType, object], ...]] = {
    "Station": (("Ready", V.Boolean, False), ("Busy", V.Boolean, False), ("Error", V.Boolean, False),
                ("ErrorText", V.String, ""), ("Alarm", V.Boolean, False), ("Heartbeat", V.Int64, 0)),
    "Recipe": (("Name", V.String, ""), ("ModelVersion", V.Int32, -1)),
    "LastResult": (("Valid", V.Boolean, False), ("Verdict", V.String, ""), ("Decision", V.String, ""),
                   ("Score", V.Double, math.nan), ("Late", V.Boolean, False), ("Test", V.Boolean, False),
                   ("Time", V.DateTime, datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)),
                   ("Seq", V.Int64, 0)),  # Seq last: see the module docstring
    "Counters": (("OK", V.Int64, 0), ("Review", V.Int64, 0), ("NG", V.Int64, 0), ("Late", V.Int64, 0)),
    "Alarms": (("Active", V.String, ""), ("Count", V.Int64, 0)),
}
TYPES = {f"{folder}.{name}": vtype for folder, items in MODEL.items() for name, vtype, _ in items}

# method name -> (the command it becomes, takes a String argument)
METHODS: dict[str, tuple[LineInput, bool]] = {
    "SelectRecipe": (LineInput.RECIPE, True),
    "Start": (LineInput.START, False),
    "Stop": (LineInput.STOP, False),
    "ResetCounters": (LineInput.RESET_COUNTERS, False),
    "AcknowledgeAlarm": (LineInput.ACK_ALARM, False),
    "Trigger": (LineInput.TRIGGER, False),
    "SetLot": (LineInput.LOT, True),
}


def result_values(result: LineResult) -> dict[str, object]:
    """LastResult's fields for ``result``, in write order (Seq last)."""
    when = datetime.datetime.fromtimestamp(max(0.0, result.wall_time), datetime.timezone.utc)
    return {
        "LastResult.Valid": True,
        "LastResult.Verdict": result.verdict,
        "LastResult.Decision": result.decision,
        "LastResult.Score": float(result.score),
        "LastResult.Late": bool(result.late),
        "LastResult.Test": bool(result.test),
        "LastResult.Time": when,
        "LastResult.Seq": int(result.seq),
    }


def state_values(state: StationState) -> dict[str, object]:
    return {
        "Station.Ready": bool(state.ready),
        "Station.Busy": bool(state.busy),
        "Station.Error": bool(state.error),
        "Station.ErrorText": state.error,
        "Station.Alarm": bool(state.alarm),
        "Station.Heartbeat": int(state.heartbeat),
        "Recipe.Name": state.recipe,
        "Recipe.ModelVersion": -1 if state.model_version is None else int(state.model_version),
        "Counters.OK": int(state.ok),
        "Counters.Review": int(state.review),
        "Counters.NG": int(state.ng),
        "Counters.Late": int(state.late),
        "Alarms.Active": state.alarm,
    }


def forced_values(output: LineOutput, value: bool | int | float) -> dict[str, object]:
    """What forcing one output writes (OK / REVIEW / NG set LastResult.Decision)."""
    if output in (LineOutput.OK, LineOutput.REVIEW, LineOutput.NG):
        return {"LastResult.Decision": output.name if value else ""}
    simple = {LineOutput.READY: "Station.Ready", LineOutput.BUSY: "Station.Busy",
              LineOutput.ERROR: "Station.Error", LineOutput.RESULT_VALID: "LastResult.Valid"}
    if output in simple:
        return {simple[output]: bool(value)}
    if output is LineOutput.HEARTBEAT:
        return {"Station.Heartbeat": int(value)}
    if output is LineOutput.SEQ:
        return {"LastResult.Seq": int(value)}
    if output is LineOutput.SCORE:
        return {"LastResult.Score": float(value)}
    raise ValueError(f"opcua: cannot force {output}")


def node_id(idx: int, station: str, key: str) -> ua.NodeId:
    return ua.NodeId(f"{station}.{key}", idx)


async def build_model(server, idx: int, station: str,
                      call: Callable[[str, list], ua.CallMethodResult]) -> dict[str, ua.NodeId]:
    """Add the model's nodes to ``server``; ``call(method, args)`` answers every method call.
    Returns each variable's node id by key ("LastResult.Seq")."""
    root = await server.nodes.objects.add_object(ua.NodeId(station, idx), ua.QualifiedName(station, idx))
    ids: dict[str, ua.NodeId] = {}
    for folder, items in MODEL.items():
        obj = await root.add_object(node_id(idx, station, folder), ua.QualifiedName(folder, idx))
        for name, vtype, initial in items:
            key = f"{folder}.{name}"
            var = await obj.add_variable(node_id(idx, station, key), ua.QualifiedName(name, idx),
                                         ua.Variant(initial, vtype))
            ids[key] = var.nodeid
    for name, (_kind, takes_arg) in METHODS.items():
        def handler(parent, *args, _name=name):
            return call(_name, list(args))
        inputs = [_argument("Name", ua.NodeId(ua.ObjectIds.String))] if takes_arg else []
        await root.add_method(node_id(idx, station, name), ua.QualifiedName(name, idx), handler,
                              inputs, [_argument("Message", ua.NodeId(ua.ObjectIds.String))])
    return ids


def _argument(name: str, datatype: ua.NodeId) -> ua.Argument:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = datatype
    arg.ValueRank = -1
    return arg
