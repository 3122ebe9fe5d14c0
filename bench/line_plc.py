"""The whole line on this machine: the simulated line driven by a simulated PLC over Modbus,
and how many parts reached the wrong bin at the line's speed (not a test).

    .venv/bin/python bench/line_plc.py [--parts 200] [--parts-per-min N] [--gate-ms 500]
                                       [--deadline-ms 0] [--review-bin ng] [--source sim]
                                       [--bundle PATH | --preset fast] [--warmup 5]
                                       [--out bench/out/line_plc.json]

A headless station runs in this process (bench/_station.py: the simulated line in triggered
mode, the demo model unless --bundle / --preset say otherwise, a "modbus-server" link on a
free loopback port). The simulated PLC (core.lineio.sim_plc) is its Modbus client: one part
every 60/--parts-per-min seconds (default: the line's own speed, its fps x 60), TRIGGER
bumped, the verdict read from the register map and the part sorted before it reaches the
reject gate --gate-ms after its trigger. The PLC knows each part's truth from the simulated
line itself, by seq, not from the station.

Report (printed and --out JSON): parts, per bin, wrong bin (false rejects: good parts in NG;
escapes: defective parts in OK), missed (reached the gate undecided: OK bin), late (of
those, decided afterwards), trigger -> result latency as the PLC saw it (median, p99, max).
--preset gives random weights: its speed is the model's, its bins mean nothing.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_report  # noqa: E402
from bench._station import bench_station  # noqa: E402
from bench.lineio_latency import summary  # noqa: E402


def number(low: float, high: float, whole: bool = False):
    def parse(text: str):
        try:
            v = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if whole else ''}number, got {text!r}") from None
        if not (math.isfinite(v) and low <= v <= high):
            raise argparse.ArgumentTypeError(f"must be {low:g}-{high:g}, got {text!r}")
        return v

    return parse


def parse_args(argv=None) -> argparse.Namespace:
    from core.training.presets import PRESETS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=number(1, 1_000_000, whole=True), default=200)
    ap.add_argument("--parts-per-min", type=number(1, 60000), default=None,
                    help="line speed (default: the simulated line's fps x 60)")
    ap.add_argument("--gate-ms", type=number(1, 600000), default=500.0, help="trigger -> reject gate")
    ap.add_argument("--deadline-ms", type=number(0, 600000, whole=True), default=0,
                    help="the station's deadline (0: none); later results go out as the fail-safe")
    ap.add_argument("--review-bin", choices=("ng", "ok"), default="ng")
    ap.add_argument("--poll-ms", type=number(0.5, 1000), default=2.0, help="how often the PLC reads")
    ap.add_argument("--warmup", type=number(0, 1000, whole=True), default=5, help="parts first, not counted")
    ap.add_argument("--source", default="sim", help="a sim SOURCE, e.g. sim:seed=0,defect_rate=0.2")
    model = ap.add_mutually_exclusive_group()
    model.add_argument("--bundle", type=Path, default=None, help="model bundle (default: the demo model)")
    model.add_argument("--preset", choices=sorted(PRESETS), default=None, help="random weights of this preset")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    ap.add_argument("--out", type=Path, default=Path("bench/out/line_plc.json"))
    args = ap.parse_args(argv)
    from core.camera.registry import parse_spec
    from core.camera.sim.line import SimLineConfig

    try:
        spec = parse_spec(args.source)
        if spec.kind != "sim":
            raise ValueError(f"the PLC knows each part's truth only on the simulated line, not {spec.kind!r}")
        args.line = SimLineConfig.from_options(spec.options)
    except ValueError as exc:
        ap.error(f"--source: {exc}")
    if args.parts_per_min is None:
        if args.line.fps <= 0:
            ap.error("--parts-per-min: the source is unpaced (fps=0); give the line's speed")
        args.parts_per_min = min(args.line.fps * 60.0, 60000.0)
    if args.preset is None and args.bundle is None:
        from core.demo import DEMO_MODEL

        args.bundle = DEMO_MODEL
    if args.bundle is not None and not args.bundle.is_file():
        ap.error(f"--bundle: no such file {args.bundle}")
    return args


def run_plc(port: int, line_config, parts: int, first_seq: int, opts: dict) -> dict:
    """A SimPlc run to the end (every part at its gate or decided), in the PLC's process."""
    from core.lineio.sim_plc import SimPlc, sim_truth

    plc = SimPlc("127.0.0.1", port, truth=sim_truth(line_config), parts=parts, first_seq=first_seq, **opts)
    plc.start()
    try:
        finished = plc.wait_done(parts * plc.period_s + plc.gate_s + 60.0)
    finally:
        plc.stop()
    return {"counts": plc.counts(), "triggered": plc.triggered, "finished": finished,
            "first": plc.first_trigger_at, "last": plc.last_trigger_at}


