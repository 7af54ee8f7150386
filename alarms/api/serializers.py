"""The alarm's API shape: every field listed by name, all read-only (alarms are raised by the nodes)."""

from __future__ import annotations

from rest_framework import serializers

from configdb.api.fields import brief

from ..models import Alarm


class AlarmSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:alarm-detail")
    condition = serializers.SerializerMethodField()
    tenant = serializers.SerializerMethodField()
    acknowledged = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alarm
        fields = ["id", "url", "condition", "condition_name", "severity", "tenant", "source", "node", "state",
                  "message", "context", "detect_event_id", "cancel_event_id", "first_detected", "last_detected",
                  "count", "expires_at", "acknowledged", "acknowledged_at", "acknowledged_by", "cleared_at",
                  "cleared_by", "clear_reason"]
        read_only_fields = fields

    def get_condition(self, obj) -> dict | None:
        return brief(obj.condition, self.context.get("request")) if obj.condition_id else None

    def get_tenant(self, obj) -> dict | None:
        return brief(obj.tenant, self.context.get("request")) if obj.tenant_id else None
