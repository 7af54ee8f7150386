"""pacing.simulators.gpe over REAL HTTP (an ephemeral port on 127.0.0.1, ``requests`` as the client), and the
``gpe_simulator`` management command. No timing assertions."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from django.core.management import load_command_class

from pacing.simulators.gpe import INVALID_REPLY_KINDS, GPESimulator

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "Pacing_Service_Cluster_9.0"
CHAT, VOICE = "Proactive Chat - chat", "Proactive Voice - voice"


@pytest.fixture
def sim():
    """A still world (no clock: the test advances it), unlimited hot leads so counts are exact."""
    s = GPESimulator(port=0, clock=False, seed=1, targets={CHAT: {"agents": 4}, VOICE: {"agents": 3}},
                     defaults={"lead_rate": np.inf})
    s.start()
    yield s
    s.stop()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def token(sim, http, **kw) -> str:
    r = http.post(sim.token_url, data={"grant_type": "client_credentials"}, auth=("pacing-demo", "demo-client-secret"),
                  timeout=5, **kw)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def body(tick=1, epoch=7, targets=None, interval=5, cluster=CLUSTER) -> dict:
    if targets is None:
        targets = [{"name": CHAT, "virtualQueue": "Proactive Chat", "media": "chat",
                    "agentGroups": ["Proactive Chat", "Proactive Chat Sales", "Proactive Blended"], "invitations": 4}]
    return {"version": 1, "cluster": cluster, "tick": tick, "epoch": epoch, "intervalSeconds": interval,
            "targets": targets}


def post(sim, http, payload, *, tok=None, key=None, epoch=None, gz=False, raw=None, headers=None):
    h = {"Content-Type": "application/json"}
    if tok is not None:
        h["Authorization"] = f"Bearer {tok}"
    if isinstance(payload, dict):
        h["Idempotency-Key"] = key if key is not None else f"{payload.get('cluster')}:{payload.get('tick')}"
        h["X-Pacing-Epoch"] = str(epoch if epoch is not None else payload.get("epoch"))
    h.update(headers or {})
    data = raw if raw is not None else json.dumps(payload).encode()
    if gz:
        data = gzip.compress(data)
        h["Content-Encoding"] = "gzip"
    return http.post(sim.pacing_url, data=data, headers=h, timeout=5)


# ---------------------------------------------------------------------------------------------------------------
# OAuth
# ---------------------------------------------------------------------------------------------------------------

def test_token_with_basic_auth(sim, http):
    r = http.post(sim.token_url, data={"grant_type": "client_credentials"},
                  auth=("pacing-demo", "demo-client-secret"), timeout=5)
    assert r.status_code == 200
    j = r.json()
    assert j["token_type"] == "bearer" and j["expires_in"] == 3600 and len(j["access_token"]) > 20
    assert r.headers["Cache-Control"] == "no-store"


def test_token_with_form_credentials(sim, http):
    r = http.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": "pacing-demo",
                                       "client_secret": "demo-client-secret"}, timeout=5)
    assert r.status_code == 200 and r.json()["access_token"]


@pytest.mark.parametrize("auth, data", [
    (("pacing-demo", "wrong"), {"grant_type": "client_credentials"}),
    (("someone", "demo-client-secret"), {"grant_type": "client_credentials"}),
    (None, {"grant_type": "client_credentials"}),
    (None, {"grant_type": "client_credentials", "client_id": "pacing-demo", "client_secret": "nope"}),
])
def test_token_with_bad_credentials_is_401_json(sim, http, auth, data):
    r = http.post(sim.token_url, data=data, auth=auth, timeout=5)
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in r.headers


def test_token_with_wrong_grant_is_400(sim, http):
    r = http.post(sim.token_url, data={"grant_type": "password"}, auth=("pacing-demo", "demo-client-secret"),
                  timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


# ---------------------------------------------------------------------------------------------------------------
# pacing
# ---------------------------------------------------------------------------------------------------------------

def test_pacing_post_updates_pending_counts(sim, http):
    tok = token(sim, http)
    r = post(sim, http, body(tick=1), tok=tok)
    assert r.status_code == 200, r.text
    assert r.json() == {"targets": [{"name": CHAT, "pendingInvitations": 4}], "errors": []}
    assert sim.pending(CHAT) == 4 and sim.pending(VOICE) == 0
    # the world runs: visitors answer, pending falls
    sim.advance(120)
    left = sim.pending(CHAT)
    assert left < 4
    r = post(sim, http, body(tick=2, targets=[{"name": CHAT, "invitations": 3}, {"name": VOICE, "invitations": 2}]),
             tok=tok)
    assert r.status_code == 200
    assert r.json()["targets"] == [{"name": CHAT, "pendingInvitations": left + 3},
                                   {"name": VOICE, "pendingInvitations": 2}]
    state = http.get(sim.base_url + "/sim/state", timeout=5).json()
    chat = next(t for t in state["targets"] if t["name"] == CHAT)
    assert chat["virtualQueue"] == "Proactive Chat" and chat["media"] == "chat"    # kept from the first post
    assert chat["totals"]["sent"] == 7 and chat["pending"] == left + 3
    assert state["clusters"][CLUSTER] == {"epoch": 7, "tick": 2}


def test_invitations_reach_agents(sim, http):
    tok = token(sim, http)
    for tick in range(1, 40):
        assert post(sim, http, body(tick=tick, targets=[{"name": CHAT, "invitations": 2}]), tok=tok).status_code == 200
        sim.advance(5)
    t = sim.world.totals()
    i = sim.meta[CHAT]["index"]
    assert t["accepted"][i] > 0 and t["served"][i] > 0
    assert t["accepted"][i] == t["served"][i] + t["abandoned"][i] + t["queued"][i]


def test_missing_or_bad_token_is_401(sim, http):
    r = post(sim, http, body())
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = post(sim, http, body(), tok="not-a-token")
    assert r.status_code == 401
    r = post(sim, http, body(), headers={"Authorization": "Basic cGFjaW5nLWRlbW86ZGVtby1jbGllbnQtc2VjcmV0"})
    assert r.status_code == 401
    tok = token(sim, http)
    sim.expire_tokens()
    assert post(sim, http, body(), tok=tok).status_code == 401
    assert sim.pending(CHAT) == 0                    # nothing applied


def test_stale_epoch_and_old_tick_are_409(sim, http):
    tok = token(sim, http)
    assert post(sim, http, body(tick=10, epoch=7), tok=tok).status_code == 200
    r = post(sim, http, body(tick=11, epoch=6), tok=tok)
    assert r.status_code == 409 and r.json()["code"] == "stale_epoch"
    r = post(sim, http, body(tick=9, epoch=7), tok=tok)
    assert r.status_code == 409 and r.json()["code"] == "stale_tick"
    # a new leader with a higher epoch continues with the next tick
    assert post(sim, http, body(tick=11, epoch=8), tok=tok).status_code == 200
    assert post(sim, http, body(tick=12, epoch=7), tok=tok).status_code == 409
    assert sim.pending(CHAT) == 8                    # only the two accepted posts were applied


def test_idempotent_replay(sim, http):
    tok = token(sim, http)
    first = post(sim, http, body(tick=5), tok=tok)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    sim.advance(60)                                  # the world moves on; the stored answer does not
    again = post(sim, http, body(tick=5), tok=tok)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert sim.world.totals()["sent"][sim.meta[CHAT]["index"]] == 4     # not applied twice
    # the same tick with another body: another leader posted it
    other = post(sim, http, body(tick=5, targets=[{"name": CHAT, "invitations": 9}]), tok=tok)
    assert other.status_code == 409 and other.json()["code"] == "tick_already_accepted"
    # the same body gzipped is the same request
    assert post(sim, http, body(tick=5), tok=tok, gz=True).json() == first.json()


def test_gzip_body(sim, http):
    tok = token(sim, http)
    r = post(sim, http, body(tick=3), tok=tok, gz=True)
    assert r.status_code == 200 and r.json()["targets"][0]["pendingInvitations"] == 4
    bad = post(sim, http, body(tick=4), tok=tok, raw=b"\x1f\x8bnot gzip at all",
               headers={"Content-Encoding": "gzip"})
    assert bad.status_code == 400
    truncated = gzip.compress(json.dumps(body(tick=4)).encode())[:-12]
    r = post(sim, http, body(tick=4), tok=tok, raw=truncated, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400
    assert post(sim, http, body(tick=4), tok=tok, headers={"Content-Encoding": "br"}).status_code == 415


@pytest.mark.parametrize("mutate", [
    lambda b: b.update(version=2),
    lambda b: b.pop("cluster"),
    lambda b: b.update(tick=-1),
    lambda b: b.update(tick="5"),
    lambda b: b.update(epoch=1.5),
    lambda b: b.update(intervalSeconds=0),
    lambda b: b.update(targets={"name": CHAT}),
    lambda b: b["targets"][0].update(invitations=-1),
    lambda b: b["targets"][0].update(invitations=2.5),
    lambda b: b["targets"][0].update(invitations=True),
    lambda b: b["targets"][0].pop("name"),
    lambda b: b["targets"][0].update(agentGroups="Proactive Chat"),
    lambda b: b["targets"].append(dict(b["targets"][0])),          # a repeated name
    lambda b: b["targets"].append("Proactive Chat"),
])
def test_malformed_body_is_400(sim, http, mutate):
    tok = token(sim, http)
    payload = body(tick=1)
    mutate(payload)
    r = post(sim, http, payload, tok=tok, key=f"{CLUSTER}:1", epoch=7)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert sim.pending(CHAT) == 0


def test_bad_json_and_headers_are_400(sim, http):
    tok = token(sim, http)
    assert post(sim, http, body(), tok=tok, raw=b"{not json").status_code == 400
    assert post(sim, http, body(), tok=tok, raw=b"[1, 2]").status_code == 400
    assert post(sim, http, body(tick=1), tok=tok, key=f"{CLUSTER}:2").status_code == 400   # key != cluster:tick
    assert post(sim, http, body(tick=1), tok=tok, epoch=8).status_code == 400              # header != body epoch
    r = http.post(sim.pacing_url, json=body(tick=1), timeout=5,
                  headers={"Authorization": f"Bearer {tok}", "X-Pacing-Epoch": "7"})
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["message"]
    r = http.post(sim.pacing_url, json=body(tick=1), timeout=5,
                  headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": f"{CLUSTER}:1"})
    assert r.status_code == 400 and "X-Pacing-Epoch" in r.json()["message"]
    assert post(sim, http, body(), tok=tok, headers={"Content-Type": "text/plain"}).status_code == 415
    assert post(sim, http, body(tick=1), tok=tok).status_code == 200          # and then a good one works


def test_unknown_target_in_strict_mode_and_adoption_otherwise(sim, http):
    tok = token(sim, http)
    targets = [{"name": "Brand New - chat", "invitations": 2}, {"name": CHAT, "invitations": 1}]
    r = post(sim, http, body(tick=1, targets=targets), tok=tok)        # not strict: adopted into the world
    assert r.status_code == 200
    assert {t["name"] for t in r.json()["targets"]} == {"Brand New - chat", CHAT}
    strict = GPESimulator(port=0, clock=False, targets=[CHAT], strict=True, defaults={"lead_rate": np.inf}).start()
    try:
        tok2 = token(strict, http)
        r = post(strict, http, body(tick=1, targets=targets), tok=tok2)
        assert r.status_code == 200
        assert r.json()["targets"] == [{"name": CHAT, "pendingInvitations": 1}]
        assert r.json()["errors"][0]["name"] == "Brand New - chat"
        assert r.json()["errors"][0]["code"] == "unknown_target"
    finally:
        strict.stop()


def test_injected_target_error(sim, http):
    tok = token(sim, http)
    sim.inject_target_error(VOICE, "queue_disabled", "the virtual queue is disabled in GPE")
    r = post(sim, http, body(tick=1, targets=[{"name": CHAT, "invitations": 1}, {"name": VOICE, "invitations": 5}]),
             tok=tok)
    assert r.status_code == 200
    assert r.json()["targets"] == [{"name": CHAT, "pendingInvitations": 1}]
    assert r.json()["errors"] == [{"name": VOICE, "code": "queue_disabled",
                                   "message": "the virtual queue is disabled in GPE"}]
    assert sim.pending(VOICE) == 0
    sim.clear_injections()
    r = post(sim, http, body(tick=2, targets=[{"name": VOICE, "invitations": 5}]), tok=tok)
    assert r.json() == {"targets": [{"name": VOICE, "pendingInvitations": 5}], "errors": []}


@pytest.mark.parametrize("kind", INVALID_REPLY_KINDS)
def test_injected_invalid_reply(sim, http, kind):
    tok = token(sim, http)
    sim.inject_invalid_reply(kind, count=1)
    r = post(sim, http, body(tick=1), tok=tok)
    assert r.status_code == 200
    if kind == "not_json":
        with pytest.raises(ValueError):
            r.json()
    else:
        j = r.json()
        entries = j.get("targets")
        if kind == "missing_targets":
            assert "targets" not in j
        elif kind == "wrong_type":
            assert isinstance(entries, dict)
        elif kind == "unknown_target":
            assert {e["name"] for e in entries} == {CHAT, "Not A Target - chat"}
        else:
            value = entries[0]["pendingInvitations"]
            assert {"negative": value == -1, "non_integer": value == 1.5, "string": value == "4"}[kind]
    # one reply only: the next is valid again
    assert post(sim, http, body(tick=2), tok=tok).json()["targets"][0]["pendingInvitations"] == 8


def test_injected_failure_applies_nothing(sim, http):
    tok = token(sim, http)
    sim.inject_failure(503, count=1)
    r = post(sim, http, body(tick=1), tok=tok)
    assert r.status_code == 503 and sim.pending(CHAT) == 0
    assert post(sim, http, body(tick=1), tok=tok).status_code == 200


def test_other_paths_and_methods(sim, http):
    assert http.get(sim.pacing_url, timeout=5).status_code == 405
    assert http.post(sim.base_url + "/api/v2/other", json={}, timeout=5).status_code == 404
    assert http.get(sim.base_url + "/healthz", timeout=5).json() == {"status": "ok"}


def test_clock_advances_the_world():
    s = GPESimulator(port=0, clock=True, speed=200.0, targets=[CHAT], defaults={"lead_rate": np.inf}).start()
    try:
        s.world.invite(np.array([10]), valid_s=5, targets=[0])
        deadline = time.monotonic() + 20
        while s.world.now_s < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert s.world.now_s >= 300
    finally:
        s.stop()


def test_stats_are_fed_to_the_store():
    class Store:
        def __init__(self):
            self.batches = []

        def put_many(self, snaps):
            self.batches.append(snaps)

    store = Store()
    s = GPESimulator(port=0, clock=False, targets=[CHAT, VOICE], stats_store=store, stats_every_s=5)
    s.advance(30)
    assert store.batches and [x.target for x in store.batches[-1]] == [CHAT, VOICE]

    class Broken:
        def put_many(self, snaps):
            raise ConnectionError("redis down")

    errors = []
    s2 = GPESimulator(port=0, clock=False, targets=[CHAT], stats_store=Broken(), on_stats_error=errors.append)
    s2.advance(30)                                   # keeps running
    assert errors and isinstance(errors[0], ConnectionError)


# ---------------------------------------------------------------------------------------------------------------
# the management command
# ---------------------------------------------------------------------------------------------------------------

def test_command_help():
    cmd = load_command_class("pacing", "gpe_simulator")
    text = cmd.create_parser("manage.py", "gpe_simulator").format_help()
    for option in ("--port", "--client-id", "--client-secret", "--seed", "--strict", "--no-stats"):
        assert option in text


def test_command_serves_over_http(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "manage.py", "gpe_simulator", "--port", "0", "--no-stats",
                             "--client-id", "cid", "--client-secret", "csecret", "--seed", "3"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, line
        base = f"http://127.0.0.1:{m.group(1)}"
        r = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"}, auth=("cid", "csecret"),
                          timeout=10)
        assert r.status_code == 200
        tok = r.json()["access_token"]
        r = requests.post(base + "/api/v1/pacing/targets", json=body(tick=1), timeout=10,
                          headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": f"{CLUSTER}:1",
                                   "X-Pacing-Epoch": "7"})
        assert r.status_code == 200 and r.json()["targets"][0]["name"] == CHAT
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "stopped" in out


def test_control_endpoint_and_journal(sim, http):
    """The test hooks over HTTP (a simulator in another process) and the journal of decided posts."""
    tok = token(sim, http)
    r = http.post(sim.base_url + "/sim/control", json={"failure": 503, "count": 1}, timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert post(sim, http, body(tick=1), tok=tok).status_code == 503
    assert post(sim, http, body(tick=1), tok=tok).status_code == 200
    assert post(sim, http, body(tick=1), tok=tok).headers.get("Idempotent-Replayed") == "true"
    assert post(sim, http, body(tick=2, epoch=6), tok=tok).status_code == 409
    http.post(sim.base_url + "/sim/control", json={"token_failure": "html"}, timeout=5)
    r = http.post(sim.token_url, data={"grant_type": "client_credentials"}, auth=("pacing-demo", "demo-client-secret"),
                  timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert http.post(sim.base_url + "/sim/control", json={"failure": "x"}, timeout=5).status_code == 400
    posts = http.get(sim.base_url + "/sim/posts", timeout=5).json()["posts"]
    assert [(p["tick"], p["epoch"], p["outcome"]) for p in posts] == [(1, 7, "accepted"), (1, 7, "replayed"),
                                                                      (2, 6, "stale_epoch")]


def test_reported_aht_is_busy_time_over_completed_interactions():
    """What the simulator feeds the stats store: AHT = agent busy time (in-progress interactions included)
    / completed interactions -- not the completed-only average, biased low after a cold start."""
    class Store:
        batches: list = []

        def put_many(self, snaps):
            self.batches.append(snaps)

    s = GPESimulator(port=0, clock=False, seed=5, targets={CHAT: {"agents": 6, "aht_s": 300.0}},
                     defaults={"lead_rate": np.inf}, stats_store=Store(), stats_every_s=5)
    assert s.world.aht_stat == "censored"
    i = s.meta[CHAT]["index"]
    s.world.queued[i] = 6                            # six visitors waiting at the start: every agent busy
    s.advance(240)                                   # under one AHT after a cold start
    totals = s.world.totals()
    completed = int(totals["completed"][i])
    assert completed > 0
    reported = Store.batches[-1][0].aht_s
    busy_over_completed = float(totals["busy_s"][i]) / completed
    completed_only = float(totals["handle_s"][i]) / completed
    snap = s.world.snapshots()[0]
    assert snap.aht_s == pytest.approx(float(totals["busy_s"][i]) / completed)
    assert reported == pytest.approx(busy_over_completed)
    assert snap.aht_s > completed_only                # the naive figure is the low one
    assert s.state()["targets"][0]["ahtSeconds"] == pytest.approx(snap.aht_s, abs=0.1)
