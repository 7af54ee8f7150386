"""Typed, forgiving reading of a node's ``metrics`` and ``log`` options (configdb.effective.effective_options).

The seed (pacing-deployment-guide.txt) gives the ``metrics`` option names and their defaults —
``GcFrequency.threshold`` 24, ``GcLatency.threshold`` 1000, ``heapMemoryUsage.threshold`` 0.8,
``reporter.console.enabled`` / ``reporter.log.enabled`` false, ``reporter.messageServer.enabled`` true, every
``reporter.*.logFrequency`` 30min — and no units. The units are ours (docs/alarms.md):

* ``GcLatency.threshold``: milliseconds of one collector pause; a positive number.
* ``GcFrequency.threshold``: full (oldest-generation) collections per minute; a positive number.
* ``heapMemoryUsage.threshold``: a fraction 0–1 (``80%`` is read as 0.8) of the memory limit (alarms/monitors.py).
* ``reporter.*.enabled``: true/false, yes/no, on/off, 1/0 (any letter case).
* ``reporter.*.logFrequency``: ``30min``, ``30s``, ``2h``, ``1d``, ``500ms``, or plain seconds; positive.

The ``log`` section follows Genesys' common log options (the seed only names the section): ``verbose`` is
one of all / debug / trace / interaction / standard / none; ``all``, ``debug``, ``trace``, ``interaction``
and ``standard`` each list outputs (``stdout``, ``stderr``, ``network`` or a file name), comma-separated.

A value that cannot be read never stops a node: the default is used and **one** warning names the option
and the value (logger ``alarms.config``). The same bad value is not warned about again in this process; a
different bad value is.
"""

from __future__ import annotations

import contextvars
import logging
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "LEVELS", "LogOptions", "MetricsOptions", "Reporter", "log_options", "metrics_options", "parse_duration",
    "problems", "reset_warnings",
]

log = logging.getLogger("alarms.config")

_warned: set[tuple[str, str, str, str]] = set()
_warned_lock = threading.Lock()


def reset_warnings() -> None:
    """Forget which bad values were warned about (tests)."""
    with _warned_lock:
        _warned.clear()


#: set by ``problems()``: messages are collected there instead of logged
_collecting: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("alarms_config_collecting",
                                                                               default=None)


def _warn_once(where: str, section: str, key: str, raw: str, problem: str, default: str) -> None:
    collector = _collecting.get()
    if collector is not None:
        collector.append(f"option {section}/{key}={raw[:100]!r} {problem}; the default {default} is used.")
        return
    marker = (where, section, key, raw)
    with _warned_lock:
        if marker in _warned:
            return
        _warned.add(marker)
    prefix = f"{where}: " if where else ""
    log.warning("%soption %s/%s=%r %s; using the default %s.", prefix, section, key, raw[:100], problem, default)


# --- values ----------------------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
          "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400,
          "day": 86400, "days": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_duration(raw: str) -> float:
    """Seconds in ``30min``, ``30s``, ``2h``, ``1d``, ``500ms`` or ``90`` (seconds); ValueError otherwise."""
    match = _DURATION.match(raw or "")
    if not match:
        raise ValueError(raw)
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit not in _UNITS and unit != "":
        raise ValueError(raw)
    seconds = number * _UNITS.get(unit, 1)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(raw)
    return seconds


def _number(raw: str) -> float:
    value = float(raw.strip())
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _fraction(raw: str) -> float:
    text = raw.strip()
    value = _number(text[:-1]) / 100 if text.endswith("%") else _number(text)
    if not 0 < value <= 1:
        raise ValueError(raw)
    return value


def _bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(raw)


class _Reader:
    """Reads one section, each bad value warned about once."""

    def __init__(self, options: Mapping | None, section: str, where: str):
        raw_section = (options or {}).get(section) if isinstance(options, Mapping) else None
        self.values = raw_section if isinstance(raw_section, Mapping) else {}
        self.section, self.where = section, where

    def get(self, key: str, parse, default, problem: str, shown_default: str | None = None):
        raw = self.values.get(key)
        if raw is None:
            return default
        if not isinstance(raw, str):
            raw = str(raw)
        try:
            return parse(raw)
        except (ValueError, TypeError, OverflowError, LookupError):
            _warn_once(self.where, self.section, key, raw, problem,
                       shown_default if shown_default is not None else str(default))
            return default


# --- metrics ---------------------------------------------------------------------------------------------------

DEFAULT_GC_LATENCY_MS = 1000.0
DEFAULT_GC_FREQUENCY_PER_MIN = 24.0
DEFAULT_HEAP_FRACTION = 0.8
DEFAULT_LOG_FREQUENCY_S = 30 * 60.0
REPORTERS = {"console": False, "log": False, "messageServer": True}   # name → enabled by default (seed)


