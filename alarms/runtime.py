"""Raising and clearing alarms, as Solution Control Server does from the log events of an application.

A pacing node does not raise an alarm by name: it *logs an event* with an id, and every enabled alarm
condition whose detect event id that is raises an alarm; the condition's cancel event clears it
(Configuration Server's CfgAlarmCondition). ``raise_alarm(code, …)`` logs the detect event of the catalog
condition ``code`` (alarms/catalog.py), ``clear_alarm(code, …)`` its cancel event; both go to the sinks
(the Message Server role, ``alarms.sinks``) and return at once.

* A condition that is missing or disabled in configdb raises nothing; the detect event is still logged
  with its id, as Configuration Server would behave.
* Raising an active alarm again updates it (count, last detection, node, message, context, expiry). One
  active alarm per condition and **source** (ours: the source is what the alarm is about — the pacing
  cluster for the three request alarms, the node for GC and memory — so two clusters failing are two
  alarms, and two nodes of one cluster are one). A partial unique index enforces it: the update is tried
  first, then an insert inside a savepoint; the insert that loses a race fails on the index and updates the
  winner's row instead, so two nodes raising at once leave one active alarm.
* An alarm clears on the cancel event (same condition and source), when the condition's timeout has passed
  since its last detection (``expire_due``; a timeout of 0 never expires; ours: "since the last detection",
  so an alarm that keeps being detected stays), or by an administrator (``alarms.services``).
* Cleared alarms are history, pruned to the newest ``PACING_ALARM_HISTORY`` rows (default 10,000).

Errors of the database are logged and swallowed here: the pacing cycle and the monitors call these
functions and must never fail (or wait on a sink) because an alarm could not be written.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from configdb.models import AlarmCondition, State
from configdb.secrets import MASK, is_secret_key

from . import catalog
from .events import Event, Kind
from .models import Alarm, AlarmState, ClearReason

__all__ = ["clear_alarm", "expire_due", "log_event", "prune_history", "raise_alarm"]

log = logging.getLogger("alarms.runtime")

MAX_MESSAGE = 4000
MAX_CONTEXT_ITEMS = 50


def _history_limit() -> int:
    return int(getattr(settings, "PACING_ALARM_HISTORY", 10_000))


def clean_context(context: Mapping[str, Any] | None, depth: int = 0) -> dict[str, Any]:
    """JSON-ready, bounded, and with secret-looking keys masked: contexts come from code paths that hold
    credentials (the GPE client), and alarms are shown, logged and sent over the network."""
    if not context:
        return {}
    out: dict[str, Any] = {}
    for key, value in list(context.items())[:MAX_CONTEXT_ITEMS]:
        key = str(key)[:100]
        if is_secret_key(key) and value:
            out[key] = MASK
        elif value is None or isinstance(value, bool | int | float):
            out[key] = value
        elif isinstance(value, Mapping) and depth < 2:
            out[key] = clean_context(value, depth + 1)
        elif isinstance(value, list | tuple) and depth < 2:
            out[key] = [v if isinstance(v, bool | int | float | type(None)) else str(v)[:500] for v in value[:50]]
        else:
            out[key] = str(value)[:500]
    return out


def _emit(event: Event) -> None:
    """To the sinks (structured log always; syslog / webhook when configured); never blocks, never raises."""
    from .metrics import ALARM_EVENTS

    ALARM_EVENTS.labels(event.kind, event.condition).inc()
    try:
        from . import sinks
    except ImportError:  # pragma: no cover - the sinks package ships with the app
        log.warning("%s %s", event.event_id, event.message)
        return
    try:
        sinks.emit(event)
    except Exception:  # a sink must never break the caller
        log.exception("alarm sink failed for event %s", event.event_id)


def _conditions(event_field: str, event_id: int, tenant: str | None) -> list[AlarmCondition]:
    queryset = AlarmCondition.objects.filter(**{event_field: event_id}, state=State.ENABLED).select_related("tenant")
    if tenant:
        queryset = queryset.filter(tenant__name=tenant)
    return list(queryset.order_by("pk"))


def log_event(event_id: int, message: str, *, condition: str = "", node: str = "", source: str = "",
              context: Mapping[str, Any] | None = None) -> None:
    """Log a numbered event that raises nothing (its condition is missing or disabled)."""
    _emit(Event(Kind.EVENT, event_id, message or f"event {event_id}", condition=condition, node=node,
                source=source, context=clean_context(context)))


def _upsert(condition: AlarmCondition, *, now: datetime.datetime, source: str, node: str, message: str,
            context: dict) -> tuple[Alarm, bool]:
    expires = now + datetime.timedelta(seconds=condition.timeout) if condition.timeout else None
    changes = {"last_detected": now, "node": node, "message": message, "context": context, "expires_at": expires,
               "severity": condition.category}
    active = Alarm.objects.filter(condition=condition, source=source, state=AlarmState.ACTIVE)
    for _ in range(3):
        with transaction.atomic():
            if active.update(count=F("count") + 1, **changes):
                return active.get(), False
            try:
                with transaction.atomic():  # a savepoint: losing the race on the unique index is not an error
                    alarm = Alarm.objects.create(
                        condition=condition, condition_name=condition.name, tenant=condition.tenant,
                        source=source, detect_event_id=condition.detect_event_id,
                        cancel_event_id=condition.cancel_event_id, first_detected=now, count=1, **changes)
                return alarm, True
            except IntegrityError:
                continue  # another node inserted it first: update that one
    return active.get(), False


def raise_alarm(code: str | int, message: str = "", context: Mapping[str, Any] | None = None, *,
                source: str = "", node: str = "", tenant: str | None = None) -> Alarm | None:
    """Log the detect event of condition ``code``; raise (or update) the alarm of every enabled condition
    that detects it. Returns the alarm (the first, if several tenants' conditions matched), or None."""
    spec = catalog.get(code)
    message = (message or spec.description)[:MAX_MESSAGE]
    context = clean_context(context)
    try:
        expire_due()
        conditions = _conditions("detect_event_id", spec.detect_event_id, tenant)
        if not conditions:
            log_event(spec.detect_event_id, f"{spec.code}: {message} (no enabled alarm condition detects event "
                      f"{spec.detect_event_id}; no alarm raised)", condition=spec.code, node=node, source=source,
                      context=context)
            return None
        now = timezone.now()
        first = None
        for condition in conditions:
            alarm, created = _upsert(condition, now=now, source=source, node=node, message=message,
                                     context=context)
            first = first or alarm
            if created:
                _emit(Event(Kind.ALARM_RAISED, condition.detect_event_id, message, condition=condition.name,
                            severity=condition.category, node=node, source=source, context=context))
        return first
    except DatabaseError:
        log.exception("could not raise alarm %s (event %s)", spec.code, spec.detect_event_id)
        return None


def _clear(alarms: list[Alarm], *, reason: str, by: str, now: datetime.datetime, message: str = "",
           node: str = "") -> int:
    cleared = 0
    for alarm in alarms:
        updated = Alarm.objects.filter(pk=alarm.pk, state=AlarmState.ACTIVE).update(
            state=AlarmState.CLEARED, cleared_at=now, cleared_by=by, clear_reason=reason)
        if not updated:
            continue  # cleared meanwhile by someone else
        cleared += 1
        _emit(Event(Kind.ALARM_CLEARED, alarm.cancel_event_id,
                    message or f"{alarm.condition_name} cleared ({ClearReason(reason).label.lower()})",
                    condition=alarm.condition_name, severity=alarm.severity, node=node or alarm.node,
                    source=alarm.source, context={"reason": reason, "count": alarm.count}))
    if cleared:
        prune_history()
    return cleared


def clear_alarm(code: str | int, message: str = "", context: Mapping[str, Any] | None = None, *,
                source: str = "", node: str = "", tenant: str | None = None) -> int:
    """Log the cancel event of condition ``code``: clear the active alarms of every enabled condition it
    cancels, for this source. Returns how many were cleared. Silent when nothing was active (a healthy
    cycle logs its cancel events every refresh period; the sinks hear of it only when an alarm clears)."""
    spec = catalog.get(code)
    try:
        active = list(Alarm.objects.filter(state=AlarmState.ACTIVE, source=source,
                                           cancel_event_id=spec.cancel_event_id)
                      .select_related("condition", "condition__tenant"))
        if tenant:
            active = [a for a in active if a.condition and a.condition.tenant.name == tenant]
        active = [a for a in active if a.condition is None or a.condition.state == State.ENABLED]
        if not active:
            return 0
        return _clear(active, reason=ClearReason.CANCEL_EVENT, by=node or "process", now=timezone.now(),
                      message=message, node=node)
    except DatabaseError:
        log.exception("could not clear alarm %s (event %s)", spec.code, spec.cancel_event_id)
        return 0


def expire_due(now: datetime.datetime | None = None) -> int:
    """Clear the active alarms whose condition's timeout has passed. Cheap (an indexed query); called by
    every raise, by the alarm lists and by the monitors, so no scheduler is needed for it."""
    now = now or timezone.now()
    due = list(Alarm.objects.filter(state=AlarmState.ACTIVE, expires_at__lte=now))
    if not due:
        return 0
    return _clear(due, reason=ClearReason.TIMEOUT, by="timeout", now=now)


def clear_rows(alarms: list[Alarm], *, reason: str, by: str, message: str = "") -> int:
    """Clear these active alarms (an administrator's clear, or a deleted condition)."""
    return _clear(alarms, reason=reason, by=by, now=timezone.now(), message=message)


def prune_history(limit: int | None = None) -> int:
    """Keep the newest ``limit`` cleared alarms (PACING_ALARM_HISTORY), delete older ones."""
    limit = _history_limit() if limit is None else limit
    stale = list(Alarm.objects.filter(state=AlarmState.CLEARED).order_by("-cleared_at", "-id")
                 .values_list("pk", flat=True)[limit:limit + 5000])
    if not stale:
        return 0
    deleted, _ = Alarm.objects.filter(pk__in=stale).delete()
    return deleted
