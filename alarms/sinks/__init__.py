"""The Message Server role: where alarms, numbered events, metrics reports and network log lines go.

``emit(event)`` returns at once and never raises:

1. the event goes to the **structured log** (logger ``pacing.events``, alarms.sinks.log), synchronously;
2. and to each configured **network sink** — syslog (RFC 5424, ``PACING_SYSLOG``) and a webhook (JSON POST,
   ``PACING_ALARM_WEBHOOK``) — through one background dispatcher thread per sink with a bounded queue
   (``PACING_SINK_QUEUE``, default 1000). When a queue is full the oldest event is dropped and a warning
   counts the drops (at most one warning per 10 s per sink). A sink that fails or hangs delays only its own
   thread.

``emit_network(event)`` is step 2 alone: the ``network`` log output (alarms.logconfig) uses it for
ordinary log records, which are in the log already.

Every payload is redacted before it leaves: context keys that name a secret are masked
(configdb.secrets) and every text passes through the redactor named by ``PACING_SINK_REDACT`` (the
settings name ``pacingsite.logfilters.redact``, the same one the log handlers use; the setting keeps this
package below ``pacingsite`` in the layering).

Configuration is read once per process, on the first event (or ``configure()``). A setting that cannot work
— a scheme that is not udp/tcp or http(s), a bad port, a bad queue size — is logged once as an ERROR naming
the setting, that sink is left out and the others work; ``problems()`` lists these for the config doctor. A
syslog host that does not resolve is found on the dispatcher thread: one ERROR naming ``PACING_SYSLOG``,
events are dropped (counted) and the name is tried again every 60 s.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from configdb.secrets import MASK, is_secret_key

from ..events import Event, Kind
from . import log as log_sink
from . import syslog, webhook

__all__ = ["Dispatcher", "configure", "emit", "emit_network", "flush", "network_sinks", "payload_of", "problems",
           "redactor", "reset"]

log = logging.getLogger("alarms.sinks")

DEFAULT_QUEUE = 1000
WARN_EVERY_S = 10.0
RESOLVE_RETRY_S = 60.0


# --- redaction -------------------------------------------------------------------------------------------------

def _identity(text: str) -> str:
    return text


def _load_redactor() -> Callable[[str], str]:
    try:
        from django.conf import settings
        from django.utils.module_loading import import_string

        path = getattr(settings, "PACING_SINK_REDACT", "") if settings.configured else ""
        return import_string(path) if path else _identity
    except Exception:
        log.error("PACING_SINK_REDACT: cannot import the redactor; payloads are sent with secret keys masked only.")
        return _identity


def _redact_value(value: Any, redact: Callable[[str], str], depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping) and depth < 5:
        return {str(k): (MASK if is_secret_key(str(k)) and v else _redact_value(v, redact, depth + 1))
                for k, v in value.items()}
    if isinstance(value, list | tuple) and depth < 5:
        return [_redact_value(v, redact, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def redactor() -> Callable[[str], str]:
    """The configured redactor (PACING_SINK_REDACT), reading the configuration on first use."""
    network_sinks()
    return _state.redact


def payload_of(event: Event) -> dict:
    """``event.as_dict()`` with secrets masked: what every sink writes or sends."""
    return _redact_value(event.as_dict(), _state.redact)


# --- the dispatcher --------------------------------------------------------------------------------------------

class Dispatcher:
    """One daemon thread delivering to one transport from a bounded queue; ``submit`` never blocks."""

    def __init__(self, transport, *, maxsize: int = DEFAULT_QUEUE):
        self.transport, self.name, self.maxsize = transport, transport.name, max(1, maxsize)
        self._queue: deque[tuple[Event, dict]] = deque()
        self._cv = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = False
        self._suspended_until = 0.0
        self._config_error: str | None = None
        self._last_warning = {"drop": 0.0, "fail": 0.0}
        self.sent = self.failed = self.dropped = 0

    # the caller's side: O(1), a lock held for a few instructions
    def submit(self, event: Event, payload: dict) -> None:
        dropped = False
        with self._cv:
            if self._stopping:
                return
            if len(self._queue) >= self.maxsize:
                self._queue.popleft()
                self.dropped += 1
                dropped = True
            self._queue.append((event, payload))
            self._cv.notify()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"alarm-sink {self.name}", daemon=True)
                self._thread.start()
        if dropped:
            self._warn("drop", "%s: the queue is full (%d events): dropped the oldest; %d dropped so far.",
                       self.name, self.maxsize, self.dropped)

    def _warn(self, kind: str, message: str, *args) -> None:
        now = time.monotonic()
        if now - self._last_warning[kind] >= WARN_EVERY_S:
            self._last_warning[kind] = now
            log.warning(message, *args)

    # the dispatcher's side
    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if not self._queue:
                    return
                event, payload = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(event, payload)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _deliver(self, event: Event, payload: dict) -> None:
        if time.monotonic() < self._suspended_until:
            with self._cv:
                self.dropped += 1
            return
        try:
            self.transport.send(event, payload)
        except (syslog.ConfigError, webhook.ConfigError) as exc:
            with self._cv:
                self.dropped += 1
            self._suspended_until = time.monotonic() + RESOLVE_RETRY_S
            if self._config_error != str(exc):
                self._config_error = str(exc)
                log.error("%s Events for %s are dropped; the name is tried again every %d s.", exc, self.name,
                          RESOLVE_RETRY_S)
            return
        except Exception as exc:
            self.failed += 1
            if self._stopping:      # closed while this delivery was in flight: the process (or test) has moved on,
                return              # and its log may already be gone
            self._warn("fail", "%s: could not deliver event %s (%s): %s; %d failed so far.", self.name,
                       event.event_id if event.event_id is not None else event.kind, exc.__class__.__name__,
                       exc, self.failed)
            return
        self.sent += 1
        if self._config_error is not None:
            log.warning("%s: delivering again.", self.name)
            self._config_error = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the queue is empty and nothing is in flight (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def close(self, timeout: float = 2.0) -> None:
        self.flush(timeout)
        with self._cv:
            self._stopping = True
            self._queue.clear()
            self._cv.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with contextlib.suppress(Exception):  # closing a broken transport at shutdown: nothing to report
            self.transport.close()


# --- configuration ---------------------------------------------------------------------------------------------

class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.sinks: list[Dispatcher] | None = None
        self.problems: list[str] = []
        self.redact: Callable[[str], str] = _identity


_state = _State()


def _setting(name: str, default: str = "") -> str:
    try:
        from django.conf import settings

        if settings.configured:
            return str(getattr(settings, name, default) or default)
    except Exception:  # noqa: S110 - settings unavailable: the default applies
        pass
    return default


def _queue_size(raw: str, problems: list[str]) -> int:
    try:
        size = int(str(raw).strip() or DEFAULT_QUEUE)
        if size < 1:
            raise ValueError
        return size
    except ValueError:
        problems.append(f"PACING_SINK_QUEUE: {str(raw)[:40]!r} is not a positive whole number; using {DEFAULT_QUEUE}.")
        return DEFAULT_QUEUE


def _build(syslog_url: str, webhook_url: str, queue: str, webhook_token: str,
           webhook_tuning: dict | None) -> tuple[list[Dispatcher], list[str]]:
    problems: list[str] = []
    size = _queue_size(queue, problems)
    sinks: list[Dispatcher] = []
    if syslog_url.strip():
        try:
            sinks.append(Dispatcher(syslog.SyslogTransport(syslog.parse_url(syslog_url)), maxsize=size))
        except syslog.ConfigError as exc:
            problems.append(f"{exc} The syslog sink is off.")
    if webhook_url.strip():
        try:
            config = webhook.parse_url(webhook_url, token=webhook_token, **(webhook_tuning or {}))
            sinks.append(Dispatcher(webhook.WebhookTransport(config), maxsize=size))
        except webhook.ConfigError as exc:
            problems.append(f"{exc} The webhook sink is off.")
    return sinks, problems


def configure(*, syslog_url: str | None = None, webhook_url: str | None = None, queue: str | int | None = None,
              webhook_token: str | None = None, webhook_tuning: dict | None = None) -> list[Dispatcher]:
    """(Re)build the network sinks; arguments left None come from the settings. Returns the sinks.

    Each configuration problem is logged once (an ERROR naming the setting) and listed by ``problems()``.
    """
    new, found = _build(
        _setting("PACING_SYSLOG") if syslog_url is None else syslog_url,
        _setting("PACING_ALARM_WEBHOOK") if webhook_url is None else webhook_url,
        _setting("PACING_SINK_QUEUE", str(DEFAULT_QUEUE)) if queue is None else str(queue),
        _setting("PACING_ALARM_WEBHOOK_TOKEN") if webhook_token is None else webhook_token,
        webhook_tuning)
    with _state.lock:
        old, _state.sinks, _state.problems = _state.sinks, new, found
        _state.redact = _load_redactor()
    for problem in found:
        log.error("Alarm sink configuration: %s", problem)
    for dispatcher in old or ():
        # long enough for a delivery in flight to time out and finish, so no thread outlives the reset
        dispatcher.close(timeout=2.0)
    return new


def network_sinks() -> list[Dispatcher]:
    sinks = _state.sinks
    if sinks is None:
        with _state.lock:
            configured = _state.sinks is not None
        if not configured:
            try:
                configure()
            except Exception:
                log.exception("Alarm sink configuration failed; only the structured log is written.")
                with _state.lock:
                    _state.sinks = _state.sinks if _state.sinks is not None else []
        sinks = _state.sinks or []
    return sinks


def problems() -> list[str]:
    """The configuration problems of the network sinks (for the config doctor)."""
    network_sinks()
    return list(_state.problems)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every sink's queue is delivered (or given up); False if one is still busy at the timeout."""
    deadline = time.monotonic() + timeout
    return all(d.flush(max(0.0, deadline - time.monotonic())) for d in list(_state.sinks or ()))


