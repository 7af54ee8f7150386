"""The node's own health: collector pauses, collections per minute, resident memory — and the metrics report.

A ``Monitor(node, options_provider)`` samples every few seconds on a daemon thread (``start()`` /
``stop()``; ``sample()`` does one round, for tests). ``options_provider()`` returns the node's effective
options (configdb.effective.effective_options); ``Monitor.for_node(name)`` builds one that reads them from
the database, refreshed every 30 s, and also applies the ``log`` section (alarms.logconfig).

**GC latency** (ours: how the Java collector's pause maps onto Python). A ``gc.callbacks`` hook measures each
pause, from the collector's "start" to its "stop" phase. The hook is cheap — two clock reads and a
``deque.append`` — and never touches the database or the alarms: the monitor thread drains the queue. A
pause longer than ``metrics/GcLatency.threshold`` (ms, default 1000) raises **GC Latency**
(``alarms.runtime.raise_alarm``; source and node = this node).

**GC frequency** (ours). ``metrics/GcFrequency.threshold`` (default 24) is compared with the *full*
collections (generation 2, Python's oldest, the nearest thing to Java's old-generation collections) in the
last 60 s; the young generations run hundreds of times a minute by design and are only reported. Above the
threshold it raises **GC Latency** too (the five conditions have no frequency alarm; the message says which
threshold was crossed). The alarm clears when neither threshold has been crossed for ``clear_after_s``
(60 s by default).

**Heap memory usage** (ours: a Python process has no heap maximum like Java's ``-Xmx``). The used fraction is
the process's resident set size (``/proc/self/statm``; elsewhere the peak RSS from ``resource``) divided by
a limit, the first of: ``PACING_MEMORY_LIMIT_MB`` (setting or environment), the cgroup's memory limit
(v2 ``memory.max``, v1 ``memory.limit_in_bytes``), the machine's physical memory. Above
``metrics/heapMemoryUsage.threshold`` (default 0.8) it raises **Heap Memory Usage**; it clears when the
fraction has been at or under the threshold for ``clear_after_s``.

While a condition lasts, the alarm is raised again every ``reraise_s`` (300 s) — its last detection moves,
so the 86400 s timeout clears it only after the condition has really gone. The first sample after start
clears what a previous process of this node left active, if the condition is not present.

**Reports.** Each reporter — ``reporter.console`` (stdout, one JSON line), ``reporter.log`` (logger
``pacing.metrics``, INFO) and ``reporter.messageServer`` (the sinks, ``Kind.METRICS``; only with a Message
Server connection, like the network log output) — writes a report every ``logFrequency`` when ``enabled``,
covering the time since its previous report: GC pauses (count, max, total), collections per generation,
full collections in the last minute, RSS, the limit and its source, the fraction and the thresholds.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog
from .config import MetricsOptions, metrics_options

__all__ = ["Monitor", "memory_limit", "resident_bytes"]

log = logging.getLogger("alarms.monitors")
metrics_log = logging.getLogger("pacing.metrics")

INTERVAL_S = 5.0
FREQUENCY_WINDOW_S = 60.0
MAX_QUEUED_PAUSES = 100_000
OLDEST_GENERATION = len(gc.get_count()) - 1   # 2 on CPython 3.11–3.13: a full collection


# --- memory ----------------------------------------------------------------------------------------------------

def resident_bytes() -> tuple[int, str]:
    """(bytes, how): the current RSS from /proc/self/statm, else the peak RSS from ``resource``."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE"), "rss"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (peak if sys.platform == "darwin" else peak * 1024), "peak rss"
    except (ImportError, OSError):  # pragma: no cover - a platform with neither
        return 0, "unknown"


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < (1 << 60):   # "max", or v1's "no limit" 9223372036854771712
            return int(text)
    return None


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


_limit_warned: set[str] = set()


