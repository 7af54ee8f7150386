"""Shapes of ``GET /api/v1/doctor/``: every field listed by name (a new Finding field never appears by accident)."""

from rest_framework import serializers

from ..doctor import SEVERITIES


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
