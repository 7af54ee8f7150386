"""The GPE client (pacing/gpe/client.py) and the shared protocol (pacing/gpe/protocol.py), against the real
GPE simulator over HTTP on a free loopback port. No Django, no timing assertions beyond generous bounds."""

from __future__ import annotations

import gzip
import http.server
import logging
import socket
import threading
import time

import numpy as np
import orjson
import pytest

from pacing.gpe import protocol
from pacing.gpe.client import (
    ClientConfig,
    ConfigError,
    Fenced,
    GPEClient,
    InvalidReply,
    RequestFailed,
    TokenError,
    config_from_options,
)
from pacing.simulators.gpe import INVALID_REPLY_KINDS, GPESimulator

CLUSTER = "Pacing_Service_Cluster_9.0"
CHAT, VOICE = "Proactive Chat - chat", "Proactive Voice - voice"
SECRET = "demo-client-secret"


@pytest.fixture
def sim():
    s = GPESimulator(port=0, clock=False, seed=1, targets={CHAT: {"agents": 4}, VOICE: {"agents": 3}},
                     defaults={"lead_rate": np.inf})
    s.start()
    yield s
    s.stop()


def config(sim: GPESimulator, **kw) -> ClientConfig:
    values = {"auth_url": sim.token_url, "service_url": sim.service_url, "endpoint_path": "v1/pacing/targets",
              "client_id": "pacing-demo", "client_secret": SECRET, "timeout_s": 3.0}
    values.update(kw)
    return ClientConfig(**values)


@pytest.fixture
def client(sim):
    with GPEClient(config(sim)) as c:
        yield c


def targets(chat=4, voice=None):
    out = [{"name": CHAT, "virtualQueue": "Proactive Chat", "media": "chat",
            "agentGroups": ["Proactive Chat", "Proactive Blended"], "invitations": chat}]
    if voice is not None:
        out.append({"name": VOICE, "invitations": voice})
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- protocol ---------------------------------------------------------------------------------------------------

def test_encode_request_headers_and_gzip():
    req = protocol.encode_request(CLUSTER, 352112, 7, 5, targets(voice=np.int64(2)))
    assert req.headers["Idempotency-Key"] == f"{CLUSTER}:352112"
    assert req.headers["X-Pacing-Epoch"] == "7" and req.headers["Content-Type"] == "application/json"
    assert not req.gzipped
    body = orjson.loads(req.body)
    assert body["version"] == 1 and body["intervalSeconds"] == 5 and body["targets"][1] == {"name": VOICE,
                                                                                             "invitations": 2}
    assert protocol.parse_request(req.headers, req.body) == body
    big = protocol.encode_request(CLUSTER, 1, 7, 5, [{"name": f"T{i} - chat", "invitations": i} for i in range(3000)])
    assert big.gzipped and big.raw_size > protocol.GZIP_THRESHOLD > len(big.body)
    assert protocol.parse_request(big.headers, big.body)["targets"][2999]["invitations"] == 2999
    assert protocol.body_digest(orjson.loads(gzip.decompress(big.body))) == protocol.body_digest(
        protocol.parse_request(big.headers, big.body))


@pytest.mark.parametrize("bad, field", [
    ({"name": CHAT, "invitations": -1}, "invitations"),
    ({"name": CHAT, "invitations": 1.5}, "invitations"),
    ({"name": CHAT, "invitations": "3"}, "invitations"),
    ({"name": "", "invitations": 1}, "name"),
])
def test_encode_request_refuses_what_gpe_would(bad, field):
    with pytest.raises(ValueError, match=field):
        protocol.encode_request(CLUSTER, 1, 1, 5, [bad])


@pytest.mark.parametrize("raw, field", [
    (b"<html>oops</html>", "body"),
    (b"[]", "body"),
    (b'{"errors": []}', "targets"),
    (b'{"targets": {"a": 1}}', "targets"),
    (b'{"targets": [{"name": "Unknown - chat", "pendingInvitations": 1}]}', "targets[0].name"),
    (b'{"targets": [{"name": "Proactive Chat - chat", "pendingInvitations": -2}]}', "targets[0].pendingInvitations"),
    (b'{"targets": [{"name": "Proactive Chat - chat", "pendingInvitations": 2.5}]}', "targets[0].pendingInvitations"),
    (b'{"targets": [{"name": "Proactive Chat - chat", "pendingInvitations": "2"}]}', "targets[0].pendingInvitations"),
    (b'{"targets": [{"name": "Proactive Chat - chat", "pendingInvitations": true}]}',
     "targets[0].pendingInvitations"),
    (b'{"targets": [], "errors": {"x": 1}}', "errors"),
    (b'{"targets": [], "errors": [{"name": "Unknown - chat"}]}', "errors[0].name"),
])
def test_parse_reply_names_what_is_wrong(raw, field):
    with pytest.raises(protocol.ReplyValidationError) as info:
        protocol.parse_reply(raw, {CHAT})
    assert info.value.field == field