def plc_process(port: int, line_config, warmup: int, parts: int, opts: dict, out) -> None:
    """The PLC is another machine: its own process, so the station's threads never hold it up
    (in-process they share one interpreter lock). Warm-up parts first, then the counted ones."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    try:
        first = run_plc(port, line_config, warmup, 0, opts)["triggered"] if warmup else 0
        out.send(run_plc(port, line_config, parts, first, opts))
    except Exception as exc:  # said in the parent's report, not as a child's traceback
        out.send({"error": f"{type(exc).__name__}: {exc}"})


def in_child(port: int, line_config, warmup: int, parts: int, opts: dict) -> dict:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(target=plc_process, args=(port, line_config, warmup, parts, opts, there),
                        name="sim-plc", daemon=True)
    child.start()
    there.close()
    bound = (warmup + parts) * 60.0 / opts["parts_per_min"] + 2 * opts["gate_ms"] / 1000.0 + 180.0
    try:
        if not here.poll(bound):  # a failure guard: the child's own waits end well before
            return {"error": f"the PLC's process gave no report within {bound:.0f} s"}
        return here.recv()  # the child always sends, or dies: then EOFError
    except EOFError:
        return {"error": f"the PLC's process ended without a report (exit code {child.exitcode})"}
    finally:
        child.join(30.0)
        if child.is_alive():
            child.kill()


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.ERROR)  # its deprecation notes per server
    from bench.lineio_peers._seen import free_port

    port = free_port()
    table = {"kind": "modbus-server", "host": "127.0.0.1", "port": port}
    with bench_station([table], preset=args.preset or "fast", source=args.source, device=args.device,
                       mapping={"deadline_ms": args.deadline_ms}, bundle=args.bundle) as (station, probe):
        opts = {"parts_per_min": args.parts_per_min, "gate_ms": args.gate_ms, "review_bin": args.review_bin,
                "poll_ms": args.poll_ms}
        t0 = time.monotonic()
        run = in_child(port, station.camera().config, args.warmup, args.parts, opts)
        seconds = time.monotonic() - t0
        line = station.line.stats()
        inspected = station.inspected()
        links = [f"{s.name} {s.state}" for s in station.line.statuses()]
    if "error" in run:
        print(f"the simulated PLC failed: {run['error']}", file=sys.stderr)
        return 1
    c, finished = run["counts"], run["finished"]
    span = (run["last"] or 0.0) - (run["first"] or 0.0)
    achieved = (run["triggered"] - 1) * 60.0 / span if run["triggered"] > 1 and span > 0 else None
    payload = {
        "bench": "line_plc", "finished": finished, "source": args.source,
        "model": str(args.bundle) if args.bundle else f"random weights of {args.preset}",
        "device": args.device, "gate_ms": args.gate_ms, "deadline_ms": args.deadline_ms,
        "review_bin": args.review_bin, "warmup": args.warmup,
        "parts_per_min": {"asked": round(args.parts_per_min, 1),
                          "achieved": round(achieved, 1) if achieved else None},
        "parts": c.parts, "bins": {"ok": c.ok_bin, "ng": c.ng_bin},
        "wrong_bin": {"total": c.wrong_bin, "false_rejects": c.false_rejects, "escapes": c.escapes},
        "missed": c.missed, "late": c.late, "pending": c.pending, "decisions": c.decisions,
        "unmatched": c.unmatched, "overwritten": c.overwritten,
        "latency_trigger_to_result_ms": summary(list(c.latencies_ms)),
        "station": {"inspected": inspected, "sent": line.sent, "late": line.late,
                    "dropped": line.dropped, "links": links},
        "seconds": round(seconds, 1),
    }
    out = write_report(args.out, payload)
    lat = out["latency_trigger_to_result_ms"]
    print(f"{c.parts} parts at {payload['parts_per_min']['achieved']}/min (asked {payload['parts_per_min']['asked']}): "
          f"OK bin {c.ok_bin}, NG bin {c.ng_bin}; wrong bin {c.wrong_bin} ({c.false_rejects} false rejects, "
          f"{c.escapes} escapes); missed {c.missed}, late {c.late}; trigger->result median {lat.get('median_ms')} "
          f"p99 {lat.get('p99_ms')} max {lat.get('max_ms')} ms" + ("" if finished else "; NOT FINISHED in time"))
    print(f"wrote {args.out}")
    return 0 if finished else 1


if __name__ == "__main__":
    raise SystemExit(main())
