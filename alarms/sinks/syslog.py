"""Syslog: RFC 5424 messages over UDP (RFC 5426) or TCP with octet-counting framing (RFC 6587 §3.4.1).

``PACING_SYSLOG`` = ``udp://host:514`` or ``tcp://host:601``, optionally ``?facility=local3`` (default
``local0``). A message::

    <PRI>1 2026-12-01T20:58:00.123456Z pacing-node-1 pacing-console 4242 alarm.raised
        [pacing@32473 eventId="10005" kind="alarm.raised" condition="GC Latency" severity="major" node="…"
        source="…"] BOM GC pause 1534 ms … {"pauseMs":1534.2,…}

Ours: PRI = facility × 8 + severity, the severity from the alarm's category — critical 2, major 3, minor 4,
info 6 — for a raised alarm or a detect event; a clear or a cancel event is 5 (notice); a log line the
``network`` output forwards keeps its level (DEBUG 7 … CRITICAL 2). MSGID is the event kind. The
structured-data ID ``pacing@32473`` uses 32473, the private enterprise number IANA reserves for
documentation (RFC 5612): we own none. The message is UTF-8 with a BOM (RFC 5424 ``MSG-UTF8``); a UDP
datagram is cut to 8 KiB, on a character boundary.

This module is synchronous: ``SyslogTransport.send`` is called by the sink's dispatcher thread
(alarms.sinks), never by the caller of ``emit``. The host is resolved there too, so a slow DNS never
blocks the pacing cycle.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from ..events import Event, Kind
from .log import is_detect

__all__ = ["FACILITIES", "SyslogConfig", "SyslogTransport", "format_message", "parse_url", "severity_of"]

APP_NAME = "pacing-console"
SD_ID = "pacing@32473"
MAX_UDP_BYTES = 8192
BOM = "\ufeff"

FACILITIES = {"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
              "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, **{f"local{n}": 16 + n for n in range(8)}}
_CATEGORY_SEVERITY = {"critical": 2, "major": 3, "minor": 4, "info": 6}
_LEVEL_SEVERITY = ((50, 2), (40, 3), (30, 4), (20, 6), (0, 7))   # Python level ≥ → syslog severity


class ConfigError(ValueError):
    """A syslog setting that cannot work; the message names the setting."""


@dataclass(frozen=True)
class SyslogConfig:
    protocol: str       # "udp" or "tcp"
    host: str
    port: int
    facility: int = 16

    @property
    def address(self) -> str:
        return f"{self.protocol}://{self.host}:{self.port}"


def parse_url(url: str, setting: str = "PACING_SYSLOG") -> SyslogConfig:
    """``udp://host:514`` / ``tcp://host:601`` [``?facility=local0``] → SyslogConfig; ConfigError otherwise."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ConfigError(f"{setting}: {url!r} is not a syslog address ({exc}); expected udp://host:514 or "
                          "tcp://host:601.") from None
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{setting}: the port in {url!r} is not a number between 1 and 65535.") from None
    if parts.scheme not in ("udp", "tcp"):
        raise ConfigError(f"{setting}: the scheme must be udp:// or tcp://, not {parts.scheme or 'none'!r} "
                          "(e.g. udp://syslog.example.com:514).")
    if not parts.hostname:
        raise ConfigError(f"{setting}: {url!r} names no host (e.g. {parts.scheme}://syslog.example.com:514).")
    if port is None:
        port = 514 if parts.scheme == "udp" else 601
    if not 1 <= port <= 65535:
        raise ConfigError(f"{setting}: port {port} is not between 1 and 65535.")
    facility_name = (parse_qs(parts.query).get("facility") or ["local0"])[0].lower()
    if facility_name not in FACILITIES:
        raise ConfigError(f"{setting}: facility {facility_name!r} is not one of {', '.join(FACILITIES)}.")
    return SyslogConfig(parts.scheme, parts.hostname, port, FACILITIES[facility_name])