def test_parse_reply_valid():
    raw = protocol.encode_reply([{"name": CHAT, "pendingInvitations": 2}],
                                [{"name": VOICE, "code": "queue_disabled", "message": "off"}])
    reply = protocol.parse_reply(raw, {CHAT, VOICE}, "application/json; charset=utf-8")
    assert reply.pending == {CHAT: 2}
    assert reply.errors == (protocol.TargetError(VOICE, "queue_disabled", "off"),)
    with pytest.raises(protocol.ReplyValidationError, match="text/html"):
        protocol.parse_reply(raw, {CHAT, VOICE}, "text/html")


# --- client against the simulator -------------------------------------------------------------------------------

def test_post_and_token_cached(sim, client):
    reply = client.post_targets(CLUSTER, 100, 7, 5, targets(chat=4, voice=2))
    assert reply.pending == {CHAT: 4, VOICE: 2} and reply.errors == () and not reply.replayed
    reply = client.post_targets(CLUSTER, 101, 7, 5, targets(chat=1))
    assert reply.pending == {CHAT: 5}
    assert client.token_requests == 1
    assert [p["tick"] for p in sim.posts] == [100, 101]
    assert sim.journal[-1]["agent"].startswith("pacing-console/")


def test_401_refreshes_the_token_once(sim, client):
    client.post_targets(CLUSTER, 1, 7, 5, targets())
    sim.expire_tokens()
    reply = client.post_targets(CLUSTER, 2, 7, 5, targets(chat=1))
    assert reply.pending == {CHAT: 5} and client.token_requests == 2


def test_401_with_a_fresh_token_is_a_failure(sim):
    sim.token_ttl_s = 0                                   # every token is expired when it is used
    with GPEClient(config(sim)) as c, pytest.raises(RequestFailed) as info:
        c.post_targets(CLUSTER, 1, 7, 5, targets())
    assert info.value.kind == "unauthorized" and info.value.status == 401
    assert c.token_requests == 2                          # refreshed once, not in a loop
    assert sim.pending(CHAT) == 0


@pytest.mark.parametrize("kind, text", [("500", "HTTP 500"), ("html", "text/html")])
def test_token_endpoint_500_or_html(sim, client, kind, text):
    sim.inject_token_failure(kind)
    with pytest.raises(TokenError) as info:
        client.post_targets(CLUSTER, 1, 7, 5, targets())
    assert text in str(info.value) and isinstance(info.value, RequestFailed)
    assert client.post_targets(CLUSTER, 1, 7, 5, targets()).pending == {CHAT: 4}   # next time it works


