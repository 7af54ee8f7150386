"""Interaction Server routes (thin: parse, call configdb.odbc_builder / configdb.ixn_clusters /
configdb.interaction_server, render).

- ``POST /api/v1/database-access-points/odbc-builder/``: the option a DAP needs for the inputs (the admin's
  builder page asks the same function); nothing is written. 400 naming the field on bad input.
- ``GET /api/v1/applications/<id>/licence-capacity/``: an Interaction Server cluster's nodes, their licence
  allocation and the cluster's capacity. 404 for an application you may not read or that is not an Interaction
  Server cluster.
- ``GET /api/v1/interaction-server/error-codes/``: the proxy's error codes 2000–2006 (vendor) with what in the
  configuration leads to each (ours). Not paginated: seven rows.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import interaction_server as ixn
from .. import odbc, odbc_builder
from ..ixn_clusters import is_server_cluster, licence_report
from ..models import Application

ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description='{"<field>": ["…"]} or {"detail": "…"}')


class OdbcBuilderRequestSerializer(serializers.Serializer):
    dbms_type = serializers.ChoiceField(
        choices=sorted(odbc.DEFAULT_DRIVERS),
        help_text="The DAP's DBMS type (the types the seed names an ODBC driver for).",
        error_messages={"invalid_choice": f'"{{input}}" is not a DBMS type with an ODBC driver: one of '
                                          f'{", ".join(sorted(odbc.DEFAULT_DRIVERS))}.'})
    purpose = serializers.ChoiceField(choices=list(odbc_builder.PURPOSES), default="main",
                                      help_text="main: the Interaction Server database ([settings]); logger: the "
                                                "Event Logger database ([logger-settings]).")
    version = serializers.CharField(required=False, allow_blank=True, default="", max_length=64,
                                    help_text="The Interaction Server release, e.g. 8.5.300.05 (odbc-string from "
                                              "8.5.3; connection-string before). Blank: the current way.")
    dsn = serializers.CharField(required=False, allow_blank=True, default="", max_length=255,
                                help_text="A DSN configured on the server's host (or give a driver).")
    driver = serializers.CharField(required=False, allow_blank=True, default="", max_length=1024,
                                   help_text="A driver name or path; blank: the DBMS type's default driver.")
    port = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=65535,
                                    help_text="Before 8.5.3 only: written when not the type's default port.")


class OdbcOptionSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    section = serializers.CharField()
    key = serializers.CharField(help_text="odbc-string or connection-string")
    value = serializers.CharField()
    protocol_key = serializers.CharField(help_text="dbprotocol or delivery-protocol")
    protocol_value = serializers.CharField()


class OdbcBuilderView(APIView):
    """Build a DAP's ODBC option: `odbc-string` (8.5.3 and later: `DSN={name}` or `Driver={name}`) or, before,
    `connection-string` with the driver (the DBMS type's default unless given) and the port when it is not the
    default; with the protocol option to set (`dbprotocol` or `delivery-protocol` = `odbc`). Writes nothing."""

    @extend_schema(operation_id="database_access_points_odbc_builder", tags=["database-access-points"],
                   request=OdbcBuilderRequestSerializer, responses={200: OdbcOptionSerializer, 400: ERROR,
                                                                    401: ERROR})
    def post(self, request):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected an object."]})
        form = OdbcBuilderRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        built = odbc_builder.build(**form.validated_data)  # a Django ValidationError is a 400 naming the field
        return Response(OdbcOptionSerializer(built.as_dict()).data)


class LicenceNodeSerializer(serializers.Serializer):
    primary = serializers.CharField()
    primary_id = serializers.IntegerField()
    licence_group = serializers.IntegerField(help_text="The pair's licence group: the primary server's DBID.")
    backup = serializers.CharField(allow_null=True)
    configured = serializers.IntegerField(allow_null=True, help_text="[license] ics_multi_media_agent_seat")
    allocated = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)


class LicenceCapacitySerializer(serializers.Serializer):
    cluster = serializers.CharField()
    cluster_id = serializers.IntegerField()
    available_seats = serializers.IntegerField(allow_null=True,
                                               help_text="The cluster's [license] available-agent-seats (ours).")
    available_seats_problem = serializers.CharField(allow_blank=True)
    capacity = serializers.IntegerField(allow_null=True, help_text="Agents who can log in to the cluster.")
    nodes = LicenceNodeSerializer(many=True)
    rules = serializers.ListField(child=serializers.CharField())


class LicenceCapacityView(APIView):
    """An Interaction Server cluster's licence capacity: each node (a primary server the cluster connects to, its
    backup, its `[license] ics_multi_media_agent_seat`), what it is allocated from the cluster's
    `[license] available-agent-seats`, and the capacity (the lowest allocation), with the licence rules."""

    @extend_schema(operation_id="applications_licence_capacity", tags=["applications"],
                   responses={200: LicenceCapacitySerializer, 401: ERROR, 404: ERROR})
    def get(self, request, pk: str):
        if not (pk.isascii() and pk.isdigit()) or int(pk) > 2**63 - 1:
            raise exceptions.NotFound("No such object.")
        app = Application.objects.restrict(request.user, "view").filter(pk=int(pk)).first()
        if app is None:
            raise exceptions.NotFound("No such object.")
        if not is_server_cluster(app):
            raise exceptions.NotFound(f"'{app.name}' is not an Interaction Server cluster (an Application Cluster "
                                      f"whose [{ixn.SECTION}] {ixn.CLUSTER_TYPE} is '{ixn.SERVER_CLUSTER}').")
        return Response(LicenceCapacitySerializer(licence_report(app, request.user).as_dict()).data)


class ProxyErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField()
    description = serializers.CharField(help_text="The vendor's description.")
    caused_by = serializers.CharField(help_text="Ours: what in the configuration leads to it, if anything.")


class ProxyErrorCodesView(APIView):
    """Interaction Server Proxy's error codes (2000–2006), as the vendor lists them, with the configuration
    that leads to each (ours)."""

    @extend_schema(operation_id="interaction_server_error_codes", tags=["interaction-server"],
                   responses={200: ProxyErrorSerializer(many=True), 401: ERROR})
    def get(self, request):
        rows = [{"code": e.code, "description": e.description, "caused_by": e.caused_by} for e in ixn.PROXY_ERRORS]
        return Response(ProxyErrorSerializer(rows, many=True).data)
