"""Trigger -> output latency of each line I/O transport (not a test).

    .venv/bin/python bench/lineio_latency.py [--kinds opcua,s7,modbus-server,...] [--parts 200]
                                             [--interval-ms 250] [--preset fast]
                                             [--out bench/out/lineio_latency.json]

For each kind, a headless station runs in this process (the `fast` model, randomly
initialised: speed does not depend on the weights; the simulated line in triggered mode) with
that one link, and the kind's bench peer (bench/lineio_peers/<kind>.py) plays the PLC on
loopback. Per part, the peer triggers over the protocol (a peer without a trigger: the
station's own software trigger), and the bench notes:

* total: the peer's trigger sent -> the peer sees the result with that part's seq (what a
  reject gate's PLC waits for);
* command leg: the peer's trigger sent -> the station fired the camera's trigger;
* inspection: trigger -> result ready (camera, model, verdict);
* output leg: result ready -> the peer sees it.

Parts are spaced by --interval-ms so one part's inspection does not queue behind the
previous one's (the line's speed is bench/line_plc.py's question). Report: median, p99, max
(ms) per kind, and parts with no result within 5 s.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import whole_number, write_report  # noqa: E402
from bench._station import bench_station  # noqa: E402

KINDS = ("modbus-server", "modbus-client", "opcua", "mqtt", "s7", "genicam")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "median_ms": round(statistics.median(values), 2),
            "p99_ms": round(pct(values, 0.99), 2), "max_ms": round(max(values), 2)}


positive_int = whole_number(100_000)


def kind_list(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"unknown kind {bad[0] if bad else text!r} (use {', '.join(KINDS)})")
    return kinds


def measure(kind: str, parts: int, interval_s: float, preset: str, warmup: int) -> dict:
    from core.lineio.contract import LineCommand, LineInput

    peer = importlib.import_module(f"bench.lineio_peers.{kind.replace('-', '_')}").Peer()
    table = peer.transport_options()
    table.setdefault("kind", kind)
    peer_triggers = hasattr(peer, "trigger")
    total, command, inspection, output, missed = [], [], [], [], 0
    peer.start()
    try:
        with bench_station([table], preset=preset) as (station, probe):
            if hasattr(peer, "connected"):  # the link up before the first part
                peer.connected.wait(15.0)
            for i in range(parts + warmup):
                t0 = time.monotonic()
                if peer_triggers:
                    peer.trigger()
                else:
                    station.on_command(LineCommand(LineInput.TRIGGER, source="bench"))
                seq = probe.wait_new(i, 5.0)
                seen = None if seq is None else peer.wait_result(seq, 5.0)
                if i >= warmup:
                    if seen is None:
                        missed += 1
                    else:
                        t_trigger, t_ready = probe.times[seq]
                        total.append((seen - t0) * 1000.0)
                        command.append((t_trigger - t0) * 1000.0)
                        inspection.append((t_ready - t_trigger) * 1000.0)
                        output.append((seen - t_ready) * 1000.0)
                time.sleep(max(0.0, interval_s - (time.monotonic() - t0)))
            links = [s.name + " " + s.state for s in station.line.statuses()]
            peer.stop()  # before the station's server goes, so the peer leaves quietly
    finally:
        peer.stop()
    return {"kind": kind, "peer_triggers": peer_triggers, "links": links, "missed": missed,
            "total": summary(total), "command_leg": summary(command), "inspection": summary(inspection),
            "output_leg": summary(output)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", type=kind_list, default=None, help=f"comma-separated (default: every kind with a peer)")
    ap.add_argument("--parts", type=positive_int, default=200)
    ap.add_argument("--warmup", type=positive_int, default=10, help="parts not counted at the start")
    ap.add_argument("--interval-ms", type=positive_int, default=250)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--out", type=Path, default=Path("bench/out/lineio_latency.json"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # its notes on security "none" per connection
    peers = Path(__file__).with_name("lineio_peers")
    kinds = args.kinds or [k for k in KINDS if (peers / f"{k.replace('-', '_')}.py").exists()]
    rows = []
    for kind in kinds:
        row = measure(kind, args.parts, args.interval_ms / 1000.0, args.preset, args.warmup)
        rows.append(row)
        t = row["total"]
        print(f"{kind:14s} total median {t.get('median_ms')} p99 {t.get('p99_ms')} max {t.get('max_ms')} ms; "
              f"output leg median {row['output_leg'].get('median_ms')} ms; missed {row['missed']}", flush=True)
    write_report(args.out, {"bench": "lineio_latency", "preset": args.preset, "parts": args.parts,
                            "interval_ms": args.interval_ms, "kinds": rows})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
