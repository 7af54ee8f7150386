"""The sinks: the structured log, syslog (RFC 5424 over UDP and TCP), the webhook (retries, never blocking the
caller), bad configuration, and secrets kept out of every payload. Loopback servers on free ports only."""

from __future__ import annotations

import datetime
import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alarms import sinks
from alarms.events import Event, Kind
from alarms.sinks import syslog, webhook

FAST = {"backoff_s": 0.01, "connect_timeout_s": 0.5, "read_timeout_s": 0.3}


@pytest.fixture(autouse=True)
def _no_sinks_left():
    sinks.reset()
    yield
    sinks.reset()


def alarm(message="GC pause 1534 ms exceeded GcLatency.threshold 1000 ms", **extra) -> Event:
    fields = {"condition": "GC Latency", "severity": "major", "node": "Pacing_Server_Node_01",
              "source": "Pacing_Server_Node_01", "context": {"pauseMs": 1534.2, "generation": 2}}
    fields.update(extra)
    return Event(Kind.ALARM_RAISED, 10005, message, **fields)


# --- RFC 5424, strictly (§6 ABNF) -------------------------------------------------------------------------------

PRINTUSASCII = r"[!-~]"
SD_NAME = r'[!#-<>-\\^-~]{1,32}'                        # PRINTUSASCII except '=', SP, ']', '"'
PARAM_VALUE = r'(?:[^"\\\]]|\\["\\\]])*'               # '"', '\' and ']' escaped
SD_ELEMENT = rf'\[{SD_NAME}(?:\ {SD_NAME}="{PARAM_VALUE}")*\]'   # '\ ': the pattern is VERBOSE
RFC5424 = re.compile(
    rf"""^<(?P<pri>\d{{1,3}})>(?P<version>[1-9]\d{{0,2}})
    \ (?P<timestamp>-|\d{{4}}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])
        T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d{{1,6}})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d))
    \ (?P<hostname>-|{PRINTUSASCII}{{1,255}})
    \ (?P<app>-|{PRINTUSASCII}{{1,48}})
    \ (?P<procid>-|{PRINTUSASCII}{{1,128}})
    \ (?P<msgid>-|{PRINTUSASCII}{{1,32}})
    \ (?P<sd>-|(?:{SD_ELEMENT})+)
    (?:\ (?P<msg>.*))?$""",
    re.VERBOSE | re.DOTALL,
)


def parse_5424(data: bytes) -> dict:
    text = data.decode("utf-8")
    match = RFC5424.match(text)
    assert match, f"not RFC 5424: {text!r}"
    fields = match.groupdict()
    assert 0 <= int(fields["pri"]) <= 191
    fields["params"] = dict(re.findall(rf'({SD_NAME})="({PARAM_VALUE})"', fields["sd"]))
    return fields


def test_the_format_is_rfc5424():
    event = alarm(message='pause ] "quoted" \\ end', context={"pauseMs": 1534.2},
                  time=datetime.datetime(2026, 12, 1, 20, 58, 0, 123456, tzinfo=datetime.UTC))
    fields = parse_5424(syslog.format_message(event, event.as_dict(), facility=16))
    assert fields["pri"] == str(16 * 8 + 3)            # local0, major → error (3)
    assert fields["timestamp"] == "2026-12-01T20:58:00.123456Z"
    assert (fields["app"], fields["msgid"]) == ("pacing-console", "alarm.raised")
    assert fields["params"]["eventId"] == "10005" and fields["params"]["condition"] == "GC Latency"
    assert fields["msg"].startswith("\ufeffpause ] \"quoted\"")
    assert fields["msg"].endswith('{"pauseMs":1534.2}')


@pytest.mark.parametrize("severity, expected", [("critical", 2), ("major", 3), ("minor", 4), ("info", 6)])
def test_severity_from_the_category(severity, expected):
    assert syslog.severity_of(alarm(severity=severity)) == expected
    cleared = Event(Kind.ALARM_CLEARED, 10006, "cleared", condition="GC Latency", severity=severity)
    assert syslog.severity_of(cleared) == 5
    assert syslog.severity_of(Event(Kind.METRICS, None, "report")) == 6