def memory_limit(setting: str | float | None = None) -> tuple[int | None, str]:
    """(bytes, source) of the limit the heap fraction is taken of; see the module docstring."""
    raw = setting
    if raw is None:
        raw = os.environ.get("PACING_MEMORY_LIMIT_MB", "")
        try:
            from django.conf import settings

            if settings.configured and getattr(settings, "PACING_MEMORY_LIMIT_MB", ""):
                raw = settings.PACING_MEMORY_LIMIT_MB
        except Exception:  # noqa: S110 - no settings: the environment
            pass
    if raw not in (None, ""):
        try:
            megabytes = float(raw)
            if not megabytes > 0:
                raise ValueError
            return int(megabytes * 1024 * 1024), "PACING_MEMORY_LIMIT_MB"
        except (TypeError, ValueError):
            if str(raw) not in _limit_warned:
                _limit_warned.add(str(raw))
                log.warning("PACING_MEMORY_LIMIT_MB=%r is not a positive number of megabytes; the cgroup limit or "
                            "the physical memory is used.", str(raw)[:40])
    cgroup = _cgroup_limit()
    if cgroup:
        return cgroup, "cgroup"
    physical = _physical_memory()
    return (physical, "physical memory") if physical else (None, "unknown")


# --- the collector hook ----------------------------------------------------------------------------------------

class _GcHook:
    """The ``gc.callbacks`` entry: records (monotonic end time, pause ms, generation). Nothing else."""

    def __init__(self):
        self.pauses: deque[tuple[float, float, int]] = deque(maxlen=MAX_QUEUED_PAUSES)
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start:
            end = time.perf_counter()
            self.pauses.append((time.monotonic(), (end - self._start) * 1000.0, info.get("generation", -1)))
            self._start = 0.0

    def drain(self) -> list[tuple[float, float, int]]:
        out = []
        pop = self.pauses.popleft
        try:
            while True:
                out.append(pop())
        except IndexError:
            return out


@dataclass
class _Window:
    """What one reporter has seen since its last report."""

    since: float
    pauses: int = 0
    max_ms: float = 0.0
    total_ms: float = 0.0
    generations: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 2: 0})

    def add(self, pause_ms: float, generation: int) -> None:
        self.pauses += 1
        self.total_ms += pause_ms
        self.max_ms = max(self.max_ms, pause_ms)
        self.generations[generation] = self.generations.get(generation, 0) + 1


@dataclass
class _AlarmState:
    active: bool | None = None          # None: unknown (nothing done since start)
    last_raised: float = 0.0
    last_bad: float = 0.0


# --- the monitor -----------------------------------------------------------------------------------------------

