"""A simulator of Genesys Predictive Engagement's side of the pacing exchange, over real HTTP (OURS).

GPE's pacing API was never published; docs/gpe-protocol.md documents the exchange this simulator serves
and the pacing service speaks (DESIGN.md, "The GPE pacing exchange"):

* ``POST {token_path}`` (default ``/oauth/token``): OAuth 2.0 client credentials (RFC 6749 section 4.4);
  the client authenticates with HTTP Basic or ``client_id`` / ``client_secret`` form fields; answers
  ``{"access_token", "token_type": "bearer", "expires_in"}``, or 400 / 401 with an RFC 6749 error object.
* ``POST {api_base}{target_path}`` (default ``/api/v1/pacing/targets``): Bearer token, headers
  ``Idempotency-Key: <cluster>:<tick>`` and ``X-Pacing-Epoch: <epoch>``, optional ``Content-Encoding:
  gzip``; the invitations are APPLIED to a contact-centre world (pacing.simulators.contact_centre: hot
  leads, visitors accepting after a delay, agents, queue, abandonment) that runs in real time (or faster,
  ``speed``), and the reply gives the pending invitations per target.
* ``GET /sim/state`` (the simulator's own, not GPE's): the world per target, for people and tests.

Fencing: a cluster's posts are accepted in increasing tick order at a non-decreasing epoch. A post with the
Idempotency-Key of an accepted one replays the stored answer when the body is the same (a client retry;
header ``Idempotent-Replayed: true``) and is 409 ``tick_already_accepted`` when it differs (another leader
posted that tick); a lower epoch is 409 ``stale_epoch``; an older tick 409 ``stale_tick``.

Test hooks: ``inject_target_error``, ``inject_invalid_reply``, ``inject_failure`` (HTTP status),
``inject_delay``, ``inject_token_failure`` (500 or an HTML page); the same over HTTP for a simulator in
another process (``POST /sim/control``, the simulator's own, loopback test tool); ``GET /sim/posts``, the
journal of every post decided (accepted, replayed, refused with 409) and ``held``, the posts waiting out an
injected delay now (decided after it); ``strict`` targets (unknown names
answer an ``unknown_target`` error instead of being adopted into the world).

The request is parsed and the reply encoded by ``pacing.gpe.protocol``, the same module the pacing service's
client uses (so the two cannot drift). Standard library HTTP (``http.server.ThreadingHTTPServer``), orjson
through the protocol, numpy through the world; no Django.
"""

from __future__ import annotations

import base64
import binascii
import collections
import gzip
import hmac
import json
import logging
import math
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from pacing.gpe import protocol
from pacing.gpe.protocol import MAX_BODY, MAX_INFLATED, body_digest, encode_reply
from pacing.gpe.protocol import RequestError as ProtocolError
from pacing.simulators.contact_centre import PARAMS, ContactCentre

__all__ = ["DEMO_TARGETS", "INVALID_REPLY_KINDS", "MAX_BODY", "MAX_INFLATED", "GPESimulator", "ProtocolError"]

log = logging.getLogger("pacing.simulators.gpe")

# The demo configuration's pacing targets (configdb/demo.py) and their agents (ours).
DEMO_TARGETS: dict[str, dict[str, Any]] = {
    "Proactive Chat - chat": {"agents": 4},
    "Proactive Voice - voice": {"agents": 3, "aht_s": 240.0},
}

# World parameters of a target the simulator adopts (ours); lead_rate None = 3x the need.
DEFAULT_TARGET = {"agents": 4, "aht_s": 300.0, "patience_s": 60.0, "accept_delay_s": 20.0, "p_accept": 0.3,
                  "lead_rate": None, "handle_sigma": 0.0}

INVALID_REPLY_KINDS = ("negative", "non_integer", "string", "unknown_target", "missing_targets", "wrong_type",
                       "not_json")

REPLAY_CACHE = 256                  # answers kept per cluster for Idempotency-Key replays