def test_sd_values_are_escaped():
    event = alarm(node='node "a" ]\\')
    fields = parse_5424(syslog.format_message(event, event.as_dict()))
    assert fields["params"]["node"] == 'node \\"a\\" \\]\\\\'


def test_udp_delivers_one_rfc5424_datagram():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        sinks.configure(syslog_url=f"udp://127.0.0.1:{server.getsockname()[1]}?facility=local3", webhook_url="")
        sinks.emit(alarm())
        data, _ = server.recvfrom(65535)
    fields = parse_5424(data)
    assert fields["pri"] == str(19 * 8 + 3)
    assert fields["params"]["eventId"] == "10005" and fields["params"]["node"] == "Pacing_Server_Node_01"
    assert "1534 ms" in fields["msg"]


def test_udp_datagrams_are_cut_on_a_character_boundary():
    event = alarm(message="é" * 20000)
    data = syslog.format_message(event, event.as_dict(), max_bytes=syslog.MAX_UDP_BYTES)
    assert len(data) <= syslog.MAX_UDP_BYTES
    parse_5424(data)


def test_tcp_uses_octet_counting_framing():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(5)
        sinks.configure(syslog_url=f"tcp://127.0.0.1:{listener.getsockname()[1]}", webhook_url="")
        sinks.emit(alarm())
        sinks.emit(Event(Kind.ALARM_CLEARED, 10006, "GC Latency cleared", condition="GC Latency", severity="major"))
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            buffer, frames = b"", []
            while len(frames) < 2:
                chunk = conn.recv(65535)
                assert chunk, "connection closed early"
                buffer += chunk
                frames = _frames(buffer)
    assert len(frames) == 2
    first, second = (parse_5424(f) for f in frames)
    assert first["params"]["eventId"] == "10005" and second["params"]["eventId"] == "10006"
    assert second["pri"] == str(16 * 8 + 5)


def _frames(buffer: bytes) -> list[bytes]:
    """The complete octet-counted frames (RFC 6587: MSG-LEN SP SYSLOG-MSG) at the start of ``buffer``."""
    frames = []
    while buffer:
        length, space, rest = buffer.partition(b" ")
        if not space:
            break
        assert length.isdigit() and not length.startswith(b"0"), buffer[:40]
        if len(rest) < int(length):
            break
        frames.append(rest[:int(length)])
        buffer = rest[int(length):]
    return frames


# --- the webhook ------------------------------------------------------------------------------------------------

