"""Thin views of the provisioning app (parse, call, render).

``GET /api/v1/doctor/``: the config doctor's findings on the objects you may read.

Any authenticated user may run it (a read-only grant is enough: it changes nothing); the findings are those on
objects of the tenants granted to them (configdb.access), as in every other list of the API. Not paginated (ours:
one finding per misconfigured object, and a report is read whole). ``?severity=`` and ``?code=`` narrow it;
any other parameter is refused (400), as the strict filters of the other routes do.

``POST /api/v1/provisioning/provision/`` and ``GET /api/v1/provisioning/environment/``: thin views over
provisioning/services.py and provisioning/environment.py.

Authentication: the API's token and session, and — on these two views only — HTTP Basic, because the vendor's
tool logs in with a user and a password (``provisioning.sh -user U -password PW``). Basic is listed after the
token, so a 401 still asks for a token (``WWW-Authenticate: Token``) and no browser ever prompts for (and then
caches) a password; the provision view takes JSON only, which a cross-site form cannot send.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .. import doctor
from ..environment import environment_file
from ..services import ProvisioningError, provision
from . import serializers as s

#: the API's own classes (settings: the token first, then the session), with HTTP Basic after the first
AUTHENTICATION = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES[:1], authentication.BasicAuthentication,
                  *api_settings.DEFAULT_AUTHENTICATION_CLASSES[1:]]

ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description='{"<field>": ["…"]} or {"detail": "…"}')


class ProvisionView(APIView):
    """Provision a pacing cluster or node: the PacingService alarm conditions and the Stat Server's statistics.

    Answers the plan: every change (create or replace, each naming its object and what it
    loses) and the existing objects left as they are. `dry_run`: the plan only, nothing written (a read-only
    grant suffices). Applying needs a read-write grant on every tenant written (403 otherwise, nothing written).
    """

    authentication_classes = AUTHENTICATION

    @extend_schema(operation_id="provisioning_provision", tags=["provisioning"], request=s.ProvisionRequestSerializer,
                   responses={200: s.PlanSerializer, 400: ERROR, 401: ERROR, 403: ERROR})
    def post(self, request):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"detail": 'Expected an object: {"application": NAME, "overwrite": '
                                                        'false, "dry_run": false}.'})
        form = s.ProvisionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            plan = provision(data["application"], user=request.user, overwrite=data["overwrite"],
                             dry_run=data["dry_run"])
        except ProvisioningError as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        return Response(s.PlanSerializer(plan.as_dict()).data)


class EnvironmentView(APIView):
    """A pacing node's launch settings as an environment file (our launcher.ini / setenv.sh), as a download.
    Secrets are never in it: passwords become CHANGE_ME, the shared keys are left for the operator to fill."""

    authentication_classes = AUTHENTICATION

    @extend_schema(operation_id="provisioning_environment", tags=["provisioning"],
                   parameters=[OpenApiParameter("application", OpenApiTypes.STR, OpenApiParameter.QUERY,
                                                required=True, description="The pacing node, by name.")],
                   responses={(200, "text/plain"): OpenApiTypes.STR, 400: ERROR, 401: ERROR})
    def get(self, request):
        unknown = sorted(set(request.query_params) - {"application", "format"})
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, ["Unknown query parameter."]))
        name = request.query_params.get("application", "")
        if not name.strip() or "\x00" in name or len(name) > 255:
            raise exceptions.ValidationError({"application": ["Give the node's name: ?application=NAME."]})
        try:
            text = environment_file(name, user=request.user)
        except ProvisioningError as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return HttpResponse(text, content_type="text/plain; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{safe}.env"'})


# -- the config doctor ----------------------------------------------------------------------------------------

_PARAMS = {"severity", "code", "format"}


class DoctorView(APIView):
    """Misconfigurations that keep pacing from working, each with its object and the admin page that fixes it."""

    @extend_schema(operation_id="doctor_report", tags=["doctor"], responses={200: s.DoctorReportSerializer,
                              400: OpenApiResponse(description="An unknown parameter, severity or code.")},
                   parameters=[OpenApiParameter("severity", OpenApiTypes.STR, enum=list(doctor.SEVERITIES)),
                               OpenApiParameter("code", OpenApiTypes.STR,
                                                enum=sorted(r.code for r in doctor.RULES))])
    def get(self, request, *args, **kwargs):
        unknown = sorted(set(request.query_params) - _PARAMS)
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, "Unknown parameter (use severity or code)."))
        severity, code = request.query_params.get("severity"), request.query_params.get("code")
        if severity is not None and severity not in doctor.SEVERITIES:
            raise exceptions.ValidationError({"severity": f"Expected one of {', '.join(doctor.SEVERITIES)}."})
        rules = [r for r in doctor.RULES if code is None or r.code == code]
        if code is not None and not rules:
            raise exceptions.ValidationError({"code": f"No rule {code!r} (see docs/troubleshooting.md)."})
        findings = [f for f in doctor.run(request.user, rules) if severity is None or f.severity == severity]
        data = {"summary": doctor.summary(findings), "findings": [f.as_dict() for f in findings]}
        return Response(s.DoctorReportSerializer(data).data)
