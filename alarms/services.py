"""What an administrator does to an alarm: acknowledge it, clear it by hand.

The one path for the admin and the API: it checks the user's grant on the alarm's tenant (read-write, as
for any change in that tenant; configdb.access), changes the row, and records the action in the change
history (configdb.history) — an operator's action is worth an audit trail; raising and clearing by events
is run-time state and is not recorded there.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from configdb import access, history
from configdb.models import ChangeAction

from . import runtime
from .models import Alarm, AlarmState, ClearReason

__all__ = ["acknowledge", "clear", "provision_conditions"]


def _snapshot(alarm: Alarm) -> dict:
    return {"state": alarm.state, "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at
            else None, "acknowledged_by": alarm.acknowledged_by, "cleared_by": alarm.cleared_by,
            "clear_reason": alarm.clear_reason}


def _check(user, alarm: Alarm) -> str:
    if user is None:
        return history.current_actor().resolve()[1]
    if not access.can_write(user, alarm.tenant_id):
        raise PermissionDenied("You have no read-write grant on this alarm's tenant.")
    return user.get_username()


@transaction.atomic
def acknowledge(alarm: Alarm, user=None) -> Alarm:
    """Mark an active alarm as seen by ``user``; it stays active until it clears."""
    by = _check(user, alarm)
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.state != AlarmState.ACTIVE:
        raise ValidationError({"state": "This alarm is cleared already; only an active alarm can be acknowledged."})
    if alarm.acknowledged_at is not None:
        return alarm
    before = _snapshot(alarm)
    alarm.acknowledged_at, alarm.acknowledged_by = timezone.now(), by
    alarm.save(update_fields=["acknowledged_at", "acknowledged_by"])
    history.record(alarm, ChangeAction.UPDATE, before, _snapshot(alarm))
    return alarm


@transaction.atomic
def clear(alarm: Alarm, user=None) -> Alarm:
    """Clear an active alarm by hand (it is raised again if its condition is detected again)."""
    by = _check(user, alarm)
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.state != AlarmState.ACTIVE:
        raise ValidationError({"state": "This alarm is cleared already."})
    before = _snapshot(alarm)
    runtime.clear_rows([alarm], reason=ClearReason.USER, by=by, message=f"{alarm} cleared by {by}")
    alarm.refresh_from_db()
    history.record(alarm, ChangeAction.UPDATE, before, _snapshot(alarm))
    return alarm


def provision_conditions(tenant, report=None) -> list:
    """The five pacing alarm conditions of the catalog in ``tenant``'s ``PacingService`` alarm folder
    (seeds/pacing-provisioning.txt), created through the one write path; existing ones are left as the
    administrator has them. ``report``: a configdb.demo.Report to count into."""
    from configdb.demo import Report, ensure
    from configdb.models import AlarmCondition, Folder, FolderType

    from . import catalog

    report = report if report is not None else Report()
    folder = ensure(report, Folder, {"tenant": tenant, "parent": None, "name": catalog.FOLDER,
                                     "folder_type": FolderType.ALARM_CONDITIONS})
    return [ensure(report, AlarmCondition, {"tenant": tenant, "name": c.code},
                   {"folder": folder, "description": c.description, "category": c.category, "timeout": c.timeout_s,
                    "detect_event_id": c.detect_event_id, "cancel_event_id": c.cancel_event_id})
            for c in catalog.CONDITIONS]