class Receiver:
    """A local HTTP server: answers ``statuses`` in turn (then 200), or hangs while ``hang`` is set."""

    def __init__(self, statuses=(), *, always: int | None = None, hang: bool = False):
        self.statuses, self.always = list(statuses), always
        self.hang = hang
        self.release = threading.Event()
        self.requests: list[tuple[dict, bytes]] = []
        self.delivered = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                if receiver.hang:
                    receiver.release.wait(3)   # no answer: longer than the sink's read timeout, and bounded
                    return
                status = receiver.always or (receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 200:
                    receiver.delivered.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pacing"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_webhook_retries_until_the_receiver_accepts():
    with Receiver([503, 502]) as receiver:
        [dispatcher] = sinks.configure(syslog_url="", webhook_url=receiver.url, webhook_tuning=FAST)
        sinks.emit(alarm())
        assert receiver.delivered.wait(10)
        assert sinks.flush(5)
    assert len(receiver.requests) == 3
    keys = {headers["Idempotency-Key"] for headers, _ in receiver.requests}
    assert len(keys) == 1                                    # one key per event, the same on each retry
    headers, body = receiver.requests[-1]
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["eventId"] == 10005 and payload["condition"] == "GC Latency" and payload["kind"] == "alarm.raised"
    assert (dispatcher.sent, dispatcher.failed) == (1, 0)


def test_webhook_gives_up_on_a_receiver_that_always_fails(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.sinks")
    with Receiver(always=500) as receiver:
        [dispatcher] = sinks.configure(syslog_url="", webhook_url=receiver.url, webhook_tuning=FAST)
        started = time.perf_counter()
        sinks.emit(alarm())
        assert time.perf_counter() - started < 0.05
        assert sinks.flush(10)
    assert len(receiver.requests) == 1 + webhook.WebhookConfig.retries
    assert (dispatcher.sent, dispatcher.failed) == (0, 1)
    [line] = [r.getMessage() for r in caplog.records if "could not deliver" in r.getMessage()]
    assert "HTTP 500" in line and "hooks/pacing" not in line       # the URL's path is not logged


def test_a_hanging_webhook_never_blocks_the_caller(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.sinks")
    with Receiver(hang=True) as receiver:
        [dispatcher] = sinks.configure(syslog_url="", webhook_url=receiver.url, queue=5,
                                       webhook_tuning={**FAST, "retries": 1})
        waits = []
        for number in range(50):
            started = time.perf_counter()
            sinks.emit(alarm(message=f"event {number}"))
            waits.append(time.perf_counter() - started)
            if number == 0:
                deadline = time.monotonic() + 5
                while not receiver.requests and time.monotonic() < deadline:
                    time.sleep(0.01)           # the dispatcher is now stuck on the hanging receiver
        assert max(waits) < 0.05, max(waits)
        assert dispatcher.dropped >= 40                      # the bounded queue dropped the oldest
        drops = [r for r in caplog.records if "queue is full" in r.getMessage()]
        assert len(drops) == 1 and "dropped so far" in drops[0].getMessage()


def test_webhook_authentication_headers():
    with Receiver() as receiver:
        url = receiver.url.replace("http://", "http://hook:p%40ss@")
        config = webhook.parse_url(url, token="")
        assert "p@ss" not in config.safe_name and "hook" not in config.safe_name
        sinks.configure(syslog_url="", webhook_url=url, webhook_tuning=FAST)
        sinks.emit(alarm())
        assert receiver.delivered.wait(5)
        assert receiver.requests[0][0]["Authorization"].startswith("Basic ")
    with Receiver() as receiver:
        sinks.configure(syslog_url="", webhook_url=receiver.url, webhook_token="t0ken-value", webhook_tuning=FAST)
        sinks.emit(alarm())
        assert receiver.delivered.wait(5)
        assert receiver.requests[0][0]["Authorization"] == "Bearer t0ken-value"


# --- bad configuration ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("syslog_url, webhook_url, setting, words", [
    ("http://logs.example.com:514", "", "PACING_SYSLOG", "udp:// or tcp://"),
    ("udp://logs.example.com:99999", "", "PACING_SYSLOG", "port"),
    ("udp://:514", "", "PACING_SYSLOG", "no host"),
    ("udp://logs.example.com?facility=mars", "", "PACING_SYSLOG", "facility"),
    ("", "ftp://hooks.example.com/x", "PACING_ALARM_WEBHOOK", "http:// or https://"),
    ("", "hooks.example.com/x", "PACING_ALARM_WEBHOOK", "http:// or https://"),
    ("", "https://hooks.example.com:0x1/x", "PACING_ALARM_WEBHOOK", "port"),
    ("", "https://hooks.example.com:70000/x", "PACING_ALARM_WEBHOOK", "port"),
    ("", "http:///x", "PACING_ALARM_WEBHOOK", "no host"),
])
def test_bad_settings_are_one_clear_error(caplog, syslog_url, webhook_url, setting, words):
    caplog.set_level(logging.ERROR, logger="alarms.sinks")
    assert sinks.configure(syslog_url=syslog_url, webhook_url=webhook_url) == []
    for _ in range(3):
        sinks.emit(alarm())
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.name == "alarms.sinks"]
    assert len(errors) == 1 and setting in errors[0] and words in errors[0]
    assert sinks.problems() and setting in sinks.problems()[0]


def test_a_bad_queue_size_uses_the_default(caplog):
    caplog.set_level(logging.ERROR, logger="alarms.sinks")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        [dispatcher] = sinks.configure(syslog_url=f"udp://127.0.0.1:{server.getsockname()[1]}", webhook_url="",
                                       queue="lots")
    assert dispatcher.maxsize == sinks.DEFAULT_QUEUE
    assert any("PACING_SINK_QUEUE" in r.getMessage() for r in caplog.records)