def severity_of(event: Event) -> int:
    if event.kind == Kind.LOG:
        level = int(event.context.get("levelno", 20)) if isinstance(event.context, dict) else 20
        return next(sev for floor, sev in _LEVEL_SEVERITY if level >= floor)
    if is_detect(event):
        return _CATEGORY_SEVERITY.get(event.severity, 4)
    if event.kind in (Kind.ALARM_CLEARED, Kind.EVENT):
        return 5
    return 6


def _ascii_field(value: str, limit: int) -> str:
    """PRINTUSASCII (33–126), at most ``limit`` characters, or the NILVALUE '-'."""
    text = "".join(ch if 33 <= ord(ch) <= 126 else "_" for ch in (value or ""))[:limit]
    return text or "-"


def _sd_value(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _timestamp(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_HOSTNAME = _ascii_field(socket.gethostname(), 255)


def format_message(event: Event, payload: dict, facility: int = 16, *, hostname: str | None = None,
                   max_bytes: int | None = None) -> bytes:
    """One RFC 5424 SYSLOG-MSG for ``event``; ``payload`` is its redacted ``as_dict``."""
    pri = facility * 8 + severity_of(event)
    params = {"eventId": payload.get("eventId"), "kind": event.kind, "condition": payload.get("condition"),
              "severity": payload.get("severity"), "node": payload.get("node"), "source": payload.get("source")}
    sd = "[" + SD_ID + "".join(f' {name}="{_sd_value(value)}"' for name, value in params.items()
                               if value not in (None, "")) + "]"
    header = (f"<{pri}>1 {_timestamp(event.time)} {_ascii_field(hostname or _HOSTNAME, 255)} {APP_NAME} "
              f"{os.getpid()} {_ascii_field(event.kind, 32)} {sd} ")
    text = str(payload.get("message") or "")
    context = payload.get("context")
    if context:
        text += " " + json.dumps(context, ensure_ascii=False, separators=(",", ":"), default=str)
    head, body = header.encode("ascii"), (BOM + text).encode("utf-8")
    if max_bytes is not None and len(head) + len(body) > max_bytes:
        body = body[:max(0, max_bytes - len(head))].decode("utf-8", "ignore").encode("utf-8")
    return head + body


class SyslogTransport:
    """Sends formatted messages; keeps one TCP connection, reconnecting after a failure."""

    def __init__(self, config: SyslogConfig, *, timeout_s: float = 5.0, setting: str = "PACING_SYSLOG"):
        self.config, self.timeout_s, self.setting = config, timeout_s, setting
        self._sock: socket.socket | None = None
        self._addr = None
        self._lock = threading.Lock()
        self.name = f"syslog {config.address}"

    def _resolve(self):
        family = socket.SOCK_DGRAM if self.config.protocol == "udp" else socket.SOCK_STREAM
        try:
            infos = socket.getaddrinfo(self.config.host, self.config.port, type=family)
        except socket.gaierror as exc:
            raise ConfigError(f"{self.setting}: the syslog host {self.config.host!r} does not resolve "
                              f"({exc.strerror or exc}).") from None
        return infos[0]

    def _connect(self) -> socket.socket:
        af, kind, proto, _, addr = self._resolve()
        sock = socket.socket(af, kind, proto)
        sock.settimeout(self.timeout_s)
        if self.config.protocol == "tcp":
            try:
                sock.connect(addr)
            except OSError:
                sock.close()
                raise
        self._addr = addr
        return sock

    def send(self, event: Event, payload: dict) -> None:
        with self._lock:
            if self._sock is None:
                self._sock = self._connect()
            try:
                if self.config.protocol == "udp":
                    message = format_message(event, payload, self.config.facility, max_bytes=MAX_UDP_BYTES)
                    self._sock.sendto(message, self._addr)
                else:
                    message = format_message(event, payload, self.config.facility)
                    self._sock.sendall(str(len(message)).encode("ascii") + b" " + message)
            except OSError:
                self._close()
                raise

    def _close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def close(self) -> None:
        with self._lock:
            self._close()
