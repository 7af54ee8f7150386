"""``/api/v1/config/export/`` and ``/api/v1/config/import/``: a tenant's whole configuration as one document.

The document and the rules are those of ``manage.py export_config`` / ``import_config``
(configdb/transfer.py, docs/config-transfer.md). Export needs read access to the tenant (another
tenant answers 404, as if it did not exist); import needs a read-write grant on the tenant the
document names (creating a tenant needs a superuser), else 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import transfer
from ..models import Tenant
from .base import PayloadTooLarge

ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description='{"detail": "…", "errors": ["…", …]}')


class DocumentBodyParser(parsers.BaseParser):
    """The raw JSON body, at most ``transfer.MAX_DOCUMENT_BYTES`` (64 MiB); the view parses it, so a
    malformed document is answered like any other import problem (400 with ``errors``)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = transfer.MAX_DOCUMENT_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = f"The request body is larger than {limit // (1024 * 1024)} MiB."
        if length and str(length).isdigit() and int(length) > limit:
            raise PayloadTooLarge(too_large)
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise PayloadTooLarge(too_large)
        return data


def _error(detail: str, errors: list[str], code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": detail, "errors": errors}, status=code)


class ConfigExportView(APIView):
    """A tenant's whole configuration as one JSON document (related objects by name, secrets encrypted)."""

    @extend_schema(
        operation_id="config_export",
        tags=["config"],
        summary="Export a tenant's configuration",
        description="Every object the tenant owns, in dependency order, related objects by natural key and "
                    "secrets as enc:v1: tokens (docs/config-transfer.md). Needs read access to the tenant.",
        parameters=[OpenApiParameter("tenant", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
                                     description="The tenant's name.")],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The document."),
                   400: ERROR, 404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such tenant (or "
                                                                                     "no access to it).")},
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - {"tenant", "format"})
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, "Unknown query parameter."))
        name = request.query_params.get("tenant", "")
        if not name.strip() or "\x00" in name:
            raise exceptions.ValidationError({"tenant": "Give the tenant's name: ?tenant=NAME."})
        tenant = Tenant.objects.restrict(request.user, "view").filter(name=name).first()
        if tenant is None:
            raise exceptions.NotFound(f"No tenant named '{name}'.")
        try:
            document = transfer.export_tenant(tenant)
        except transfer.TransferError as exc:
            return _error(exc.detail, exc.errors, status.HTTP_500_INTERNAL_SERVER_ERROR)
        return Response(document)


class ConfigImportView(APIView):
    """Write a document into the tenant it names: all of it, or nothing."""

    parser_classes = [DocumentBodyParser]

    @extend_schema(
        operation_id="config_import",
        tags=["config"],
        summary="Import a tenant's configuration",
        description="Body: {\"document\": {…an export…}, \"replace\": false, \"dry_run\": false}. Objects are "
                    "matched by natural key: missing ones are created, existing ones set to the document's "
                    "values; replace also deletes the tenant's objects the document does not list; dry_run "
                    "reports what would change and writes nothing. All or nothing: any problem answers 400 "
                    "listing every problem, each naming its record. Needs a read-write grant on the tenant "
                    "(creating a tenant needs a superuser). At most 64 MiB.",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="What was (or, for a dry run, would "
                                                                         "be) created, updated, deleted and "
                                                                         "left unchanged, per type."),
                   400: ERROR, 403: ERROR, 413: ERROR},
        examples=[OpenApiExample("dry run", request_only=True, value={
            "document": {"format": transfer.FORMAT, "version": transfer.VERSION, "tenant": "Environment",
                         "objects": {"skills": [{"name": "Proactive"}]}},
            "replace": False, "dry_run": True})],
    )
    def post(self, request):
        raw = request.data
        if not isinstance(raw, bytes) or not raw.strip():
            return _error("The request body is empty; expected JSON.", [])
        try:
            body = transfer.parse_json(raw)
        except transfer.TransferError as exc:
            return _error(exc.detail, exc.errors)
        if not isinstance(body, dict):
            return _error("The body must be an object: {\"document\": {…}, \"replace\": false, \"dry_run\": false}.",
                          [])
        problems = [f"{str(k)[:80]}: unknown key." for k in body if k not in ("document", "replace", "dry_run")]
        if "document" not in body:
            problems.append("document: missing; it is required.")
        for flag in ("replace", "dry_run"):
            if flag in body and not isinstance(body[flag], bool):
                problems.append(f"{flag}: must be true or false.")
        if problems:
            return _error("The request is not valid.", problems)
        try:
            summary = transfer.import_document(body["document"], replace=body.get("replace", False),
                                               dry_run=body.get("dry_run", False), user=request.user)
        except transfer.TransferError as exc:
            return _error(exc.detail, exc.errors)
        except PermissionDenied as exc:  # the services' check, on the first write the user may not make
            return _error(str(exc), [], status.HTTP_403_FORBIDDEN)
        return Response(summary.as_dict())
