"""kind "opcua": the station as an OPC UA server (asyncua) that the line's PLC or SCADA reads
and whose methods it calls. The model is described in :mod:`core.lineio.opcua_model`.

asyncua is asyncio: the server runs in its own daemon thread with its own event loop; the
runner thread hands values over with ``run_coroutine_threadsafe`` and waits a bounded time.
``start()`` returns at once (asyncua takes about a second to come up): the link shows
"connecting" until the server listens. Values published before then are written as soon as
it is up. Security: none (an anonymous, unencrypted endpoint) is the only mode for now.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from asyncua import Server, ua

from core.lineio import opcua_model as model
from core.lineio.contract import (CommandSink, LineCommand, LineInput, LineOutput, LineResult, LinkStatus,
                                  StationState, Transport)
from core.lineio.linkstate import LinkState
from core.lineio.registry import LineConfigError, TransportContext
from core.lineio.serverloop import check_port, run_server, stop_server

_log = logging.getLogger(__name__)

DEFAULTS = {"host": "0.0.0.0", "port": 4840, "namespace": "urn:lineinspector:station", "security": "none"}
WRITE_TIMEOUT = 5.0  # s a publish waits for the server's loop (a wedged loop fails the publish)


def build(kind: str, options: dict[str, Any], context: TransportContext) -> OpcUaTransport:
    opts = dict(DEFAULTS)
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise LineConfigError(f"unknown option {unknown[0]!r} (use {', '.join(DEFAULTS)})")
    opts.update(options)
    port = opts["port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise LineConfigError(f"port must be an integer 1-65535, got {str(port)[:40]!r}")
    for key in ("host", "namespace"):
        value = opts[key]
        if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
            raise LineConfigError(f"{key} must be a non-empty text without spaces, got {str(value)[:40]!r}")
    if opts["security"] != "none":
        raise LineConfigError(f"security must be \"none\" (the only mode for now), got {str(opts['security'])[:40]!r}")
    return OpcUaTransport(opts["host"], port, namespace=opts["namespace"], station=context.station)


class OpcUaTransport(Transport):
    def __init__(self, host: str, port: int, *, namespace: str = DEFAULTS["namespace"],
                 station: str = "station") -> None:
        self.host, self.port, self.namespace = host, int(port), namespace
        self.station = station.strip() or "station"
        self.name = f"opcua {host}:{port}"
        self._lock = threading.Lock()  # guards _pending, _alarm*, _quit and the loop handles
        self._link = LinkState()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._ids: dict[str, ua.NodeId] = {}
        self._pending: dict[str, object] = {}  # published before the server was up
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._commands: CommandSink | None = None
        self._alarm, self._alarm_count = "", 0
        self._quit = False  # stop() asked (checked by the server thread before it waits)

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}/lineinspector/"

    # --- Transport ---------------------------------------------------------------------------
    def start(self, commands: CommandSink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._commands = commands
        self._link.set("connecting", f"starting {self.endpoint}")
        self._thread = threading.Thread(target=self._run, name=f"lineio-opcua-{self.port}", daemon=True)
        self._thread.start()

    def publish_result(self, result: LineResult) -> None:
        self._write(model.result_values(result))
        self._link.count_sent()

    def publish_state(self, state: StationState) -> None:
        values = model.state_values(state)
        with self._lock:
            if state.alarm and state.alarm != self._alarm:
                self._alarm_count += 1
            self._alarm = state.alarm
            values["Alarms.Count"] = self._alarm_count
        self._write(values)

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        self._write(model.forced_values(output, value))

    def status(self) -> LinkStatus:
        state, detail, sent = self._link.get()
        if state == "connected" and self._server is not None and self._server.bserver is not None:
            n = len(self._server.bserver.clients)
            detail = f"{detail}, {n} client connection{'s' if n != 1 else ''}"
        return LinkStatus(self.name, state, detail, sent=sent)

    def stop(self) -> None:
        with self._lock:
            self._quit = True
            loop, event, thread = self._loop, self._stop_event, self._thread
        stop_server(loop, event, thread, self.name)
        self._link.stopped()

    # --- any thread -> the server's loop -----------------------------------------------------
    def _write(self, values: dict[str, object]) -> None:
        with self._lock:
            (state, detail, _), loop = self._link.get(), self._loop
            if state == "connecting" or self._thread is None or (state == "connected" and not self._ids):
                self._pending.update(values)  # written when the server is up
                return
        if state != "connected" or loop is None:
            raise ConnectionError(f"{self.name}: server not running ({state}: {detail})")
        asyncio.run_coroutine_threadsafe(self._apply(values), loop).result(WRITE_TIMEOUT)

    async def _apply(self, values: dict[str, object]) -> None:
        """Write ``values`` in order without yielding to other requests (see opcua_model)."""
        server = self._server
        for key, value in values.items():
            await server.write_attribute_value(self._ids[key], ua.DataValue(ua.Variant(value, model.TYPES[key])))

    def _call(self, method: str, args: list) -> ua.CallMethodResult:
        """A method call from a client (asyncua's worker thread) -> a LineCommand."""
        kind, takes_arg = model.METHODS[method]
        value = None
        if takes_arg:
            value = args[0].Value if args and isinstance(args[0], ua.Variant) else (args[0] if args else None)
            if not isinstance(value, str) or not value.strip():
                what = "the lot" if kind is LineInput.LOT else "the recipe name"
                return _answer(ua.StatusCodes.BadInvalidArgument, f"{method}: {what} must not be empty")
            value = value.strip()
        sink = self._commands
        try:
            if sink is not None:
                sink(LineCommand(kind, value, source=self.name, t=_now()))
        except Exception as exc:  # the station's bug must not kill the server
            _log.exception("%s: command %s failed", self.name, method)
            return _answer(ua.StatusCodes.BadInternalError, f"{method}: {type(exc).__name__}: {exc}")
        return _answer(ua.StatusCodes.Good, f"{method}: accepted")

    # --- server thread -----------------------------------------------------------------------
    def _run(self) -> None:
        def serve(loop: asyncio.AbstractEventLoop):
            self._loop = loop
            return self._serve()

        run_server(serve, self._link, self.name, self.host, self.port)

    async def _serve(self) -> None:
        with self._lock:
            self._stop_event = asyncio.Event()
        check_port(self.host, self.port)
        server = Server()
        await server.init()
        server.disable_clock()
        server.set_endpoint(self.endpoint)
        server.set_server_name(f"LineInspector {self.station}")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        idx = await server.register_namespace(self.namespace)
        ids = await model.build_model(server, idx, self.station, self._call)
        self._server = server
        await server.start()
        try:
            with self._lock:
                pending, self._pending = self._pending, {}
            self._ids = ids
            await self._apply(pending)
            with self._lock:
                pending, self._pending = self._pending, {}
                self._link.set("connected", f"serving {self.endpoint}")
            await self._apply(pending)  # anything published while the first batch was written
            _log.info("%s: serving %s (namespace %s, security none)", self.name, self.endpoint, self.namespace)
            with self._lock:
                if self._quit:
                    return
            await self._stop_event.wait()
        finally:
            await server.stop()


def _answer(code: int, text: str) -> ua.CallMethodResult:
    res = ua.CallMethodResult()
    res.StatusCode = ua.StatusCode(code)
    res.OutputArguments = [ua.Variant(text, ua.VariantType.String)]
    return res


def _now() -> float:
    return time.monotonic()
