"""Shapes of the provisioning API: the provisioning request and the plan it answers, and the config doctor's
report (``GET /api/v1/doctor/``). Every field is listed by name (a new field never appears by accident)."""

from __future__ import annotations

from rest_framework import serializers

from ..doctor import SEVERITIES

#: the keys a provisioning request may hold
REQUEST_FIELDS = ("application", "overwrite", "dry_run")


class StrictBooleanField(serializers.BooleanField):
    """true or false only (DRF's BooleanField also takes "yes", 1, "on": a typo would pass for a flag)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data

    default_error_messages = {"invalid": "Must be true or false."}


class ProvisionRequestSerializer(serializers.Serializer):
    application = serializers.CharField(max_length=255, trim_whitespace=False,
                                        help_text="The pacing cluster or node application, by name.")
    overwrite = StrictBooleanField(default=False, help_text="Replace the pacing-specific objects that exist.")
    dry_run = StrictBooleanField(default=False, help_text="Answer the plan; write nothing.")

    class Meta:
        fields = REQUEST_FIELDS

    def validate_application(self, value):
        if "\x00" in value or not value.strip():
            raise serializers.ValidationError("Give the application's name.")
        return value

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(k)[:80] for k in data if k not in REQUEST_FIELDS)
            if unknown:
                raise serializers.ValidationError(dict.fromkeys(unknown, ["Unknown field."]))
        return super().to_internal_value(data)


class ChangeSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="create or replace (keep: in kept)")
    object_type = serializers.CharField()
    object = serializers.CharField()
    detail = serializers.CharField()
    lost = serializers.ListField(child=serializers.CharField(), help_text="What the change discards.")

    class Meta:
        fields = ("action", "object_type", "object", "detail", "lost")


class CountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()
    replace = serializers.IntegerField()

    class Meta:
        fields = ("create", "replace")


class PlanSerializer(serializers.Serializer):
    application = serializers.CharField()
    kind = serializers.ChoiceField(choices=["cluster", "node"])
    cluster = serializers.CharField()
    tenant = serializers.CharField()
    stat_servers = serializers.ListField(child=serializers.CharField())
    overwrite = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="True when the changes were written.")
    counts = CountsSerializer()
    changes = ChangeSerializer(many=True)
    kept = ChangeSerializer(many=True, help_text="Existing objects that differ from ours, left as they are.")

    class Meta:
        fields = ("application", "kind", "cluster", "tenant", "stat_servers", "overwrite", "dry_run", "applied",
                  "counts", "changes", "kept")


# -- the config doctor ----------------------------------------------------------------------------------------


class FindingObjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The object's type: virtual queue, application, agent group, …")
    key = serializers.ListField(child=serializers.CharField(), help_text="The object's natural key.")
    name = serializers.CharField()


class FindingSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=SEVERITIES)
    code = serializers.CharField(help_text="The rule (docs/troubleshooting.md).")
    message = serializers.CharField()
    object = FindingObjectSerializer()
    url = serializers.CharField(allow_null=True, help_text="The admin page that fixes it.")

    class Meta:
        fields = ["severity", "code", "message", "object", "url"]


class SummarySerializer(serializers.Serializer):
    error = serializers.IntegerField(min_value=0)
    warning = serializers.IntegerField(min_value=0)
    info = serializers.IntegerField(min_value=0)


class DoctorReportSerializer(serializers.Serializer):
    summary = SummarySerializer()
    findings = FindingSerializer(many=True)

    class Meta:
        fields = ["summary", "findings"]
