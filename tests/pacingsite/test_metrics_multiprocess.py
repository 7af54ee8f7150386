"""``/metrics`` under gunicorn with several workers, in prometheus-client's multiprocess mode: what another
process (a pacing node) counted shows in the web's answer, whichever worker answers it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site_env(tmp_path):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "PACING_VAR_DIR": str(tmp_path / "var"), "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
           "DJANGO_SETTINGS_MODULE": "pacingsite.settings"}
    # Nothing listens there: /metrics reports the nodes' Redis as down instead of a web worker starting an
    # embedded Redis that would outlive the test.
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    for command in (["migrate", "--no-input", "-v", "0"], ["load_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=180,
                       capture_output=True)
    return env


def scrape(url: str) -> dict:
    families = text_string_to_metric_families(requests.get(url, timeout=10).text)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_metrics_of_other_processes_are_summed(site_env):
    # A "node" raises an alarm twice and clears it, in a process of its own.
    script = ("import django; django.setup()\n"
              "from alarms import catalog, runtime\n"
              "for _ in range(2): runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, source='c', node='node-1')\n"
              "runtime.clear_alarm(catalog.PACING_REQUESTS_FAILED, source='c', node='node-1')\n"
              "runtime.raise_alarm(catalog.GC_LATENCY, source='node-1', node='node-1')\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=site_env, check=True, timeout=60)

    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:pacingsite.gunicorn_conf",
                            "pacingsite.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                           cwd=ROOT, env=site_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow to answer on a busy machine
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        for _ in range(4):  # several scrapes, so both workers answer at least once (most likely)
            samples = scrape(base + "/metrics")
            raised = samples[("pacing_alarm_events_total", (("condition", "PacingRequestsFailed"),
                                                             ("kind", "alarm.raised")))]
            cleared = samples[("pacing_alarm_events_total", (("condition", "PacingRequestsFailed"),
                                                              ("kind", "alarm.cleared")))]
            assert (raised, cleared) == (1.0, 1.0)  # raised once (the second raise updates), cleared once
            assert samples[("pacing_active_alarms", (("condition", "GC Latency"), ("severity", "major")))] == 1.0
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
