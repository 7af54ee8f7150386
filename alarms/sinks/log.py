"""The structured log: every event, with its id, written synchronously to the logger ``pacing.events``.

The message is the event as one JSON object (``Event.as_dict``), secrets masked; the record's ``extra``
carries ``event_id``, ``condition``, ``node``, ``source``, ``severity`` and ``event_kind`` for handlers
that format fields. The record's level follows the event (ours): a raised alarm or a detect event logs at
its category's level (critical → CRITICAL, major → ERROR, minor → WARNING), everything else — clears,
cancel events, metrics reports — at INFO.
"""

from __future__ import annotations

import json
import logging

from .. import catalog
from ..events import Event, Kind

__all__ = ["LOGGER", "level_of", "write"]

LOGGER = "pacing.events"
log = logging.getLogger(LOGGER)

_SEVERITY_LEVEL = {"critical": logging.CRITICAL, "major": logging.ERROR, "minor": logging.WARNING}


def is_detect(event: Event) -> bool:
    if event.kind == Kind.ALARM_RAISED:
        return True
    if event.kind != Kind.EVENT or event.event_id is None:
        return False
    condition = catalog.BY_EVENT.get(event.event_id)
    return condition is not None and condition.detect_event_id == event.event_id


def level_of(event: Event) -> int:
    if is_detect(event):
        return _SEVERITY_LEVEL.get(event.severity, logging.WARNING)
    return logging.INFO


def to_json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str, sort_keys=False)


def write(event: Event, payload: dict) -> None:
    """Log ``payload`` (the event's redacted ``as_dict``); cheap, synchronous, never raises."""
    level = level_of(event)
    if not log.isEnabledFor(level):
        return
    try:
        log.log(level, to_json(payload), extra={
            "event_id": event.event_id, "condition": event.condition, "node": event.node,
            "source": event.source, "severity": event.severity, "event_kind": event.kind})
    except Exception:  # pragma: no cover - logging itself reports handler errors; never break the caller
        logging.getLogger("alarms.sinks").debug("structured log write failed", exc_info=True)
