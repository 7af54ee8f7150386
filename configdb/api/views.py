"""Viewsets: list, retrieve, create (one or a list), update, partial update, delete."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from .. import bulk, services
from .. import filtersets as fs
from ..models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
    Connection,
    DatabaseAccessPoint,
    Folder,
    Host,
    MediaType,
    ObjectChange,
    Person,
    Port,
    Skill,
    SkillLevel,
    Switch,
    Tenant,
    Transaction,
    VirtualQueue,
)
from . import serializers as s
from .base import OrderingFilter, StrictFilterBackend

#: the largest id a database holds (a signed 64-bit integer on SQLite and PostgreSQL alike)
MAX_ID = 2**63 - 1


def parse_if_match(header: str | None) -> str | None:
    """The version an ``If-Match`` header asks for (``"…"``, ``W/"…"``); None for none or ``*``."""
    if not header:
        return None
    first = header.split(",")[0].strip()
    if first == "*":
        return None
    if first.startswith("W/"):
        first = first[2:]
    return first.strip('"') or None


def flatten_errors(errors, prefix: str = "") -> list[str]:
    """``{"number": ["…"], "options": {…}}`` → ``["number: …", …]``, readable one per line."""
    lines: list[str] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = "" if key == "non_field_errors" else str(key)
            lines += flatten_errors(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
    elif isinstance(errors, list | tuple):
        for item in errors:
            lines += flatten_errors(item, prefix)
    else:
        lines.append(f"{prefix}: {errors}" if prefix else str(errors))
    return lines


class IdInRangeMixin:
    """An id that is not a whole number the database can hold names no object: 404 (never an overflow)."""

    def get_object(self):
        raw = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
            raise exceptions.NotFound("No such object.")
        return super().get_object()


class ConfigObjectViewSet(IdInRangeMixin, viewsets.ModelViewSet):
    """One configuration object type. POST a list to create many at once: all or nothing."""

    filter_backends = [StrictFilterBackend, DjangoFilterBackend, OrderingFilter]
    ordering_fields = "__all__"
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self):
        queryset = self.queryset.all()
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset.restrict(self.request.user, "view")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context.setdefault("natural_key_cache", {})
        if self.request is not None and self.request.method in ("PUT", "PATCH"):
            context["if_match"] = parse_if_match(self.request.headers.get("If-Match"))
        return context

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        instance = getattr(self, "_versioned", None)
        if instance is not None and response.status_code < 300:
            response["ETag"] = f'"{services.version_of(instance)}"'
        return response

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        self._versioned = instance
        data = self.get_serializer(instance).data
        warnings = services.sealed_secret_warnings(instance)
        if warnings:  # a stored secret that does not decrypt: masked like any secret, and said so here
            data = {**data, "warnings": [*data.get("warnings", ()), *warnings]}
        return Response(data)

    def update(self, request, *args, **kwargs):
        # PUT and PATCH validate and write under the object's row lock, so what they check (a masked secret
        # kept, a unique name) is the row as stored now; services.save_object locks it again (re-entrant).
        # A stale If-Match is a 412 before the body is validated: a GET's body sent back carries the old
        # `modified`, which validation would refuse as a changed read-only field (a 400 saying nothing of why).
        with transaction.atomic():
            services.check_version(self.get_object(), parse_if_match(request.headers.get("If-Match")))
            return super().update(request, *args, **kwargs)

    def perform_update(self, serializer):
        self._versioned = serializer.save()

    def perform_create(self, serializer):
        self._versioned = serializer.save()

    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            return self.bulk_create(request)
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected an object, or a list of objects."]})
        return super().create(request, *args, **kwargs)

    def bulk_create(self, request):
        records = request.data
        limit = settings.PACING_API_MAX_BULK
        if not records:
            raise exceptions.ValidationError({"non_field_errors": ["The list is empty."]})
        if len(records) > limit:
            raise exceptions.ValidationError({"non_field_errors": [f"At most {limit} records per request."]})
        errors: list[str] = []
        context = self.get_serializer_context()
        # One serializer validates every record (building its fields once, sharing the natural-key cache);
        # configdb.bulk.create_many then runs the models' full_clean() and checks uniqueness as a set.
        serializer = self.get_serializer_class()(context=context)
        items, numbers = [], []
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                errors.append(f"record {number}: expected an object.")
                continue
            try:
                validated = serializer.run_validation(record)
            except exceptions.ValidationError as exc:
                errors += [f"record {number}, {line}" for line in flatten_errors(exc.detail)]
                continue
            items.append(serializer.build(validated))
            numbers.append(number)
        if errors:
            return self._bulk_refused(errors)
        created, problems = bulk.create_many(items, user=request.user)
        for index, fields in sorted(problems.items()):
            errors += [f"record {numbers[index]}, {line}" for line in flatten_errors(fields)]
        if errors:
            return self._bulk_refused(errors)
        body = self.get_serializer_class()(created, many=True, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)

    @staticmethod
    def _bulk_refused(errors: list[str]) -> Response:
        return Response({"detail": f"Nothing was written: {len(errors)} problem(s).", "errors": errors},
                        status=status.HTTP_400_BAD_REQUEST)

    def perform_destroy(self, instance):
        services.delete_object(instance, user=self.request.user)


def viewset_for(model, serializer, filterset=None, *, search=("name",), select=(), prefetch=(), ordering=None):
    attrs = {
        "ordering": ordering,
        "queryset": model._default_manager.all(),
        "serializer_class": serializer,
        "filterset_class": filterset or fs.filterset_for(model, search),
        "select_related": select,
        "prefetch_related": prefetch,
        "__doc__": f"{model._meta.verbose_name_plural.capitalize()}: list, read, create (one or a list), "
                   f"update and delete.",
    }
    return type(f"{model.__name__}ViewSet", (ConfigObjectViewSet,), attrs)


TenantViewSet = viewset_for(Tenant, s.TenantSerializer, search=("name", "description"))
FolderViewSet = viewset_for(Folder, s.FolderSerializer, select=("tenant", "parent"))
HostViewSet = viewset_for(Host, s.HostSerializer, search=("name", "ip_address"), select=("tenant", "folder"))
ApplicationTemplateViewSet = viewset_for(ApplicationTemplate, s.ApplicationTemplateSerializer,
                                         select=("tenant", "folder"))
ApplicationViewSet = viewset_for(Application, s.ApplicationSerializer,
                                 select=("tenant", "folder", "template", "host", "backup_server"),
                                 prefetch=("tenants",))
PortViewSet = viewset_for(Port, s.PortSerializer, search=("port_id",), select=("application",))
ConnectionViewSet = viewset_for(Connection, s.ConnectionSerializer, search=("port_id",),
                                select=("application", "server"))
DatabaseAccessPointViewSet = viewset_for(DatabaseAccessPoint, s.DatabaseAccessPointSerializer,
                                         search=("name", "dbms_name", "database_name"),
                                         select=("tenant", "folder", "template", "host", "backup_server"),
                                         prefetch=("tenants",))
SwitchViewSet = viewset_for(Switch, s.SwitchSerializer, select=("tenant", "folder", "t_server"))
# Ordered by number (indexed) rather than DN.Meta's switch name, which would sort the whole table.
DNViewSet = viewset_for(DN, s.DNSerializer, search=("number", "alias"), select=("tenant", "folder", "switch"),
                        ordering=("number", "pk"))
VirtualQueueViewSet = viewset_for(VirtualQueue, s.VirtualQueueSerializer, search=("number", "alias"),
                                  select=("tenant", "folder", "switch"), ordering=("number", "pk"))
MediaTypeViewSet = viewset_for(MediaType, s.MediaTypeSerializer, select=("tenant", "folder"))
SkillViewSet = viewset_for(Skill, s.SkillSerializer, select=("tenant", "folder"))
PersonViewSet = viewset_for(Person, s.PersonSerializer, search=("user_name", "first_name", "last_name"),
                            select=("tenant", "folder"), prefetch=("media_types",))
SkillLevelViewSet = viewset_for(SkillLevel, s.SkillLevelSerializer, search=("skill__name", "person__user_name"),
                                select=("person", "skill"))
AgentGroupViewSet = viewset_for(
    AgentGroup, s.AgentGroupSerializer, search=("name", "skill_expression"), select=("tenant", "folder"),
    prefetch=(Prefetch("agents", queryset=Person.objects.only("id", "user_name")),
              Prefetch("supervisors", queryset=Person.objects.only("id", "user_name")),
              Prefetch("origination_dns",
                       queryset=DN.objects.only("id", "number", "dn_type").order_by("number", "pk"))),
)
AlarmConditionViewSet = viewset_for(AlarmCondition, s.AlarmConditionSerializer, search=("name", "description"),
                                    select=("tenant", "folder"))
TransactionViewSet = viewset_for(Transaction, s.TransactionSerializer, search=("name", "alias"),
                                 select=("tenant", "folder"))


class ObjectChangeViewSet(IdInRangeMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The change history: who changed what, when, before and after (secrets redacted)."""

    queryset = ObjectChange.objects.select_related("content_type", "user", "tenant")
    serializer_class = s.ObjectChangeSerializer
    filterset_class = fs.ObjectChangeFilterSet
    filter_backends = [StrictFilterBackend, DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["time", "id"]

    def get_queryset(self):
        return self.queryset.all().restrict(self.request.user, "view")
