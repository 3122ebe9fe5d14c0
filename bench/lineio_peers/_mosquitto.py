"""A private mosquitto broker on a loopback port, for the MQTT tests and the MQTT bench peer:
started with a temporary config, waited on until it accepts connections, terminated after."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.lineio_peers._seen import free_port

START_TIMEOUT_S = 10.0


def mosquitto_binary() -> str | None:
    """Debian's mosquitto (in /usr/sbin, often not on a user's PATH), or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


class Broker:
    def __init__(self, port: int | None = None, *, persistence: bool = False, workdir: str | Path | None = None) -> None:
        """``persistence``: sessions and queued messages survive a stop (SIGTERM) and start, so a
        subscriber with a persistent session misses nothing while the broker was away."""
        binary = mosquitto_binary()
        if binary is None:
            raise FileNotFoundError("mosquitto is not installed (scripts/system-deps.sh installs it)")
        self.binary = binary
        self.port = int(port or free_port())
        self.persistence = persistence
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mosquitto-")
        self.workdir = Path(workdir or self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def _write_config(self) -> Path:
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 f"persistence {'true' if self.persistence else 'false'}"]
        if self.persistence:
            lines += [f"persistence_location {self.workdir}/", "autosave_interval 0"]
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def start(self) -> None:
        if self.proc is not None:
            raise RuntimeError("mosquitto already running")
        conf = self._write_config()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise RuntimeError(f"mosquitto exited with {code} at start: {self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mosquitto did not accept on port {self.port} within "
                                       f"{START_TIMEOUT_S:.0f} s: {self._log_tail()}") from None
                time.sleep(0.02)

    def stop(self, kill: bool = False) -> None:
        """Terminate (SIGTERM: it saves its persistence file) or kill (SIGKILL) it; idempotent."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(10.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10.0)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-3:])
        except OSError:
            return "(no log)"
