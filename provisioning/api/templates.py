"""``POST /api/v1/provisioning/templates/import/``: GAX's Import Application Template (and Import Metadata).

Multipart: ``apd`` (the template file, required), ``metadata`` (its ``.xml``), ``defaults`` (GAX's plain-text
option export, instead of the .apd's defaults), ``tenant`` (owner of a new template; Environment by default).
201 when the template is created, 200 when updated; 400 with every problem (``file, line N: …``) and nothing
written; 403 without a read-write grant; 413 for a body larger than three template files. The files and rules
are ``manage.py import_template``'s (provisioning/templates/service.py, docs/templates.md).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from configdb import services
from configdb.api.base import PayloadTooLarge
from configdb.models import Tenant

from ..templates import service
from ..templates.files import MAX_FILE_BYTES

#: the largest request body read: three files at the limit, and the form's own bytes
MAX_BODY_BYTES = 3 * MAX_FILE_BYTES + 64 * 1024
FIELDS = ("apd", "metadata", "defaults", "tenant")
ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description='{"detail": "…", "errors": ["file, line N: …", …]}')


class BoundedMultiPartParser(parsers.MultiPartParser):
    """multipart/form-data, refused unread (413) beyond MAX_BODY_BYTES by its Content-Length."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and str(length).isdigit() and int(length) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is {int(length):,} bytes, larger than "
                                  f"{MAX_BODY_BYTES // (1024 * 1024)} MiB (a template file may have at most "
                                  f"{MAX_FILE_BYTES // (1024 * 1024)} MiB); nothing was read or written.")
        return super().parse(stream, media_type, parser_context)


class TemplateImportRequest(serializers.Serializer):
    """The form's fields (the schema's; the view reads them itself, to name each file in its errors)."""

    apd = serializers.FileField(help_text="The .apd application template file.")
    metadata = serializers.FileField(required=False, help_text="The application metadata .xml file.")
    defaults = serializers.FileField(required=False, help_text="Default options in GAX's plain-text format.")
    tenant = serializers.CharField(required=False, help_text="The tenant that owns a new template.")


class TemplateImportResult(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    app_type = serializers.CharField()
    version = serializers.CharField()
    created = serializers.BooleanField()
    metadata = serializers.BooleanField(help_text="Option metadata was imported with it.")
    summary = serializers.CharField()


def _error(detail: str, errors: list[str], code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": detail, "errors": errors}, status=code)


class TemplateImportView(APIView):
    parser_classes = [BoundedMultiPartParser]

    @extend_schema(
        operation_id="provisioning_template_import",
        tags=["provisioning"],
        summary="Import an application template (.apd, optional .xml metadata)",
        description=__doc__,
        request={"multipart/form-data": TemplateImportRequest},
        responses={200: TemplateImportResult, 201: TemplateImportResult, 400: ERROR, 403: ERROR, 413: ERROR},
    )
    def post(self, request):
        try:  # the services' check, before any file is read
            services.check_any_write(request.user, "importing a template")
        except PermissionDenied as exc:
            return _error(str(exc), [], status.HTTP_403_FORBIDDEN)
        unknown = sorted(set(request.data) - set(FIELDS))
        if unknown:
            return _error("The request is not valid.", [f"{str(k)[:80]}: unknown field." for k in unknown])
        misplaced = [f"{name}: must be a file." for name in ("apd", "metadata", "defaults")
                     if name in request.data and name not in request.FILES]
        if "apd" not in request.data:
            misplaced.append("apd: missing; the .apd template file is required.")
        if "tenant" in request.FILES:
            misplaced.append("tenant: must be a tenant's name, not a file.")
        if misplaced:
            return _error("The request is not valid.", misplaced)
        tenant = None
        name = request.data.get("tenant")
        if name:
            tenant = Tenant.objects.restrict(request.user, "view").filter(name=name).first()
            if tenant is None:
                return _error("The request is not valid.", [f"tenant: no tenant named {name[:80]!r}."])
        try:
            files = {}
            for field in ("apd", "metadata", "defaults"):
                upload = request.FILES.get(field)
                if upload is not None:
                    files[field] = (service.read_upload(upload, upload.name or field, upload.size),
                                    upload.name or field)
            apd, apd_name = files["apd"]
            xml, xml_name = files.get("metadata", (None, ""))
            defaults, defaults_name = files.get("defaults", (None, ""))
            result = service.import_template(apd, xml, user=request.user, apd_name=apd_name, xml_name=xml_name,
                                             defaults_bytes=defaults, defaults_name=defaults_name, tenant=tenant)
        except service.TemplateError as exc:
            return _error("The template was not imported; nothing was written.", exc.messages)
        except ValidationError as exc:
            return _error("The template was not imported; nothing was written.",
                          service.validation_messages(exc, files["apd"][1]))
        except PermissionDenied as exc:
            return _error(str(exc), [], status.HTTP_403_FORBIDDEN)
        t = result.template
        body = {"id": t.pk, "name": t.name, "app_type": t.app_type, "version": t.version,
                "created": result.created, "metadata": result.metadata, "summary": result.summary}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
