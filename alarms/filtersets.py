"""Filters of ``GET /api/v1/alarms/`` (django-filter; unknown parameters answer 400 as everywhere).

``?state=`` is ``active`` unless asked otherwise (``cleared``, ``all``): the list is the operator's console
of active alarms first, the bounded history second.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from rest_framework import exceptions

from configdb.filtersets import INT_RANGE, NaturalKeyFilter, UTCIsoDateTimeFilter
from configdb.models import AlarmCategory

from .models import Alarm, AlarmState

STATE_CHOICES = [(AlarmState.ACTIVE, "Active"), (AlarmState.CLEARED, "Cleared"), ("all", "All")]


class AlarmFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=STATE_CHOICES, method="filter_state", empty_label=None,
                                        label="active (default), cleared or all")
    severity = django_filters.MultipleChoiceFilter(choices=AlarmCategory.choices, label="critical, major, minor "
                                                   "(repeat for several)")
    condition = django_filters.CharFilter(field_name="condition_name", label="the condition's name")
    condition_id = django_filters.NumberFilter(field_name="condition_id", label="the condition's id",
                                               validators=INT_RANGE)
    node = django_filters.CharFilter(field_name="node")
    source = django_filters.CharFilter(field_name="source")
    tenant = NaturalKeyFilter(field_name="tenant", label="tenant (id or name)")
    acknowledged = django_filters.CharFilter(method="filter_acknowledged", label="true: acknowledged; false: not yet")
    detected_after = UTCIsoDateTimeFilter(field_name="last_detected", lookup_expr="gte")
    detected_before = UTCIsoDateTimeFilter(field_name="last_detected", lookup_expr="lte")
    q = django_filters.CharFilter(method="search", label="Search condition, source, node and message")

    class Meta:
        model = Alarm
        fields = []

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.filter(state=AlarmState.ACTIVE)
        return super().filter_queryset(queryset)

    def filter_state(self, queryset, name, value):
        return queryset if value == "all" else queryset.filter(state=value)

    def filter_acknowledged(self, queryset, name, value):
        flag = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(value.lower())
        if flag is None:
            raise exceptions.ValidationError({"acknowledged": "Expected true or false."})
        return queryset.filter(acknowledged_at__isnull=not flag)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(condition_name__icontains=value) | Q(source__icontains=value)
                               | Q(node__icontains=value) | Q(message__icontains=value))