@dataclass(frozen=True)
class Reporter:
    enabled: bool
    frequency_s: float


@dataclass(frozen=True)
class MetricsOptions:
    gc_latency_ms: float = DEFAULT_GC_LATENCY_MS
    gc_frequency_per_min: float = DEFAULT_GC_FREQUENCY_PER_MIN
    heap_fraction: float = DEFAULT_HEAP_FRACTION
    reporters: dict[str, Reporter] = field(default_factory=lambda: {
        name: Reporter(enabled, DEFAULT_LOG_FREQUENCY_S) for name, enabled in REPORTERS.items()})


def metrics_options(options: Mapping | None, *, where: str = "") -> MetricsOptions:
    """The ``metrics`` section of an options table (all sections), typed; ``where`` names the node in warnings."""
    r = _Reader(options, "metrics", where)
    positive = "is not a positive number"

    def positive_number(raw: str) -> float:
        value = _number(raw)
        if value <= 0:
            raise ValueError(raw)
        return value

    reporters = {}
    for name, enabled in REPORTERS.items():
        reporters[name] = Reporter(
            r.get(f"reporter.{name}.enabled", _bool, enabled, "is not true or false", str(enabled).lower()),
            r.get(f"reporter.{name}.logFrequency", parse_duration, DEFAULT_LOG_FREQUENCY_S,
                  "is not a duration (e.g. 30min, 30s, 2h, 1d, or seconds)", "30min"),
        )
    return MetricsOptions(
        gc_latency_ms=r.get("GcLatency.threshold", positive_number, DEFAULT_GC_LATENCY_MS,
                            positive + " of milliseconds", "1000"),
        gc_frequency_per_min=r.get("GcFrequency.threshold", positive_number, DEFAULT_GC_FREQUENCY_PER_MIN,
                                   positive + " of collections per minute", "24"),
        heap_fraction=r.get("heapMemoryUsage.threshold", _fraction, DEFAULT_HEAP_FRACTION,
                            "is not a fraction above 0 and at most 1 (e.g. 0.8 or 80%)", "0.8"),
        reporters=reporters,
    )


# --- log -------------------------------------------------------------------------------------------------------

#: Genesys log levels → Python levels (ours). "interaction" sits between INFO and WARNING.
INTERACTION = 25
NONE = logging.CRITICAL + 10
LEVELS: dict[str, int] = {"all": logging.NOTSET, "debug": logging.DEBUG, "trace": logging.INFO,
                          "interaction": INTERACTION, "standard": logging.WARNING, "none": NONE}
#: the verbose value → the process's level ("all" is every level: DEBUG)
VERBOSE: dict[str, int] = {**LEVELS, "all": logging.DEBUG}
#: the output options, in the order Genesys lists them; each sends records of its level and above
OUTPUT_KEYS = ("all", "debug", "trace", "interaction", "standard")
STREAMS = ("stdout", "stderr")
NETWORK = "network"
_UNSUPPORTED_OUTPUTS = {"memory", "buffering"}


@dataclass(frozen=True)
class LogOptions:
    level: int | None                       # None: verbose unset or unreadable (the process keeps LOG_LEVEL)
    outputs: dict[str, int]                 # output (stdout, stderr, network, a file name) → lowest level sent

    @property
    def network(self) -> bool:
        return NETWORK in self.outputs


def log_options(options: Mapping | None, *, where: str = "") -> LogOptions:
    """The ``log`` section of an options table (all sections), typed; see the module docstring."""
    r = _Reader(options, "log", where)
    choices = ", ".join(VERBOSE)

    def verbose(raw: str) -> int:
        return VERBOSE[raw.strip().lower()]

    level = r.get("verbose", verbose, None, f"is not one of {choices}", "(the process's LOG_LEVEL)")
    outputs: dict[str, int] = {}
    for key in OUTPUT_KEYS:
        raw = r.values.get(key)
        if raw is None:
            continue
        raw = str(raw)
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            lowered = item.lower()
            if lowered in _UNSUPPORTED_OUTPUTS:
                _warn_once(where, "log", key, raw, f"names the output {item!r}, which this server does not "
                           "support (it is skipped)", "for the other outputs listed")
                continue
            if "\x00" in item:
                _warn_once(where, "log", key, raw, "names an output that is not a file name", "without it")
                continue
            name = lowered if lowered in (*STREAMS, NETWORK) else item
            outputs[name] = min(outputs.get(name, LEVELS[key]), LEVELS[key])
    return LogOptions(level, outputs)


def problems(options: Mapping | None) -> list[str]:
    """Every unreadable ``metrics`` and ``log`` value of an options table, as sentences (for the config doctor);
    nothing is logged and the warn-once memory is untouched."""
    found: list[str] = []
    token = _collecting.set(found)
    try:
        metrics_options(options)
        log_options(options)
    finally:
        _collecting.reset(token)
    return found
