"""Nothing reported as committed is lost when the writing process is SIGKILLed mid-stream."""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import ResultRecord, ResultsQuery, ResultsWriter

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

REPO = Path(__file__).resolve().parents[1]
CHILD = r"""
import sys, time
from core.store import ResultRecord, ResultsWriter

def on_commit(rows):
    sys.stdout.write("".join(f"{r.id}\n" for r in rows))
    sys.stdout.flush()

w = ResultsWriter(sys.argv[1], batch_size=25, max_delay_s=0.02, on_commit=on_commit)
i = 0
while True:
    w.append(ResultRecord(time=time.time(), recipe="bottle", model_version=1, ok_limit=0.3,
                          ng_limit=0.6, pixel_threshold=0.5, score=(i % 100) / 100,
                          verdict="OK", latency_ms=1.0, frame_id=i, source="child"))
    i += 1
    time.sleep(0.0003)
"""


def test_sigkill_mid_stream_keeps_every_committed_row(tmp_path):
    db = tmp_path / "results.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        reported: list[int] = []
        deadline = time.monotonic() + 20
        while len(reported) < 300 and time.monotonic() < deadline:  # several batches
            line = proc.stdout.readline()
            if not line:
                break
            reported.append(int(line))
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(reported) >= 300, err.decode()
    # complete lines printed after the ones read above are committed ids too
    tail = rest.decode().split("\n")[:-1]  # the last piece may be a half-written line
    reported += [int(x) for x in tail]

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = {row[0] for row in conn.execute("SELECT id FROM results")}
    conn.close()
    assert set(reported) <= ids, f"lost committed rows: {sorted(set(reported) - ids)[:10]}"
    assert ids == set(range(1, max(ids) + 1))  # whole batches only, in order, no holes
    # the database is usable afterwards: a new writer continues after the last id
    with ResultsWriter(db) as w:
        w.append(ResultRecord(time=time.time() + 3600, recipe="bottle", model_version=1, ok_limit=0.3,
                              ng_limit=0.6, pixel_threshold=None, score=0.1, verdict="OK"))
    assert ResultsQuery(db).last(1)[0].id == max(ids) + 1
