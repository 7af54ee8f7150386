"""``/api/v1/alarms/``: the active alarms (and, on request, the cleared ones), acknowledge and clear."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from configdb import access
from configdb.api.base import OrderingFilter, StrictFilterBackend

from .. import runtime, services
from ..filtersets import AlarmFilterSet
from ..models import Alarm
from .serializers import AlarmSerializer

_ACTION_RESPONSES = {200: AlarmSerializer, 400: OpenApiResponse(description="The alarm is cleared already."),
                     403: OpenApiResponse(description="No read-write grant on the alarm's tenant."),
                     404: OpenApiResponse(description="No such alarm in the tenants you may read.")}


@extend_schema_view(list=extend_schema(tags=["alarms"]), retrieve=extend_schema(tags=["alarms"]))
class AlarmViewSet(viewsets.ReadOnlyModelViewSet):
    """Alarms raised by the pacing nodes, newest detection first. `?state=` is `active` unless you ask for
    `cleared` or `all`. A user sees the alarms of the tenants granted to them."""

    queryset = Alarm.objects.select_related("condition", "tenant")
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilterSet
    filter_backends = [StrictFilterBackend, DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["last_detected", "first_detected", "count", "severity", "condition_name", "source", "node",
                       "cleared_at", "id"]

    def get_queryset(self):
        runtime.expire_due()
        return access.scope(self.queryset.all(), self.request.user)

    def filter_queryset(self, queryset):
        if self.action != "list":  # an alarm's own URL finds it in any state (the filters are the list's)
            return queryset
        return super().filter_queryset(queryset)

    def _act(self, request, service):
        if request.data not in ({}, None) and not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected no body, or an empty object."]})
        if request.data:
            raise exceptions.ValidationError(dict.fromkeys(request.data, "Unknown field; this action takes none."))
        alarm = service(self.get_object(), request.user)
        return Response(self.get_serializer(alarm).data)

    @extend_schema(tags=["alarms"], request=None, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge an active alarm (recorded in the change history)."""
        return self._act(request, services.acknowledge)

    @extend_schema(tags=["alarms"], request=None, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        """Clear an active alarm by hand (recorded in the change history)."""
        return self._act(request, services.clear)
