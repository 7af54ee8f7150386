"""Running a step: the gate (earlier steps first), the serializer, the write in one transaction, and every refusal
turned into ``{field: [message]}`` with an HTTP status — one function for the admin pages and the API alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from rest_framework import serializers as drf

from configdb import access, services
from configdb.models import Application

from .. import doctor
from ..services import ProvisioningError
from ..templates.files import TemplateError
from .base import Status, Step, Wizard, WizardError, gate
from .steps import STEPS, cluster_app, nodes_of, served_tenant

__all__ = ["PACING", "Outcome", "TemplateError", "check_name", "doctor_findings", "hidden", "read_only", "statuses",
           "submit", "template_errors"]


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a cluster (None: it can)."""
    if not name or not name.strip() or name != name.strip():
        return "Give the cluster's name (no leading or trailing spaces)."
    if len(name) > 255 or any(c in name for c in "/\\\x00") or any(ord(c) < 32 for c in name):
        return "A cluster name has at most 255 characters and no slash or control character."
    return None


def pacing_clusters(user) -> list[str]:
    """Every pacing Application Cluster the user may read (the deployment wizard's start page)."""
    from django.db.models import Q

    from configdb.models import ApplicationType
    from pacing.clusters import PACING_TEMPLATE

    return list(Application.objects.restrict(user, "view").filter(app_type=ApplicationType.APPLICATION_CLUSTER)
                .filter(Q(options__has_key="pacing") | Q(template__name__startswith=PACING_TEMPLATE))
                .order_by("name").values_list("name", flat=True))


def hidden(name: str, user) -> bool:
    """The application ``name`` exists in a tenant ``user`` may not read: the wizard answers as for no such page
    (404), so its status does not tell what another tenant configures."""
    visible = access.visible_tenant_ids(user) if user is not None else None
    if visible is None:
        return False
    tenant_id = Application.objects.filter(name=name).values_list("tenant_id", flat=True).first()
    return tenant_id is not None and tenant_id not in visible


def read_only(user) -> bool:
    """A user with no read-write grant at all (the services refuse their writes anyway; this says so first)."""
    return not services.may_write_any(user)


def statuses(name: str, wizard: Wizard | None = None) -> dict[str, Status]:
    return {step.key: step.status(name) for step in (wizard or PACING).steps}


@dataclass
class Outcome:
    status: int                          # 200, 400, 403, 409
    errors: dict = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    plan: dict | None = None
    blocked_by: Step | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def template_errors(exc: TemplateError) -> dict:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        errors.setdefault("xml" if str(problem.file).endswith(".xml") else "apd", []).append(str(problem))
    return errors


def submit(step: Step, name: str, payload, user, files: dict | None = None, wizard: Wizard | None = None) -> Outcome:
    """Validate and apply ``step`` of ``wizard`` (the pacing one by default) for the subject ``name``; nothing is
    written unless the whole step succeeds."""
    wizard = wizard or PACING
    problem = wizard.check_name(name)
    if problem:
        return Outcome(400, {"cluster": [problem]})
    blocker = gate(list(wizard.steps), step, statuses(name, wizard))
    if blocker is not None:
        return Outcome(409, {"detail": [f"Step {blocker.number} ({blocker.title}) is not complete: "
                                        f"{blocker.status(name).detail}"]}, blocked_by=blocker)
    if read_only(user) and not (step.key == "install" and isinstance(payload, dict) and payload.get("dry_run") is True):
        return Outcome(403, {"detail": ["A read-only grant shows the wizard's status (and the provisioning preview) "
                                        "but cannot apply a step. Nothing was written."]})
    form = step.serializer(data=payload, context={"cluster": name, "files": files or {}, "user": user})
    if not form.is_valid():
        return Outcome(400, {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in form.errors.items()})
    data = dict(form.validated_data)
    for key, (filename, content) in (files or {}).items():
        data[key], data[f"{key}_name"] = content, filename
    try:
        with transaction.atomic():
            result = step.apply(name, data, user)
    except WizardError as exc:
        return Outcome(400, {exc.field: [exc.message]})
    except ProvisioningError as exc:
        return Outcome(400, {exc.field: [exc.message]})
    except TemplateError as exc:
        return Outcome(400, template_errors(exc))
    except PermissionDenied as exc:
        return Outcome(403, {"detail": [str(exc) or "You may not change this configuration (a read-only grant)."]})
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return Outcome(400, {k: list(v) for k, v in exc.message_dict.items()})
        return Outcome(400, {"detail": list(exc.messages)})
    except drf.ValidationError as exc:  # pragma: no cover - the serializer has run
        return Outcome(400, {"detail": [str(exc.detail)]})
    return Outcome(200, messages=result.get("messages", []), plan=result.get("plan"))


def doctor_findings(name: str, user) -> list[doctor.Finding]:
    """The doctor's findings on this cluster, its nodes, the servers it connects to, and the objects of the tenant
    it serves (queues, agent groups, alarm conditions, hybrid_integration)."""
    app = cluster_app(name)
    if app is None:
        return []
    related = {app.name, *(n.name for n in nodes_of(app)),
               *app.connections.values_list("server__name", flat=True)}
    tenant = served_tenant(app)
    kept = []
    for f in doctor.run(user):
        if f.object_type == "application":
            if f.object_name in related:
                kept.append(f)
        elif tenant is not None and f.tenant_id == tenant.pk:
            kept.append(f)
    return kept


#: the deployment wizard for pacing clusters (steps.py)
PACING = Wizard("deploy", "Deploy a pacing cluster", tuple(STEPS), check_name, cluster_app, pacing_clusters,
                frozenset({"nodes", "alarms"}), findings=doctor_findings)
