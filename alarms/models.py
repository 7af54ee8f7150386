"""Alarms at run time: what Solution Control Server keeps as *active alarms*, and their bounded history.

An :class:`Alarm` is raised when a pacing node logs the detect event of an enabled alarm condition
(configdb ``AlarmCondition``), and cleared by the condition's cancel event, by its timeout, or by an
administrator. One row per occurrence: while it is active, raising it again updates the row (count, last
detection, message); a database constraint keeps at most one active row per condition and source, so two
nodes raising it at the same moment cannot make two. Cleared rows stay as history, pruned to
``PACING_ALARM_HISTORY`` rows (``alarms.runtime.prune_history``).

Alarms are run-time state, not configuration: raising and clearing them records no configuration change;
an administrator's *acknowledge* and *clear* do (``configdb.history``), as GAX records operator actions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from configdb.models import AlarmCategory, AlarmCondition, Tenant


class AlarmState(models.TextChoices):
    ACTIVE = "active", "Active"
    CLEARED = "cleared", "Cleared"


class ClearReason(models.TextChoices):
    CANCEL_EVENT = "cancel_event", "Cancel event"
    TIMEOUT = "timeout", "Timeout"
    USER = "user", "Cleared by a user"
    CONDITION = "condition", "Condition deleted or disabled"


class Alarm(models.Model):
    condition = models.ForeignKey(AlarmCondition, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="alarms")
    condition_name = models.CharField(max_length=255, help_text="The condition's name when the alarm was raised.")
    severity = models.CharField(max_length=8, choices=AlarmCategory.choices, default=AlarmCategory.MAJOR,
                                help_text="The condition's category (Critical, Major, Minor).")
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               help_text="The tenant of the alarm condition.")
    source = models.CharField(max_length=255, blank=True,
                              help_text="What the alarm is about: the pacing cluster, or the node itself.")
    node = models.CharField(max_length=255, blank=True, help_text="The node that detected it last.")
    message = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    detect_event_id = models.PositiveIntegerField()
    cancel_event_id = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=AlarmState.choices, default=AlarmState.ACTIVE)
    first_detected = models.DateTimeField()
    last_detected = models.DateTimeField()
    count = models.PositiveIntegerField(default=1, help_text="How many times it was detected while active.")
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When the condition's timeout clears it (none: never).")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.CharField(max_length=150, blank=True)
    clear_reason = models.CharField(max_length=16, choices=ClearReason.choices, blank=True)

    class Meta:
        ordering = ["-last_detected", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["condition", "source"], condition=Q(state="active"),
                                    name="alarm_one_active_per_condition_source"),
        ]
        indexes = [
            models.Index(fields=["state", "-last_detected"], name="alarm_state_last"),
            models.Index(fields=["state", "expires_at"], name="alarm_state_expiry"),
            models.Index(fields=["cleared_at"], name="alarm_cleared_at"),
        ]

    def __str__(self):
        where = f" on {self.source}" if self.source else ""
        return f"{self.condition_name}{where}"

    @property
    def is_active(self) -> bool:
        return self.state == AlarmState.ACTIVE

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None