def test_a_syslog_host_that_does_not_resolve_leaves_the_webhook_working(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.sinks")
    with Receiver() as receiver:
        dispatchers = sinks.configure(syslog_url="udp://no-such-host.invalid:514", webhook_url=receiver.url,
                                      webhook_tuning=FAST)
        assert len(dispatchers) == 2
        for number in range(3):
            sinks.emit(alarm(message=f"event {number}"))
        assert sinks.flush(10)
        assert len(receiver.requests) == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.name == "alarms.sinks"]
    assert len(errors) == 1
    assert "PACING_SYSLOG" in errors[0] and "no-such-host.invalid" in errors[0] and "does not resolve" in errors[0]
    assert dispatchers[0].dropped == 3 and dispatchers[0].sent == 0


def test_settings_configure_the_sinks(settings):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        settings.PACING_SYSLOG = f"udp://127.0.0.1:{server.getsockname()[1]}"
        settings.PACING_ALARM_WEBHOOK = ""
        sinks.reset()
        sinks.emit(alarm())
        parse_5424(server.recvfrom(65535)[0])


def test_no_network_sink_by_default(settings):
    settings.PACING_SYSLOG = settings.PACING_ALARM_WEBHOOK = ""
    assert sinks.network_sinks() == [] and sinks.problems() == []


# --- the structured log, and secrets ----------------------------------------------------------------------------

def test_every_event_goes_to_the_structured_log(caplog):
    caplog.set_level(logging.INFO, logger="pacing.events")
    sinks.configure(syslog_url="", webhook_url="")
    sinks.emit(alarm())
    sinks.emit(Event(Kind.EVENT, 100603, "PacingRequestsFailed: no enabled condition", condition="PacingRequestsFailed",
                     severity="major"))
    sinks.emit(Event(Kind.ALARM_CLEARED, 10006, "cleared", condition="GC Latency", severity="major"))
    raised, event, cleared = [r for r in caplog.records if r.name == "pacing.events"]
    assert (raised.event_id, raised.condition, raised.node) == (10005, "GC Latency", "Pacing_Server_Node_01")
    assert raised.levelno == logging.ERROR and event.levelno == logging.ERROR and cleared.levelno == logging.INFO
    assert json.loads(raised.getMessage())["context"] == {"pauseMs": 1534.2, "generation": 2}
    assert event.event_id == 100603 and cleared.event_id == 10006


def test_log_events_are_not_written_twice(caplog):
    caplog.set_level(logging.DEBUG, logger="pacing.events")
    sinks.configure(syslog_url="", webhook_url="")
    sinks.emit(Event(Kind.LOG, None, "a log line"))
    assert not [r for r in caplog.records if r.name == "pacing.events"]


def test_secrets_never_leave(caplog):
    caplog.set_level(logging.INFO, logger="pacing.events")
    event = alarm(message="GPE refused client_secret=s3cret-1 for the token",
                  context={"password": "s3cret-2", "request": {"api_key": "s3cret-3", "body": "password=s3cret-4"},
                           "lines": ["Authorization: Bearer s3cret-5"]})
    with Receiver() as receiver, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        sinks.configure(syslog_url=f"udp://127.0.0.1:{server.getsockname()[1]}", webhook_url=receiver.url,
                        webhook_tuning=FAST)
        sinks.emit(event)
        datagram = server.recvfrom(65535)[0].decode()
        assert receiver.delivered.wait(5)
        body = receiver.requests[0][1].decode()
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "pacing.events")
    for text in (datagram, body, logged):
        assert "s3cret" not in text, text
        assert "********" in text
    json.loads(body)                                           # still valid JSON


def test_emit_never_raises(monkeypatch):
    sinks.configure(syslog_url="", webhook_url="")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sinks, "payload_of", broken)
    sinks.emit(alarm())                       # logged at debug, not raised


def test_a_forked_worker_starts_its_own_dispatchers(settings):
    import os

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        settings.PACING_SYSLOG = f"udp://127.0.0.1:{server.getsockname()[1]}"
        settings.PACING_ALARM_WEBHOOK = ""
        sinks.reset()
        sinks.emit(alarm(message="from the parent"))
        assert "from the parent" in server.recvfrom(65535)[0].decode()
        pid = os.fork()
        if pid == 0:  # the child: the parent's dispatcher thread does not exist here
            try:
                sinks.emit(alarm(message="from the child"))
                os._exit(0 if sinks.flush(5) else 1)
            finally:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert "from the child" in server.recvfrom(65535)[0].decode()