@dataclass
class _Cluster:
    epoch: int = -1
    tick: int = -1
    replies: collections.OrderedDict = field(default_factory=collections.OrderedDict)  # key -> (digest, status, body)


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class GPESimulator:
    """The GPE simulator: an HTTP server (thread) plus a contact-centre world advanced by a clock thread.

    ``targets``: names (or name -> world parameters) created at start; ``strict``: names not listed answer
    ``unknown_target``; otherwise they are adopted with ``defaults`` (DEFAULT_TARGET overridden).
    ``speed``: simulated seconds per wall-clock second; ``clock=False`` leaves the world still (tests advance
    it with ``advance``). ``stats_store``: anything with ``put_many`` -- fed every ``stats_every_s`` simulated
    seconds with the world's ``StatsSnapshot`` objects (the demo's Stat Server).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 8089, client_id: str = "pacing-demo",
                 client_secret: str = "demo-client-secret",  # noqa: S107 - the demo's published test secret
                 seed: int | None = 0, token_path: str = "/oauth/token",  # noqa: S107 - a path, not a secret
                 api_base: str = "/api/",
                 target_path: str = "v1/pacing/targets",
                 targets: Iterable[str] | Mapping[str, Mapping[str, Any]] | None = None, strict: bool = False,
                 defaults: Mapping[str, Any] | None = None, token_ttl_s: int = 3600, clock: bool = True,
                 speed: float = 1.0, stats_store=None, stats_every_s: float = 5.0,
                 on_stats_error: Callable[[Exception], None] | None = None) -> None:
        self.host, self.port = host, int(port)
        self.client_id, self.client_secret = client_id, client_secret
        self.token_path = "/" + token_path.strip("/")
        base = "/" + api_base.strip("/")
        self.api_base = base if base == "/" else base + "/"
        self.pacing_path = self.api_base + target_path.strip("/")
        self.strict = strict
        self.defaults = {**DEFAULT_TARGET, **(defaults or {})}
        self.token_ttl_s = int(token_ttl_s)
        self.clock, self.speed = clock, float(speed)
        self.stats_store, self.stats_every_s = stats_store, float(stats_every_s)
        self.on_stats_error = on_stats_error
        self.lock = threading.RLock()
        # AHT as Stat Server reports it to the engine: agent busy time / completed interactions ("censored":
        # the elapsed part of the interactions in progress counts), not the completed-only average that is
        # biased low after a cold start and makes the engine over-invite (docs/pacing.md).
        self.world = ContactCentre(0, names=[], seed=seed, max_handle_s=3600.0, aht_stat="censored")
        self.meta: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        self.clusters: dict[str, _Cluster] = {}
        self.posts: collections.deque = collections.deque(maxlen=1000)   # accepted pacing posts (parsed)
        self.requests_seen = 0
        self.target_errors: dict[str, tuple[str, str]] = {}
        self.invalid_reply: str | None = None
        self.invalid_count: int | None = None
        self.failures: collections.deque = collections.deque()          # HTTP statuses to answer next
        self.delays: collections.deque = collections.deque()            # seconds to wait before the next answers
        self.held = 0                   # pacing posts waiting out an injected delay now (``GET /sim/posts``)
        self.token_failures: collections.deque = collections.deque()    # "500" / "html" for the next token requests
        #: every pacing post decided (accepted, replayed or refused with 409), oldest first (``GET /sim/posts``)
        self.journal: collections.deque = collections.deque(maxlen=10_000)
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._last_stats = 0.0
        if targets is not None:
            items = targets.items() if isinstance(targets, Mapping) else ((name, {}) for name in targets)
            for name, params in items:
                self.add_target(name, **dict(params))

    # ------------------------------------------------------------------------------------------------------
    # the world
    # ------------------------------------------------------------------------------------------------------

    def add_target(self, name: str, **params: Any) -> int:
        """Create a simulated target (world parameters as in ``ContactCentre``; lead_rate None = 3x need)."""
        with self.lock:
            if name in self.meta:
                return self.meta[name]["index"]
            p = {**self.defaults, **params}
            if p.get("lead_rate") is None:
                p["lead_rate"] = 3.0 * max(float(p["agents"]), 1.0) / float(p["aht_s"]) / max(float(p["p_accept"]),
                                                                                                0.01)
            unknown = set(p) - set(PARAMS)
            if unknown:
                raise TypeError(f"unknown world parameters: {', '.join(sorted(unknown))}")
            idx = int(self.world.add_targets([name], **p)[0])
            self.meta[name] = {"index": idx, "virtualQueue": None, "media": None, "agentGroups": []}
            return idx

    def advance(self, seconds: float) -> None:
        """Advance the world (the clock thread does this in real time)."""
        with self.lock:
            self.world.advance(seconds)
        self._maybe_feed()

    def pending(self, name: str) -> int:
        with self.lock:
            return int(self.world.pending[self.meta[name]["index"]])

    def state(self) -> dict[str, Any]:
        """The world per target (``GET /sim/state``)."""
        with self.lock:
            w = self.world
            window = w.window()
            tot = w.totals()
            aht = w.observed_aht()
            out = []
            for name, meta in self.meta.items():
                i = meta["index"]
                a = float(aht[i])
                out.append({
                    "name": name, "virtualQueue": meta["virtualQueue"], "media": meta["media"],
                    "agents": int(w.p["agents"][i]), "ready": int(w.ready()[i]), "busy": int(w.busy[i]),
                    "queued": int(w.queued[i]), "pending": int(w.pending[i]), "leads": int(w.leads[i]),
                    "ahtSeconds": round(a, 1) if math.isfinite(a) else None,
                    "window": {k: int(v[i]) for k, v in window.items()},
                    "totals": {k: (int(tot[k][i]) if k not in ("busy_s", "present_s", "handle_s")
                                   else round(float(tot[k][i]), 1))
                               for k in ("sent", "accepted", "declined", "expired", "abandoned", "served",
                                         "completed", "busy_s", "present_s")},
                })
            return {"simulatedSeconds": w.now_s, "speed": self.speed, "targets": out,
                    "clusters": {k: {"epoch": c.epoch, "tick": c.tick} for k, c in self.clusters.items()}}

    def _maybe_feed(self, force: bool = False) -> None:
        if self.stats_store is None:
            return
        with self.lock:
            now = self.world.now_s
            if not force and now - self._last_stats < self.stats_every_s:
                return
            self._last_stats = now
            snaps = self.world.snapshots()
        if not snaps:
            return
        try:
            self.stats_store.put_many(snaps)
        except Exception as exc:  # the store (Redis) may be down; the simulator keeps running
            if self.on_stats_error is not None:
                self.on_stats_error(exc)
            else:
                log.warning("stats store: %s", exc)

    def _clock(self) -> None:
        last = time.monotonic()
        carry = 0.0
        while not self._stop.wait(0.2):
            now = time.monotonic()
            carry += (now - last) * self.speed
            last = now
            steps = int(carry / self.world.dt)
            if steps:
                carry -= steps * self.world.dt
                self.advance(steps * self.world.dt)

    # ------------------------------------------------------------------------------------------------------
    # test hooks
    # ------------------------------------------------------------------------------------------------------

    def inject_target_error(self, name: str, code: str = "target_error", message: str = "injected target error"):
        """Answer an ``errors`` entry for this target (instead of its pending count) until cleared."""
        with self.lock:
            self.target_errors[name] = (code, message)

    def inject_invalid_reply(self, kind: str = "negative", count: int | None = 1) -> None:
        """Corrupt the next ``count`` pacing answers (None: until cleared); kinds: INVALID_REPLY_KINDS."""
        if kind not in INVALID_REPLY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(INVALID_REPLY_KINDS)}")
        with self.lock:
            self.invalid_reply, self.invalid_count = kind, count

    def inject_failure(self, status: int = 503, count: int = 1) -> None:
        """Answer the next ``count`` pacing posts with this HTTP status (nothing applied)."""
        with self.lock:
            self.failures.extend([int(status)] * count)

    def inject_delay(self, seconds: float, count: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``count`` pacing posts (client timeouts)."""
        with self.lock:
            self.delays.extend([float(seconds)] * count)

    def inject_token_failure(self, kind: str = "500", count: int = 1) -> None:
        """Answer the next ``count`` token requests with HTTP 500 JSON (``"500"``) or a 200 HTML page
        (``"html"``, a captive portal or a proxy's error page)."""
        if kind not in ("500", "html"):
            raise ValueError("kind must be '500' or 'html'")
        with self.lock:
            self.token_failures.extend([kind] * int(count))

    def clear_injections(self) -> None:
        with self.lock:
            self.target_errors.clear()
            self.invalid_reply, self.invalid_count = None, None
            self.failures.clear()
            self.delays.clear()
            self.token_failures.clear()

    def control(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """The test hooks as one JSON command (``POST /sim/control``, for a simulator in another process):
        ``{"failure": 503, "count": 2}``, ``{"delay": 6.0, "count": 1}``, ``{"invalid_reply": "not_json",
        "count": 1}`` (count null: until cleared), ``{"target_error": NAME, "code": …, "message": …}``,
        ``{"token_failure": "500"|"html", "count": 1}``, ``{"expire_tokens": true}``, ``{"clear": true}``."""
        if not isinstance(command, Mapping):
            raise ProtocolError(400, "invalid_request", "the control command must be a JSON object")
        try:
            count = command.get("count", 1)
            if command.get("clear"):
                self.clear_injections()
            if "failure" in command:
                self.inject_failure(int(command["failure"]), int(count))
            if "delay" in command:
                self.inject_delay(float(command["delay"]), int(count))
            if "invalid_reply" in command:
                self.inject_invalid_reply(str(command["invalid_reply"]), None if count is None else int(count))
            if "target_error" in command:
                self.inject_target_error(str(command["target_error"]), str(command.get("code") or "target_error"),
                                         str(command.get("message") or "injected target error"))
            if "token_failure" in command:
                self.inject_token_failure(str(command["token_failure"]), int(count))
            if command.get("expire_tokens"):
                self.expire_tokens()
        except (TypeError, ValueError) as exc:
            raise ProtocolError(400, "invalid_request", f"bad control command: {exc}") from None
        return {"status": "ok"}

    def record(self, cluster: str, tick: int, epoch: int, outcome: str, agent: str = "") -> None:
        """One line of the journal (lock held or not)."""
        with self.lock:
            self.journal.append({"cluster": cluster, "tick": tick, "epoch": epoch, "outcome": outcome,
                                 "agent": agent, "at": time.time()})

    # ------------------------------------------------------------------------------------------------------
    # OAuth
    # ------------------------------------------------------------------------------------------------------

    def issue_token(self, headers: Mapping[str, str], body: bytes) -> _Reply:
        with self.lock:
            failure = self.token_failures.popleft() if self.token_failures else None
        if failure == "500":
            return _Reply(500, _json({"error": "server_error", "error_description": "injected token failure"}))
        if failure == "html":
            return _Reply(200, b"<html><body><h1>Sign in to the network</h1></body></html>", "text/html")
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                form = json.loads(body or b"{}")
                form = {str(k): str(v) for k, v in form.items()} if isinstance(form, dict) else {}
            except ValueError:
                form = {}
        else:
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                user, _, password = decoded.partition(":")
                client_id, secret = urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)
            except (binascii.Error, UnicodeDecodeError):
                client_id = secret = None
        unauthorised = _Reply(401, _json({"error": "invalid_client", "error_description": "client authentication "
                                                                                           "failed"}),
                              headers={"WWW-Authenticate": 'Basic realm="gpe-simulator"', "Cache-Control": "no-store"})
        if client_id is None or secret is None:
            return unauthorised
        ok = hmac.compare_digest(client_id.encode(), self.client_id.encode()) & hmac.compare_digest(
            secret.encode(), self.client_secret.encode())
        if not ok:
            return unauthorised
        grant = form.get("grant_type")
        if grant != "client_credentials":
            error = "invalid_request" if grant is None else "unsupported_grant_type"
            return _Reply(400, _json({"error": error, "error_description": "grant_type must be client_credentials"}),
                          headers={"Cache-Control": "no-store"})
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
            self.tokens[token] = now + self.token_ttl_s
        return _Reply(200, _json({"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl_s}),
                      headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def expire_tokens(self) -> None:
        """Forget every issued token (the next pacing post answers 401; the client must fetch a new one)."""
        with self.lock:
            self.tokens.clear()

    def _check_bearer(self, headers: Mapping[str, str]) -> None:
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() != "bearer ":
            raise ProtocolError(401, "invalid_token", "a Bearer token is required",
                                {"WWW-Authenticate": 'Bearer realm="gpe-simulator"'})
        token = auth[7:].strip()
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry <= time.time():
            raise ProtocolError(401, "invalid_token", "the access token is unknown or expired",
                                {"WWW-Authenticate": 'Bearer realm="gpe-simulator", error="invalid_token"'})

    # ------------------------------------------------------------------------------------------------------
    # pacing
    # ------------------------------------------------------------------------------------------------------

    @staticmethod
    def parse_pacing(headers: Mapping[str, str], raw: bytes) -> dict[str, Any]:
        """Decode and validate a pacing post (``pacing.gpe.protocol.parse_request``); raises ProtocolError
        (400 / 415 / 413)."""
        return protocol.parse_request(headers, raw)

    def handle_pacing(self, headers: Mapping[str, str], raw: bytes) -> _Reply:
        self._check_bearer(headers)
        with self.lock:
            delay = self.delays.popleft() if self.delays else 0.0
            failure = self.failures.popleft() if self.failures else None
        if delay:
            # the post is decided AFTER the delay, as a post delayed in the network would be: a test can hold a
            # leader's post while another node takes over, and see how the late one is judged
            with self.lock:
                self.held += 1
            try:
                time.sleep(delay)
            finally:
                with self.lock:
                    self.held -= 1
        if failure is not None:
            raise ProtocolError(failure, "injected_failure", f"injected HTTP {failure}")
        body = self.parse_pacing(headers, raw)
        digest = body_digest(body)
        cluster, tick, epoch = body["cluster"], body["tick"], body["epoch"]
        key = protocol.idempotency_key(cluster, tick)
        agent = headers.get("User-Agent") or ""
        with self.lock:
            state = self.clusters.setdefault(cluster, _Cluster())
            stored = state.replies.get(key)
            refused = None
            if stored is not None:
                if stored[0] == digest:
                    self.record(cluster, tick, epoch, "replayed", agent)
                    return _Reply(stored[1], stored[2], stored[3], {"Idempotent-Replayed": "true"})
                refused = ProtocolError(409, "tick_already_accepted",
                                        f"tick {tick} of {cluster} was already accepted with another body")
            elif epoch < state.epoch:
                refused = ProtocolError(409, "stale_epoch", f"epoch {epoch} is older than {state.epoch}")
            elif tick <= state.tick:
                refused = ProtocolError(409, "stale_tick", f"tick {tick} is not after the last accepted {state.tick}")
            if refused is not None:
                self.record(cluster, tick, epoch, refused.code, agent)
                raise refused
            self.record(cluster, tick, epoch, "accepted", agent)
            state.epoch, state.tick = epoch, tick
            reply = self._apply(body)
            state.replies[key] = (digest, reply.status, reply.body, reply.content_type)
            while len(state.replies) > REPLAY_CACHE:
                state.replies.popitem(last=False)
            self.posts.append(body)
        return reply

    def _apply(self, body: dict[str, Any]) -> _Reply:
        """Apply the invitations to the world (lock held) and build the answer."""
        answers, errors = [], []
        taken, indices, counts = [], [], []
        interval = float(body["intervalSeconds"])
        for t in body["targets"]:
            name = t["name"]
            if name in self.target_errors:
                code, message = self.target_errors[name]
                errors.append({"name": name, "code": code, "message": message})
                continue
            if name not in self.meta:
                if self.strict:
                    errors.append({"name": name, "code": "unknown_target",
                                   "message": f"no pacing target {name!r} is known to GPE"})
                    continue
                self.add_target(name)
            meta = self.meta[name]
            meta.update({k: t[k] for k in ("virtualQueue", "media", "agentGroups") if t.get(k) is not None})
            taken.append(name)
            indices.append(meta["index"])
            counts.append(t["invitations"])
        if indices:
            # ONE call for every target (the world is vectorised; a call per target costs O(targets) each)
            idx = np.array(indices, dtype=np.int64)
            self.world.invite(np.array(counts, dtype=np.int64), valid_s=interval, targets=idx)
            pending = self.world.pending[idx].tolist()
            answers = [{"name": name, "pendingInvitations": int(n)} for name, n in zip(taken, pending, strict=True)]
        kind = self.invalid_reply
        if kind is not None:
            if self.invalid_count is not None:
                self.invalid_count -= 1
                if self.invalid_count <= 0:
                    self.invalid_reply, self.invalid_count = None, None
            return self._corrupt(kind, {"targets": answers, "errors": errors})
        return _Reply(200, encode_reply(answers, errors))

    @staticmethod
    def _corrupt(kind: str, reply: dict[str, Any]) -> _Reply:
        answers = reply["targets"] or [{"name": "?", "pendingInvitations": 0}]
        if kind == "negative":
            answers[0]["pendingInvitations"] = -1
        elif kind == "non_integer":
            answers[0]["pendingInvitations"] = 1.5
        elif kind == "string":
            answers[0]["pendingInvitations"] = str(answers[0]["pendingInvitations"])
        elif kind == "unknown_target":
            answers.append({"name": "Not A Target - chat", "pendingInvitations": 0})
        elif kind == "missing_targets":
            return _Reply(200, _json({"errors": reply["errors"]}))
        elif kind == "wrong_type":
            return _Reply(200, _json({"targets": {a["name"]: a["pendingInvitations"] for a in answers},
                                      "errors": reply["errors"]}))
        elif kind == "not_json":
            return _Reply(200, b"<html><body>502 upstream hiccup</body></html>", "text/html")
        reply["targets"] = answers
        return _Reply(200, _json(reply))

    # ------------------------------------------------------------------------------------------------------
    # server
    # ------------------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        return self.base_url + self.token_path

    @property
    def service_url(self) -> str:
        """What hybrid_integration's general/base_service_url points at."""
        return self.base_url + self.api_base

    @property
    def pacing_url(self) -> str:
        return self.base_url + self.pacing_path

    def bind(self) -> GPESimulator:
        """Open the listening socket (port 0: an ephemeral port, then ``self.port`` is the real one)."""
        if self._httpd is None:
            self._httpd = _Server((self.host, self.port), _Handler)
            self._httpd.sim = self
            self.port = int(self._httpd.server_address[1])
        return self

    def start(self) -> GPESimulator:
        """Serve in background threads (HTTP and, with ``clock``, the world's clock)."""
        self.bind()
        self._stop.clear()
        server = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                  name="gpe-simulator-http", daemon=True)
        server.start()
        self._threads = [server]
        if self.clock:
            clock = threading.Thread(target=self._clock, name="gpe-simulator-clock", daemon=True)
            clock.start()
            self._threads.append(clock)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` (or KeyboardInterrupt); the clock runs in a thread."""
        self.bind()
        self._stop.clear()
        if self.clock:
            clock = threading.Thread(target=self._clock, name="gpe-simulator-clock", daemon=True)
            clock.start()
            self._threads = [clock]
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> GPESimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: GPESimulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GPESimulator/1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type if reply.content_type != "application/json"
                         else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _error(self, exc: ProtocolError) -> None:
        body = {"error": exc.error, "message": exc.message}
        if exc.status in (400, 409, 413, 415):
            body["code"] = exc.error
        self._send(_Reply(exc.status, _json(body), headers=exc.headers))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ProtocolError(411, "length_required", "chunked bodies are not supported; send Content-Length")
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            raise ProtocolError(400, "invalid_request", "bad Content-Length") from None
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            raise ProtocolError(413, "payload_too_large", f"the body exceeds {MAX_BODY} bytes")
        return self.rfile.read(n)

    def _path(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        sim = self.server.sim
        try:
            raw = self._read_body()
            path = self._path()
            with sim.lock:
                sim.requests_seen += 1
            if path == sim.token_path:
                self._send(sim.issue_token(self.headers, raw))
            elif path.rstrip("/") == sim.pacing_path:
                self._send(sim.handle_pacing(self.headers, raw))
            elif path == "/sim/control":
                try:
                    command = json.loads(raw or b"{}")
                except ValueError:
                    raise ProtocolError(400, "invalid_request", "the control command is not JSON") from None
                self._send(_Reply(200, _json(sim.control(command))))
            else:
                raise ProtocolError(404, "not_found", f"no endpoint at {path}")
        except ProtocolError as exc:
            try:
                self._error(exc)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):   # the client gave up (its timeout): nothing to answer
            self.close_connection = True
        except Exception:   # a bug of the simulator: answer 500 rather than drop the connection
            log.exception("GPE simulator failure")
            self.close_connection = True
            self._send(_Reply(500, _json({"error": "server_error", "message": "simulator failure"})))

    def do_GET(self) -> None:  # noqa: N802
        sim = self.server.sim
        path = self._path()
        if path == "/sim/state":
            self._send(_Reply(200, _json(sim.state())))
        elif path == "/sim/posts":
            with sim.lock:
                journal, held = list(sim.journal), sim.held
            self._send(_Reply(200, _json({"posts": journal, "held": held})))
        elif path in ("/healthz", "/sim/health"):
            self._send(_Reply(200, _json({"status": "ok"})))
        elif path in (sim.token_path, sim.pacing_path):
            self._error(ProtocolError(405, "method_not_allowed", "use POST", {"Allow": "POST"}))
        else:
            self._error(ProtocolError(404, "not_found", f"no endpoint at {path}"))

    def do_PUT(self) -> None:  # noqa: N802
        self._read_or_close()
        self._error(ProtocolError(405, "method_not_allowed", "use POST", {"Allow": "POST"}))

    do_DELETE = do_PATCH = do_PUT

    def _read_or_close(self) -> None:
        try:
            self._read_body()
        except ProtocolError:
            self.close_connection = True


def gzip_body(obj: Any) -> bytes:
    """Helper for clients and tests: the JSON of ``obj``, gzipped."""
    return gzip.compress(_json(obj))
