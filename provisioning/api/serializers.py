"""Shapes of the provisioning API: the request, the plan it answers. Every field is listed by name."""

from __future__ import annotations

from rest_framework import serializers

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