class Monitor:
    def __init__(self, node: str, options_provider: Callable[[], Mapping | None], *,
                 message_server: Callable[[], bool] | bool = True, interval_s: float = INTERVAL_S,
                 clear_after_s: float = 60.0, reraise_s: float = 300.0, memory_limit_mb: float | None = None,
                 manage_logging: bool = False, stdout=None):
        self.node = node
        self.options_provider = options_provider
        self._message_server = message_server
        self.interval_s = interval_s
        self.clear_after_s, self.reraise_s = clear_after_s, reraise_s
        self.memory_limit_mb = memory_limit_mb
        self.manage_logging = manage_logging
        self.stdout = stdout
        self._hook = _GcHook()
        self._full: deque[float] = deque(maxlen=10_000)   # end times of full collections, for the last minute
        now = time.monotonic()
        self._windows = {name: _Window(now) for name in ("console", "log", "messageServer")}
        self._gc_alarm, self._heap_alarm = _AlarmState(), _AlarmState()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.last: dict = {}

    # life cycle
    def install(self) -> None:
        """Hook the collector (idempotent); ``start`` does it too."""
        if self._hook not in gc.callbacks:
            gc.callbacks.append(self._hook)

    def uninstall(self) -> None:
        while self._hook in gc.callbacks:
            gc.callbacks.remove(self._hook)

    def start(self) -> Monitor:
        self.install()
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"pacing-monitor {self.node}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self.uninstall()

    def __enter__(self) -> Monitor:
        self.install()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception:
                log.exception("%s: monitor sample failed", self.node)
            finally:
                _close_db_connections()
            self._stop.wait(self.interval_s)

    # one round
    def sample(self, now: float | None = None) -> dict:
        """Drain the collector's pauses, check the thresholds (raise / clear), write the reports that are due.
        Returns what it measured."""
        with self._lock:
            now = time.monotonic() if now is None else now
            options = self._options()
            metrics = metrics_options(options, where=self.node)
            connected = self._connected()
            if self.manage_logging:
                self._apply_logging(options, connected)
            pauses = self._hook.drain()
            for end, pause_ms, generation in pauses:
                if generation == OLDEST_GENERATION:
                    self._full.append(end)
                for window in self._windows.values():
                    window.add(pause_ms, generation)
            while self._full and self._full[0] < now - FREQUENCY_WINDOW_S:
                self._full.popleft()
            worst = max((p for _, p, _ in pauses), default=0.0)
            worst_generation = max(pauses, key=lambda p: p[1])[2] if pauses else None
            full_per_min = len(self._full)
            rss, rss_how = resident_bytes()
            limit, limit_source = memory_limit(self.memory_limit_mb)
            fraction = rss / limit if limit else 0.0
            measured = {"pause_max_ms": round(worst, 3), "pauses": len(pauses), "full_collections_per_min":
                        full_per_min, "rss_bytes": rss, "rss_how": rss_how, "limit_bytes": limit,
                        "limit_source": limit_source, "fraction": round(fraction, 4)}
            self._check_gc(now, metrics, worst, worst_generation, full_per_min)
            self._check_heap(now, metrics, rss, limit, limit_source, fraction)
            self._report(now, metrics, connected, measured)
            self.last = measured
            return measured

    def _options(self) -> Mapping | None:
        try:
            return self.options_provider()
        except Exception:
            log.warning("%s: could not read the node's options; the defaults apply this round.", self.node,
                        exc_info=True)
            return None

    def _connected(self) -> bool:
        if callable(self._message_server):
            try:
                return bool(self._message_server())
            except Exception:
                return False
        return bool(self._message_server)

    def _apply_logging(self, options, connected: bool) -> None:
        from .logconfig import apply_log_options

        try:
            apply_log_options(options, node=self.node, message_server_connected=connected)
        except Exception:
            log.warning("%s: could not apply the log options", self.node, exc_info=True)

    # alarms (on the monitor's thread, never in the collector's hook)
    def _check_gc(self, now: float, metrics: MetricsOptions, worst: float, generation, full_per_min: int) -> None:
        reasons = []
        context: dict = {"thresholdMs": metrics.gc_latency_ms, "frequencyThresholdPerMin": metrics.gc_frequency_per_min,
                         "fullCollectionsPerMin": full_per_min}
        if worst > metrics.gc_latency_ms:
            reasons.append(f"a garbage-collection pause of {worst:.1f} ms (generation {generation}) exceeded "
                           f"GcLatency.threshold {metrics.gc_latency_ms:g} ms")
            context.update(pauseMs=round(worst, 3), generation=generation)
        if full_per_min > metrics.gc_frequency_per_min:
            reasons.append(f"{full_per_min} full collections in the last minute exceeded GcFrequency.threshold "
                           f"{metrics.gc_frequency_per_min:g} per minute")
        self._act(self._gc_alarm, catalog.GC_LATENCY, now, reasons, context,
                  "garbage-collection pauses and frequency are back under their thresholds")

    def _check_heap(self, now: float, metrics: MetricsOptions, rss: int, limit, source: str, fraction: float) -> None:
        reasons = []
        context = {"rssBytes": rss, "limitBytes": limit, "limitSource": source, "fraction": round(fraction, 4),
                   "threshold": metrics.heap_fraction}
        if limit and fraction > metrics.heap_fraction:
            reasons.append(f"resident memory {rss / 1048576:.1f} MiB is {fraction:.1%} of the {source} limit "
                           f"{limit / 1048576:.0f} MiB, above heapMemoryUsage.threshold {metrics.heap_fraction:g}")
        self._act(self._heap_alarm, catalog.HEAP_MEMORY_USAGE, now, reasons, context,
                  f"resident memory is back under heapMemoryUsage.threshold ({fraction:.1%})")

    def _act(self, state: _AlarmState, code: str, now: float, reasons: list[str], context: dict,
             clear_message: str) -> None:
        from . import runtime

        if reasons:
            state.last_bad = now
            if state.active and now - state.last_raised < self.reraise_s:
                return
            try:
                runtime.raise_alarm(code, f"{self.node}: " + "; ".join(reasons) + ".", context, source=self.node,
                                    node=self.node)
            except Exception:
                log.warning("%s: could not raise %s; tried again next round", self.node, code, exc_info=True)
                return
            state.active, state.last_raised = True, now
            return
        if state.active is False or (state.active and now - state.last_bad < self.clear_after_s):
            return
        try:
            runtime.clear_alarm(code, f"{self.node}: {clear_message}.", context, source=self.node, node=self.node)
        except Exception:
            log.warning("%s: could not clear %s; tried again next round", self.node, code, exc_info=True)
            return
        state.active = False

    # reports
    def _report(self, now: float, metrics: MetricsOptions, connected: bool, measured: dict) -> None:
        for name, window in self._windows.items():
            reporter = metrics.reporters[name]
            if now - window.since < reporter.frequency_s:
                continue
            self._windows[name] = _Window(now)
            if not reporter.enabled or (name == "messageServer" and not connected):
                continue
            report = self._report_body(now, window, metrics, measured)
            try:
                self._write(name, report)
            except Exception:
                log.warning("%s: could not write the %s metrics report", self.node, name, exc_info=True)

    def _report_body(self, now: float, window: _Window, metrics: MetricsOptions, measured: dict) -> dict:
        return {
            "node": self.node, "periodSeconds": round(now - window.since, 1),
            "gc": {"pauses": window.pauses, "pauseMaxMs": round(window.max_ms, 3),
                   "pauseTotalMs": round(window.total_ms, 3),
                   "collections": {f"gen{g}": n for g, n in sorted(window.generations.items())},
                   "fullCollectionsPerMin": measured["full_collections_per_min"],
                   "latencyThresholdMs": metrics.gc_latency_ms,
                   "frequencyThresholdPerMin": metrics.gc_frequency_per_min},
            "memory": {"rssBytes": measured["rss_bytes"], "limitBytes": measured["limit_bytes"],
                       "limitSource": measured["limit_source"], "fraction": measured["fraction"],
                       "threshold": metrics.heap_fraction},
        }

    def _write(self, name: str, report: dict) -> None:
        text = json.dumps(report, separators=(",", ":"))
        if name == "console":
            stream = self.stdout or sys.stdout
            stream.write(f"metrics {text}\n")
            stream.flush()
        elif name == "log":
            metrics_log.info("metrics %s", text)
        else:
            from . import sinks
            from .events import Event, Kind

            sinks.emit(Event(Kind.METRICS, None, f"{self.node}: metrics report", node=self.node, source=self.node,
                             context=report))

    # built from the database
    @classmethod
    def for_node(cls, node: str, *, application: str | None = None, refresh_s: float = 30.0, **kwargs) -> Monitor:
        """A monitor of node ``node`` whose options and Message Server connection are those of the application
        named ``application`` (default: ``node``), read from the database (configdb.effective) at most every
        ``refresh_s``; the ``log`` section is applied too."""
        source = _DatabaseOptions(application or node, refresh_s)
        kwargs.setdefault("manage_logging", True)
        return cls(node, source.options, message_server=source.connected, **kwargs)