def test_wrong_secret_is_a_token_error_without_the_secret(sim, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-secret-xyz"
    with GPEClient(config(sim, client_secret=wrong)) as c, pytest.raises(TokenError) as info:
        c.post_targets(CLUSTER, 1, 7, 5, targets())
    assert info.value.status == 401 and "ewt/password" in str(info.value)
    assert wrong not in str(info.value) and wrong not in caplog.text
    assert wrong not in repr(c.config)


def test_secret_and_token_never_logged(sim, caplog):
    caplog.set_level(logging.DEBUG)
    with GPEClient(config(sim)) as c:
        c.post_targets(CLUSTER, 1, 7, 5, targets())
        sim.expire_tokens()
        c.post_targets(CLUSTER, 2, 7, 5, targets())
        tokens = list(sim.tokens)
    assert SECRET not in caplog.text
    assert all(t not in caplog.text for t in tokens)


def test_refused_connection(sim):
    port = closed_port()
    cfg = config(sim, auth_url=f"http://127.0.0.1:{port}/oauth/token", service_url=f"http://127.0.0.1:{port}/api/")
    with GPEClient(cfg) as c, pytest.raises(RequestFailed) as info:
        c.post_targets(CLUSTER, 1, 7, 5, targets())
    assert info.value.kind == "connect" and "Connection refused" in str(info.value)


def test_refused_pacing_endpoint_after_a_token(sim):
    cfg = config(sim, service_url=f"http://127.0.0.1:{closed_port()}/api/")
    with GPEClient(cfg) as c, pytest.raises(RequestFailed) as info:
        c.post_targets(CLUSTER, 1, 7, 5, targets())
    assert info.value.kind == "connect" and not isinstance(info.value, TokenError)


def test_timeout_is_bounded(sim):
    sim.inject_delay(3.0)
    with GPEClient(config(sim, timeout_s=0.5)) as c:
        started = time.monotonic()
        with pytest.raises(RequestFailed) as info:
            c.post_targets(CLUSTER, 1, 7, 5, targets())
        assert time.monotonic() - started < 2.5
    assert info.value.kind == "timeout"


def test_5xx_is_a_request_failure(sim, client):
    sim.inject_failure(503)
    with pytest.raises(RequestFailed) as info:
        client.post_targets(CLUSTER, 1, 7, 5, targets())
    assert info.value.kind == "http" and info.value.status == 503


def test_gzip_body_accepted(sim):
    with GPEClient(config(sim, gzip_threshold=0)) as c:
        reply = c.post_targets(CLUSTER, 1, 7, 5, targets(chat=3))
    assert reply.pending == {CHAT: 3}
    many = [{"name": f"Queue {i} - chat", "invitations": 1} for i in range(200)]   # adopted by the simulator
    with GPEClient(config(sim, gzip_threshold=4096)) as c:
        req = protocol.encode_request(CLUSTER, 2, 7, 5, many, gzip_threshold=4096)
        assert req.gzipped
        reply = c.post_targets(CLUSTER, 2, 7, 5, req)
    assert len(reply.pending) == 200


def test_replay_and_409s(sim, client):
    first = client.post_targets(CLUSTER, 10, 7, 5, targets(chat=4))
    again = client.post_targets(CLUSTER, 10, 7, 5, targets(chat=4))      # a retry of the same post
    assert again.replayed and again.pending == first.pending
    with pytest.raises(Fenced) as info:                                   # the same tick, another body
        client.post_targets(CLUSTER, 10, 8, 5, targets(chat=9))
    assert info.value.code == "tick_already_accepted"
    client.post_targets(CLUSTER, 11, 8, 5, targets(chat=1))
    with pytest.raises(Fenced) as info:                                   # a deposed leader
        client.post_targets(CLUSTER, 12, 7, 5, targets(chat=1))
    assert info.value.code == "stale_epoch"
    assert [(p["tick"], p["epoch"]) for p in sim.posts] == [(10, 7), (11, 8)]


def test_target_errors_are_in_the_reply(sim, client):
    sim.inject_target_error(VOICE, "queue_disabled", "disabled in GPE")
    reply = client.post_targets(CLUSTER, 1, 7, 5, targets(chat=1, voice=2))
    assert reply.pending == {CHAT: 1}
    assert reply.errors == (protocol.TargetError(VOICE, "queue_disabled", "disabled in GPE"),)


@pytest.mark.parametrize("kind", INVALID_REPLY_KINDS)
def test_every_invalid_reply_kind(sim, client, kind):
    sim.inject_invalid_reply(kind)
    with pytest.raises(InvalidReply) as info:
        client.post_targets(CLUSTER, 1, 7, 5, targets())
    expected = {"negative": "targets[0].pendingInvitations", "non_integer": "targets[0].pendingInvitations",
                "string": "targets[0].pendingInvitations", "unknown_target": "targets[1].name",
                "missing_targets": "targets", "wrong_type": "targets", "not_json": "body"}[kind]
    assert info.value.field == expected
    assert client.post_targets(CLUSTER, 2, 7, 5, targets()).pending == {CHAT: 8}


def test_proxy_that_refuses_connections(sim):
    proxy = f"http://127.0.0.1:{closed_port()}"
    with GPEClient(config(sim, proxy_url=proxy)) as c, pytest.raises(RequestFailed) as info:
        c.post_targets(CLUSTER, 1, 7, 5, targets())
    assert info.value.kind == "connect" and "proxy" in str(info.value)
    assert sim.requests_seen == 0


class _DenyingProxy(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802
        self.seen.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html>Access denied by policy</html>"
        self.send_response(403)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_proxy_that_denies_the_request(sim):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DenyingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with GPEClient(config(sim, proxy_url=f"http://127.0.0.1:{server.server_address[1]}")) as c, \
                pytest.raises(TokenError) as info:
            c.post_targets(CLUSTER, 1, 7, 5, targets())
        assert info.value.status == 403
        assert _DenyingProxy.seen and _DenyingProxy.seen[0] == sim.token_url   # went through the proxy
    finally:
        server.shutdown()
        server.server_close()


# --- configuration ----------------------------------------------------------------------------------------------

ANNEX = {"general": {"base_auth_url": "http://127.0.0.1:8089/oauth/token",
                     "base_service_url": "http://127.0.0.1:8089/api/"},
         "ewt": {"client_id": "pacing-demo", "password": SECRET}}
OPTIONS = {"pacing": {"refreshPeriod": "5"}, "pacingEndpoint": {"targetEndpoint": "v1/pacing/targets", "timeout": "4"},
           "forward-proxy": {"enabled": "false", "host": "", "port": ""}}


def test_config_from_the_demo_options():
    cfg = config_from_options(ANNEX, OPTIONS)
    assert cfg.pacing_url == "http://127.0.0.1:8089/api/v1/pacing/targets"
    assert cfg.auth_url == "http://127.0.0.1:8089/oauth/token" and cfg.client_id == "pacing-demo"
    assert cfg.timeout_s == 4 and cfg.proxy_url is None and cfg.warnings == ()
    assert SECRET not in repr(cfg)


@pytest.mark.parametrize("annex, options, option", [
    ({"ewt": ANNEX["ewt"]}, OPTIONS, "general"),
    ({"general": ANNEX["general"]}, OPTIONS, "ewt"),
    ({**ANNEX, "general": {**ANNEX["general"], "base_auth_url": "not a url"}}, OPTIONS, "general/base_auth_url"),
    ({**ANNEX, "general": {**ANNEX["general"], "base_service_url": "ftp://x/"}}, OPTIONS, "general/base_service_url"),
    ({**ANNEX, "general": {"base_service_url": "http://x/"}}, OPTIONS, "general/base_auth_url"),
    ({**ANNEX, "ewt": {"client_id": "x"}}, OPTIONS, "ewt/password"),
    ({**ANNEX, "ewt": {"password": "x"}}, OPTIONS, "ewt/client_id"),
    (ANNEX, {"pacing": {}}, "pacingEndpoint"),
    (ANNEX, {"pacingEndpoint": {"timeout": "3"}}, "pacingEndpoint/targetEndpoint"),
    (ANNEX, {**OPTIONS, "forward-proxy": {"enabled": "maybe"}}, "forward-proxy/enabled"),
    (ANNEX, {**OPTIONS, "forward-proxy": {"enabled": "true", "host": "proxy", "port": "99999"}},
     "forward-proxy/port"),
    (ANNEX, {**OPTIONS, "forward-proxy": {"enabled": "true", "port": "3128"}}, "forward-proxy/host"),
    (None, OPTIONS, "general"),
])
def test_config_errors_name_the_option(annex, options, option):
    with pytest.raises(ConfigError) as info:
        config_from_options(annex, options)
    assert option in info.value.option and option in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("raw, expected", [("soon", 4.0), ("0", 4.0), ("-5", 4.0), ("2.5", 2.5), ("9", 4.0)])
def test_timeout_falls_back_or_stays_below_the_refresh_period(raw, expected):
    cfg = config_from_options(ANNEX, {**OPTIONS, "pacingEndpoint": {"targetEndpoint": "v1/x", "timeout": raw}})
    assert cfg.timeout_s == expected
    assert bool(cfg.warnings) == (raw != "2.5")
    short = config_from_options(ANNEX, OPTIONS, refresh_period_s=1)
    assert short.timeout_s == 0.8 and "refresh period" in short.warnings[0]


def test_config_proxy():
    cfg = config_from_options(ANNEX, {**OPTIONS, "forward-proxy": {"enabled": "true", "host": "proxy.corp",
                                                                   "port": "3128"}})
    assert cfg.proxy_url == "http://proxy.corp:3128"
    cfg = config_from_options(ANNEX, {**OPTIONS, "forward-proxy": {"enabled": "1", "host": "https://p.corp",
                                                                   "port": "8443"}})
    assert cfg.proxy_url == "https://p.corp:8443"
