"""The bench peers of kinds "opcua", "s7", "modbus-server" and "modbus-client"
(bench/lineio_peers) against the real transports: they connect once the station's side is
up, see each result's seq and trigger."""

from __future__ import annotations

import importlib
import queue

import pytest

from core.lineio.contract import LineInput, LineResult
from core.lineio.registry import TransportContext, build_transport


@pytest.mark.parametrize("kind", ["opcua", "s7", "modbus-server", "modbus-client"])
def test_peer_sees_results_and_triggers(kind):
    peer = importlib.import_module(f"bench.lineio_peers.{kind.replace('-', '_')}").Peer()
    options = peer.transport_options()
    assert options.pop("kind") == kind
    commands: queue.Queue = queue.Queue()
    transport = build_transport(kind, options, TransportContext(data_dir="."))
    peer.start()  # before the station: it keeps trying
    transport.start(commands.put)
    try:
        assert peer.connected.wait(15)
        for seq in (5, 6):
            transport.publish_result(LineResult(seq=seq, verdict="OK", decision="OK", score=0.1))
            assert peer.wait_result(seq, 10) is not None
        assert peer.wait_result(999, 0.01) is None
        peer.trigger()
        assert commands.get(timeout=10).kind is LineInput.TRIGGER
    finally:
        peer.stop()
        transport.stop()