class _DatabaseOptions:
    def __init__(self, node: str, refresh_s: float):
        self.node, self.refresh_s = node, refresh_s
        self._loaded_at = -1e18
        self._options: dict | None = None
        self._connected = False
        self._missing_warned = False

    def _load(self) -> None:
        if time.monotonic() - self._loaded_at < self.refresh_s:
            return
        from configdb.effective import cluster_of, effective_options, message_servers
        from configdb.models import Application

        self._loaded_at = time.monotonic()
        try:
            app = Application.objects.filter(name=self.node).first()
            if app is None:
                if not self._missing_warned:
                    self._missing_warned = True
                    log.warning("%s: no application of this name in the configuration; the metrics defaults apply.",
                                self.node)
                self._options, self._connected = None, False
                return
            cluster = cluster_of(app)
            self._options = effective_options(app, cluster)
            self._connected = bool(message_servers(app, cluster))
        except Exception:
            log.warning("%s: could not read the configuration; the last options read are kept.", self.node,
                        exc_info=True)

    def options(self) -> dict | None:
        self._load()
        return self._options

    def connected(self) -> bool:
        self._load()
        return self._connected


def _close_db_connections() -> None:
    """The monitor thread's own database connections (opened by the alarm runtime) are not kept between rounds."""
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: S110 - Django not set up (a bare monitor): nothing to close
        pass
