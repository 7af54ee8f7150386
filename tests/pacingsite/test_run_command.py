"""`python3 dev.py run` end to end: it starts the embedded Redis, the GPE simulator, two pacing nodes and the web
UI; a leader is elected; SIGTERM stops every process it started (checked by pid). Real processes on free
loopback ports, a var directory of the test's own; bounded (about 30-60 s)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis
import requests

from pacing.lease import nodes

#: dev.py run's start-up and shutdown, timed: alone, after the parallel workers (tests/conftest.py)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "Pacing_Service_Cluster_9.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(what: str, check, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"{what} within {timeout:g} s; dev.py said:\n{log.read_text()[-4000:]}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_run_starts_everything_and_a_signal_stops_every_process(tmp_path, sig):
    port, gpe_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(PACING_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "dev.py", "run", "--port", str(port), "--gpe-port", str(gpe_port),
                                 "--workers", "1"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    started: set[int] = set()
    try:
        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for("the web UI answered /healthz", healthy, 120, log)
        url = wait_for("dev.py named its embedded Redis",
                       lambda: (m := re.search(r"embedded Redis on (redis://127\.0\.0\.1:\d+/0)", log.read_text()))
                       and m.group(1), 5, log)
        client = redis.Redis.from_url(url, socket_timeout=2)

        def leader_elected():
            try:
                listed = nodes(client, CLUSTER)
            except redis.RedisError:
                return False
            return len(listed) == 2 and sum(n["leader"] for n in listed) == 1 and listed

        listed = wait_for("two pacing nodes with one leader", leader_elected, 45, log)
        assert {n["name"] for n in listed} == {"node-1", "node-2"}
        client.close()
        parent = psutil.Process(proc.pid)
        started = {p.pid for p in parent.children(recursive=True)}
        names = " ".join(" ".join(psutil.Process(p).cmdline()) for p in started if not gone(p))
        assert "redis-server" in names and "gunicorn" in names and "gpe_simulator" in names
        assert names.count("worker --beat -n node-") >= 2
        # the Prometheus directory every child shares
        assert (tmp_path / "var" / "prometheus").is_dir()

        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert proc.returncode == 0, log.read_text()[-3000:]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(gone(p) for p in started):
            time.sleep(0.2)
        left = [p for p in started if not gone(p)]
        assert not left, [psutil.Process(p).cmdline() for p in left]
        assert "stopped" in log.read_text()
    finally:
        for pid in [proc.pid, *started]:
            if not gone(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
