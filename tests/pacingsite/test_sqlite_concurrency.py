"""The README's default set-up (SQLite in a file, gunicorn) serves concurrent administrators without a single
"database is locked" 500: WAL, a busy timeout and immediate transactions (pacingsite/settings.py).

A real gunicorn on a free port with a file SQLite, 20 client threads creating, patching, listing, bulk-creating
and deleting at once (every request authenticated by a token, which itself writes its last use).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import requests

from .test_metrics_multiprocess import ROOT, free_port

#: 20 clients against a real gunicorn; busy timeouts are times: alone, after the parallel workers (tests/conftest.py)
pytestmark = pytest.mark.serial

CLIENTS = 20
ROUNDS = 6


@pytest.fixture
def sqlite_site(tmp_path):
    db = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PACING_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_SETTINGS_MODULE": "pacingsite.settings"}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True,
                   timeout=180, capture_output=True)
    script = ("import django; django.setup()\n"
              "from django.contrib.auth import get_user_model\n"
              "from configdb.models import Tenant\n"
              "from pacingsite.models import ApiToken\n"
              "Tenant.objects.create(name='Environment')\n"
              "user = get_user_model().objects.create_superuser('root', None, None)\n"
              "print(ApiToken.issue(user)[1])\n")
    key = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:pacingsite.gunicorn_conf",
                            "pacingsite.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "4"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        yield base, key, db
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()


def test_twenty_concurrent_clients_get_no_server_error(sqlite_site):
    base, key, db = sqlite_site
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    statuses: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {key}"
        api = base + "/api/v1/"
        start.wait()
        for round_ in range(ROUNDS):
            name = f"skill-{number}-{round_}"
            answers = [session.post(api + "skills/", json={"tenant": "Environment", "name": name}, timeout=60)]
            created = answers[0].json() if answers[0].status_code == 201 else None
            if created is not None:
                answers.append(session.patch(f"{api}skills/{created['id']}/", json={"state": "disabled"}, timeout=60))
            answers.append(session.get(api + "skills/", params={"limit": 50}, timeout=60))
            answers.append(session.post(api + "media-types/", timeout=60, json=[
                {"tenant": "Environment", "name": f"m-{number}-{round_}-{i}"} for i in range(5)]))
            if created is not None:
                answers.append(session.delete(f"{api}skills/{created['id']}/", timeout=60))
            with lock:
                for answer in answers:
                    statuses[answer.status_code] += 1
                    if answer.status_code >= 500:
                        errors.append(f"{answer.request.method} {answer.url}: {answer.status_code} "
                                      f"{answer.text[:200]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors[:5]
    assert sum(statuses.values()) == CLIENTS * ROUNDS * 5, statuses
    assert set(statuses) <= {200, 201, 204}, statuses


def test_concurrent_patches_of_different_fields_both_survive_on_sqlite(sqlite_site):
    base, key, _db = sqlite_site
    api = base + "/api/v1/"
    headers = {"Authorization": f"Token {key}"}
    created = requests.post(api + "switches/", json={"tenant": "Environment", "name": "SW"}, headers=headers,
                            timeout=60)
    assert created.status_code == 201, created.text
    pk = created.json()["id"]
    rounds = 15
    start = threading.Barrier(2)
    codes: list[int] = []

    def client(index: int) -> None:
        session = requests.Session()
        session.headers.update(headers)
        start.wait()
        for n in range(rounds):
            payload = {"name": f"SW {n}"} if index == 0 else {"options": {"round": {"n": str(n)}}}
            codes.append(session.patch(f"{api}switches/{pk}/", json=payload, timeout=60).status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert codes == [200] * (2 * rounds)
    final = requests.get(f"{api}switches/{pk}/", headers=headers, timeout=60).json()
    assert final["name"] == f"SW {rounds - 1}"
    assert final["options"] == {"round": {"n": str(rounds - 1)}}
