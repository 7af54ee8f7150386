"""The deployment wizard through the API (docs/wizard.md): every step the admin's wizard has, as JSON.

``GET /api/v1/provisioning/deploy/<cluster>/``: the nine steps' status for that cluster (any authenticated user;
a read-only grant is enough). ``POST /api/v1/provisioning/deploy/<cluster>/<step>/``: the step's fields as a JSON
object (the step's serializer in provisioning/wizard/serializers.py); 400 names the field, 403 for a read-only
grant (except the install step's ``dry_run``), 409 while an earlier step is incomplete, 404 for an unknown step.
Thin: provisioning/wizard/flow.py does the work, as it does for the admin pages.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..wizard import flow, ixn_steps
from ..wizard.base import first_incomplete
from .serializers import PlanSerializer

ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description='{"<field>": ["…"]} or {"detail": ["…"]}')


class StepStatusSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["done", "to do", "optional"])
    done = serializers.BooleanField()
    optional = serializers.BooleanField()
    detail = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())

    class Meta:
        fields = ("number", "key", "title", "status", "done", "optional", "detail", "warnings")


class DeployStatusSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    next = serializers.CharField(allow_null=True, help_text="The first step to do (null: all done).")
    steps = StepStatusSerializer(many=True)

    class Meta:
        fields = ("cluster", "next", "steps")


class StepResultSerializer(serializers.Serializer):
    step = serializers.CharField()
    messages = serializers.ListField(child=serializers.CharField())
    plan = PlanSerializer(allow_null=True, help_text="The provisioning plan (install, alarms re-created).")
    status = StepStatusSerializer()

    class Meta:
        fields = ("step", "messages", "plan", "status")


def _status_row(step, status) -> dict:
    return {"number": step.number, "key": step.key, "title": step.title, "status": status.label,
            "done": status.done, "optional": status.optional, "detail": status.detail,
            "warnings": list(status.warnings)}


def _check_name(cluster: str, user, wizard=flow.PACING) -> None:
    problem = wizard.check_name(cluster)
    if problem:
        raise serializers.ValidationError({"cluster": [problem]})
    if flow.hidden(cluster, user):
        raise Http404("No such cluster.")


class WizardStatusView(APIView):
    """The status of a wizard's steps for one subject, computed from the configuration (``wizard``: which one)."""

    wizard = flow.PACING

    def get(self, request, cluster):
        _check_name(cluster, request.user, self.wizard)
        statuses = flow.statuses(cluster, self.wizard)
        steps = list(self.wizard.steps)
        nxt = first_incomplete(steps, statuses)
        data = {"cluster": cluster, "next": nxt.key if nxt else None,
                "steps": [_status_row(step, statuses[step.key]) for step in steps]}
        return Response(DeployStatusSerializer(data).data)


class WizardStepView(APIView):
    """Apply one step of a wizard (its fields as a JSON object)."""

    wizard = flow.PACING

    def post(self, request, cluster, step):
        found = self.wizard.by_key.get(step)
        if flow.hidden(cluster, request.user):
            raise Http404("No such cluster.")
        if found is None:
            raise Http404(f"No step '{step}' (the steps: {', '.join(self.wizard.by_key)}).")
        outcome = flow.submit(found, cluster, request.data, request.user, wizard=self.wizard)
        if not outcome.ok:
            return Response(outcome.errors, status=outcome.status)
        data = {"step": found.key, "messages": outcome.messages, "plan": outcome.plan,
                "status": _status_row(found, found.status(cluster))}
        return Response(StepResultSerializer(data).data)


class DeployStatusView(WizardStatusView):
    """The status of the nine deployment steps for one cluster, computed from the configuration."""

    @extend_schema(operation_id="provisioning_deploy_status", tags=["provisioning"],
                   responses={200: DeployStatusSerializer, 400: ERROR, 401: ERROR, 404: ERROR})
    def get(self, request, cluster):
        return super().get(request, cluster)


class DeployStepView(WizardStepView):
    """Apply one deployment step (its fields as a JSON object)."""

    @extend_schema(operation_id="provisioning_deploy_step", tags=["provisioning"], request=OpenApiTypes.OBJECT,
                   responses={200: StepResultSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR,
                              409: ERROR})
    def post(self, request, cluster, step):
        return super().post(request, cluster, step)


class InteractionClusterStatusView(WizardStatusView):
    """The Interaction Server cluster wizard's eight steps (the seed's 1–10) for one cluster."""

    wizard = ixn_steps.WIZARD

    @extend_schema(operation_id="provisioning_interaction_cluster_status", tags=["provisioning"],
                   responses={200: DeployStatusSerializer, 400: ERROR, 401: ERROR, 404: ERROR})
    def get(self, request, cluster):
        return super().get(request, cluster)


class InteractionClusterStepView(WizardStepView):
    """Apply one step of the Interaction Server cluster wizard (its fields as a JSON object; the DAP password is
    write-only and never echoed)."""

    wizard = ixn_steps.WIZARD

    @extend_schema(operation_id="provisioning_interaction_cluster_step", tags=["provisioning"],
                   request=OpenApiTypes.OBJECT,
                   responses={200: StepResultSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR,
                              409: ERROR})
    def post(self, request, cluster, step):
        return super().post(request, cluster, step)