def reset() -> None:
    """Close the network sinks and forget the configuration (the next event reads the settings again)."""
    with _state.lock:
        old, _state.sinks, _state.problems = _state.sinks, None, []
    for dispatcher in old or ():
        # long enough for a delivery in flight to time out and finish, so no thread outlives the reset
        dispatcher.close(timeout=2.0)


def _after_fork_in_child() -> None:
    """A forked worker (gunicorn, Celery prefork) has none of the parent's dispatcher threads: start afresh."""
    global _state
    _state = _State()


atexit.register(lambda: flush(2.0))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# --- emitting --------------------------------------------------------------------------------------------------

def emit_network(event: Event, payload: dict | None = None) -> None:
    """To the network sinks only; never blocks, never raises."""
    try:
        sinks = network_sinks()
        if not sinks:
            return
        payload = payload if payload is not None else payload_of(event)
        for dispatcher in sinks:
            dispatcher.submit(event, payload)
    except Exception:  # a sink must never break the caller
        log.debug("network sink submit failed", exc_info=True)


def emit(event: Event) -> None:
    """To the structured log (synchronously) and to the network sinks (in the background)."""
    try:
        network_sinks()  # reads the configuration (and the redactor) on the first event
        payload = payload_of(event)
    except Exception:
        log.debug("event payload failed", exc_info=True)
        return
    if event.kind != Kind.LOG:  # a log line is in the log already
        log_sink.write(event, payload)
    emit_network(event, payload)
