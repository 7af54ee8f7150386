"""``/api/v1/config/export/`` and ``/api/v1/config/import/``: a tenant's whole configuration as one document.

The document and the rules are those of ``manage.py export_config`` / ``import_config``
(configdb/transfer.py, docs/config-transfer.md). Export needs read access to the tenant (another
tenant answers 404, as if it did not exist); import needs a read-write grant on the tenant the
document names (creating a tenant needs a superuser), else 403. A large import (a body over
``PACING_IMPORT_BACKGROUND_BYTES``, or ``"background": true``) answers 202 and runs as a background job
(configdb/import_jobs.py; its state at ``/api/v1/config/import-jobs/<id>/``, configdb/api/import_jobs.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import import_jobs, services, transfer
from ..models import Tenant
from .base import PayloadTooLarge
from .import_jobs import ImportJobSerializer, ImportSummarySerializer

#: the keys of an import request's body
BODY_KEYS = ("document", "replace", "dry_run", "background")

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
                    "secrets as enc:v1: tokens bound to the tenant (docs/config-transfer.md). Needs read access to the "
                    "tenant; without a read-write grant the secrets are withheld (masked, \"secrets\": "
                    "\"withheld\"), and such a document cannot be imported.",
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
            document = transfer.export_tenant(tenant, user=request.user)
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
        description="Body: {\"document\": {…an export…}, \"replace\": false, \"dry_run\": false, \"background\": "
                    "false}. Objects are matched by natural key: missing ones are created, existing ones set to the "
                    "document's values; replace also deletes the tenant's objects the document does not list; "
                    "dry_run reports what would change and writes nothing. All or nothing: any problem answers 400 "
                    "listing every problem, each naming its record. Needs a read-write grant on the tenant "
                    "(creating a tenant needs a superuser). At most 64 MiB. A body larger than "
                    "PACING_IMPORT_BACKGROUND_BYTES (1 MiB unless set), or with \"background\": true, runs as a "
                    "background job: 202 at once, the job's URL in Location and in the body; GET it for the "
                    "progress and, at the end, the summary or the errors (docs/config-transfer.md). The body's "
                    "shape and the grant are still checked first (400, 403: no job).",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(ImportSummarySerializer, description="What was (or, for a dry run, would "
                                                                             "be) created, updated, deleted and "
                                                                             "left unchanged, per type."),
                   202: OpenApiResponse(ImportJobSerializer, description="The document runs as a background job; "
                                                                         "its URL is in Location."),
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
        problems = [f"{str(k)[:80]}: unknown key." for k in body if k not in BODY_KEYS]
        if "document" not in body:
            problems.append("document: missing; it is required.")
        for flag in ("replace", "dry_run", "background"):
            if flag in body and not isinstance(body[flag], bool):
                problems.append(f"{flag}: must be true or false.")
        if problems:
            return _error("The request is not valid.", problems)
        document, replace, dry_run = body["document"], body.get("replace", False), body.get("dry_run", False)
        tenant = _job_tenant(document)
        if tenant is not None and (body.get("background") or len(raw) > settings.PACING_IMPORT_BACKGROUND_BYTES):
            return self._background(request, raw, tenant, replace=replace, dry_run=dry_run)
        try:
            summary = transfer.import_document(document, replace=replace, dry_run=dry_run, user=request.user)
        except transfer.TransferError as exc:
            return _error(exc.detail, exc.errors)
        except PermissionDenied as exc:  # the services' check, on the first write the user may not make
            return _error(str(exc), [], status.HTTP_403_FORBIDDEN)
        return Response(summary.as_dict())

    @staticmethod
    def _background(request, raw: bytes, tenant: str, *, replace: bool, dry_run: bool) -> Response:
        """202 and the job's URL; the import runs in a Celery worker (or, with no broker, a thread here). The
        grant is checked first (403, no job), as transfer.import_document checks it before anything else."""
        try:
            services.check_tenant_write(request.user, tenant)
        except PermissionDenied as exc:
            return _error(str(exc), [], status.HTTP_403_FORBIDDEN)
        job = import_jobs.create(request.user, raw, tenant=tenant, replace=replace, dry_run=dry_run)
        data = ImportJobSerializer(job, context={"request": request}).data  # as queued: the answer never waits
        import_jobs.enqueue(job)
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


def _job_tenant(document) -> str | None:
    """The tenant a document that may become a job names; None for a document whose top level is wrong (not an
    object, another format or version, no tenant name, no objects), which the importer refuses at once, before
    reading any record — such a document is answered 400 within the request whatever its size."""
    if not isinstance(document, dict) or document.get("format") != transfer.FORMAT:
        return None
    version = document.get("version")
    if isinstance(version, bool) or version != transfer.VERSION or not isinstance(document.get("objects"), dict):
        return None
    tenant = document.get("tenant")
    if not isinstance(tenant, str) or not tenant or "\x00" in tenant or len(tenant) > 255:
        return None
    return tenant
