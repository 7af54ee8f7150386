"""``GET /api/v1/doctor/``: the config doctor's findings on the objects you may read.

Any authenticated user may run it (a read-only grant is enough: it changes nothing); the findings are those on
objects of the tenants granted to them (configdb.access), as in every other list of the API. Not paginated (ours:
one finding per misconfigured object, and a report is read whole). ``?severity=`` and ``?code=`` narrow it;
any other parameter is refused (400), as the strict filters of the other routes do.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, views
from rest_framework.response import Response

from .. import doctor
from .serializers import DoctorReportSerializer

_PARAMS = {"severity", "code", "format"}


class DoctorView(views.APIView):
    """Misconfigurations that keep pacing from working, each with its object and the admin page that fixes it."""

    @extend_schema(operation_id="doctor_report", tags=["doctor"], responses={200: DoctorReportSerializer,
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
        return Response(DoctorReportSerializer(data).data)
