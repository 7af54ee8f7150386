"""Alarms in the admin: the active alarms and their history, with acknowledge and clear by hand.

Alarms are raised by the pacing nodes, never typed in: the admin lists and shows them (read-only) and
offers two actions, *Acknowledge* and *Clear*, which go through ``alarms.services`` (the tenant grant
check and the change-history record the API uses too).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.html import format_html

from configdb import access
from configdb import services as configdb_services
from configdb.admin.base import HistoryAdminMixin, TenantFilter

from . import runtime, services
from .models import Alarm, AlarmState


class ActiveFilter(admin.SimpleListFilter):
    """Active alarms by default, as an operator's console shows them; *All* includes the history."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("cleared", "Cleared"), ("all", "All")]

    def choices(self, changelist):
        value = self.value() or "active"
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name:
                                                                                              lookup}),
                   "display": title}

    def queryset(self, request, queryset):
        value = self.value() or "active"
        if value == "all":
            return queryset
        if value not in ("active", "cleared"):
            return queryset.none()
        return queryset.filter(state=value)


def _act(modeladmin, request, queryset, action, verb: str, done_verb: str) -> None:
    done = 0
    for alarm in queryset:
        try:
            action(alarm, request.user)
            done += 1
        except (PermissionDenied, ValidationError) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"Could not {verb} '{alarm}': {reason}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{done} alarm(s) {done_verb}.", messages.SUCCESS)


@admin.action(description="Acknowledge selected alarms")
def acknowledge(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, services.acknowledge, "acknowledge", "acknowledged")


@admin.action(description="Clear selected alarms")
def clear(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, services.clear, "clear", "cleared")


@admin.register(Alarm)
class AlarmAdmin(HistoryAdminMixin, admin.ModelAdmin):
    gax_section = "Monitoring"
    actions = [acknowledge, clear]
    list_display = ("condition_column", "severity_badge", "where", "status", "count", "last_seen")
    list_filter = (ActiveFilter, "severity", ("tenant", TenantFilter), "condition_name", "node")
    list_display_links = ("condition_column",)
    search_fields = ("condition_name", "source", "node", "message")
    list_per_page = 100
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = ("condition", "condition_name", "severity", "tenant", "source", "node", "message", "context",
                       "detect_event_id", "cancel_event_id", "state", "first_detected", "last_detected", "count",
                       "expires_at", "acknowledged_at", "acknowledged_by", "cleared_at", "cleared_by",
                       "clear_reason")
    fieldsets = (
        (None, {"fields": ("condition_name", "severity", "state", "source", "node", "message", "context")}),
        ("Detection", {"fields": ("condition", "tenant", "detect_event_id", "cancel_event_id", "first_detected",
                                  "last_detected", "count", "expires_at")}),
        ("Handling", {"fields": ("acknowledged_at", "acknowledged_by", "cleared_at", "cleared_by",
                                 "clear_reason")}),
    )

    def get_queryset(self, request):
        runtime.expire_due()
        return access.scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only; the actions check the tenant grant themselves (alarms.services)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not configdb_services.may_write_any(request.user):  # a reader is not offered them
            actions.pop("acknowledge", None)
            actions.pop("clear", None)
        return actions

    @admin.display(description="severity", ordering="severity")
    def severity_badge(self, obj):
        colours = {"critical": "#ba2121", "major": "#c26d00", "minor": "#777"}
        return format_html('<strong style="color:{}">{}</strong>', colours.get(obj.severity, "#333"),
                           obj.get_severity_display())

    @admin.display(description="condition", ordering="condition_name")
    def condition_column(self, obj):
        return obj.condition_name

    @admin.display(description="source / node", ordering="source")
    def where(self, obj):
        if not obj.node or obj.node == obj.source:
            return obj.source or obj.node
        return format_html('{}<br><small>{}</small>', obj.source, obj.node)

    @admin.display(description="status", ordering="state")
    def status(self, obj):
        """Active, acknowledged (by whom, the time in the tooltip) or cleared (why)."""
        if obj.state != AlarmState.ACTIVE:
            return format_html('<span title="{}">Cleared</span>', obj.get_clear_reason_display())
        if obj.acknowledged_at is None:
            return "Active"
        when = timezone.localtime(obj.acknowledged_at)
        return format_html('<span title="{}">Ack. {}</span>', f"{when:%Y-%m-%d %H:%M:%S}", obj.acknowledged_by)

    @admin.display(description="last detected", ordering="last_detected")
    def last_seen(self, obj):
        last = timezone.localtime(obj.last_detected)
        short = f"{last:%H:%M:%S}" if last.date() == timezone.localdate() else f"{last:%m-%d %H:%M}"
        return format_html('<span title="{} (first detected {})">{}</span>', f"{last:%Y-%m-%d %H:%M:%S}",
                           f"{timezone.localtime(obj.first_detected):%Y-%m-%d %H:%M:%S}", short)
