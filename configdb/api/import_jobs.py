"""``/api/v1/config/import-jobs/``: the background configuration imports (configdb/import_jobs.py).

A job is its owner's: another user's answers 404, as if it did not exist; a superuser sees every job. The
list holds the user's own jobs, newest first.
"""

from __future__ import annotations

import uuid

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers

from .. import import_jobs
from ..models import ImportJob, JobState
from .base import RESERVED_PARAMS


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(min_value=0, help_text="Objects imported so far.")
    total = serializers.IntegerField(min_value=0, help_text="Objects to import, as far as known so far (it "
                                                            "grows while the document is read).")
    percent = serializers.FloatField(min_value=0, max_value=100)


class ImportSummarySerializer(serializers.Serializer):
    """What an import did (or, for a dry run, would do): the 200 answer of POST /api/v1/config/import/."""

    tenant = serializers.CharField()
    tenant_created = serializers.BooleanField()
    replace = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()),
                                   help_text="Per type: created, updated, deleted, unchanged.")
    totals = serializers.DictField(child=serializers.IntegerField())


def job_url(job: ImportJob, request=None) -> str:
    path = reverse("api:config-import-job", kwargs={"pk": str(job.pk)})
    return request.build_absolute_uri(path) if request is not None else path


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    user = serializers.CharField(source="user.username", read_only=True, help_text="Who sent the document.")
    progress = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = ["id", "url", "state", "user", "tenant", "replace", "dry_run", "size", "progress", "created",
                  "started", "finished", "summary", "detail", "errors"]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return job_url(job, self.context.get("request"))

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job) -> dict:
        return import_jobs.progress_of(job)

    @extend_schema_field(ImportSummarySerializer(allow_null=True, help_text="When it succeeded: the 200 answer "
                                                                            "of a direct import."))
    def get_summary(self, job) -> dict | None:
        return job.summary if job.state == JobState.SUCCEEDED else None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="When it failed: why."))
    def get_detail(self, job) -> str | None:
        return job.detail if job.state == JobState.FAILED else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True,
                                               help_text="When it failed: every problem, each naming its "
                                                         "record (as the 400 answer's errors)."))
    def get_errors(self, job) -> list[str] | None:
        return list(job.errors or []) if job.state == JobState.FAILED else None


class _JobQuerySetMixin:
    serializer_class = ImportJobSerializer

    def get_queryset(self):
        return ImportJob.objects.restrict(self.request.user, "view").select_related("user").defer("document")


@extend_schema(tags=["config"])
class ImportJobListView(_JobQuerySetMixin, generics.ListAPIView):
    """The user's background imports, newest first."""

    def get_queryset(self):
        unknown = sorted(set(self.request.query_params) - RESERVED_PARAMS)
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, "Unknown query parameter."))
        # a superuser sees any job by its URL; the list is everyone's own
        return super().get_queryset().filter(user_id=self.request.user.pk)

    @extend_schema(operation_id="config_import_jobs_list", summary="List your background imports",
                   description="Your background configuration imports (POST /api/v1/config/import/ above the "
                               "size threshold, or with \"background\": true), newest first.",
                   responses={200: ImportJobSerializer(many=True), 400: OpenApiResponse(
                       OpenApiTypes.OBJECT, description="An unknown query parameter, or a bad limit or offset.")})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["config"])
class ImportJobDetailView(_JobQuerySetMixin, generics.RetrieveAPIView):
    """One background import: its state, its progress, and when it ended, its summary or its errors."""

    def get_object(self):
        try:
            pk = uuid.UUID(str(self.kwargs["pk"]))
        except ValueError:
            raise exceptions.NotFound("No such import job.") from None
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise exceptions.NotFound("No such import job.")
        return import_jobs.check_interrupted(job)

    @extend_schema(operation_id="config_import_job", summary="A background import's state and progress",
                   description="state is queued, running, succeeded or failed; progress counts the objects "
                               "imported. When it succeeded, summary is the 200 answer of a direct import; when "
                               "it failed, detail and errors are the 400 (or 403) answer's, and nothing was "
                               "imported. Only the job's owner (or a superuser) sees it; others get 404.",
                   parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                                description="The job's id (the last part of its URL).")],
                   responses={200: ImportJobSerializer,
                              404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such job (or not "
                                                                                    "yours).")})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
