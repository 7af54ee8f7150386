"""The wizard's admin pages: ``/admin/pacing/deploy/`` (clusters in progress, name a new one), one page per step
(``/admin/pacing/deploy/<cluster>/<step>/``) and the summary (``…/<cluster>/summary/``).

Registered by the admin site (pacingsite/admin_site.py) like the doctor page; staff only (the admin's login). The
form of each step is drawn from the step's serializer (provisioning/wizard/serializers.py) and submitted through
flow.submit, as the API's is: one validation, one write path. A step whose earlier steps are incomplete redirects
to the first incomplete one, with a message; a read-only user sees every status and the provisioning preview, and
no form that writes.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework import serializers as drf

from configdb.models import Application, ApplicationType
from pacing.clusters import PACING_TEMPLATE

from . import flow
from .base import first_incomplete, gate
from .steps import BY_KEY, STEPS

#: steps repeated before moving on (one node at a time; one alarm condition at a time)
REPEATED = {"nodes", "alarms"}


def _url(name: str, cluster: str, step: str | None = None) -> str:
    if name == "step":
        return reverse("admin:pacing-deploy-step", kwargs={"cluster": cluster, "step": step})
    return reverse(f"admin:pacing-deploy-{name}", kwargs={"cluster": cluster})


def _step_rows(cluster: str, statuses: dict, current: str | None = None) -> list[dict]:
    rows, open_ = [], True
    for step in STEPS:
        status = statuses[step.key]
        rows.append({"step": step, "status": status, "url": _url("step", cluster, step.key), "open": open_,
                     "current": step.key == current})
        open_ = open_ and status.passed
    return rows


def start_view(request, admin_site):
    """Clusters in progress (every pacing Application Cluster, with its next step) and a form to name a new one."""
    error = None
    name = request.GET.get("cluster", "")
    if "cluster" in request.GET:
        error = flow.check_name(name)
        if error is None:
            return HttpResponseRedirect(_url("cluster", name))
    clusters = []
    for app in (Application.objects.restrict(request.user, "view").filter(app_type=ApplicationType.APPLICATION_CLUSTER)
                .filter(Q(options__has_key="pacing") | Q(template__name__startswith=PACING_TEMPLATE))
                .order_by("name")):
        statuses = flow.statuses(app.name)
        nxt = first_incomplete(STEPS, statuses)
        clusters.append({"name": app.name, "next": nxt, "url": _url("cluster", app.name),
                         "done": sum(1 for s in statuses.values() if s.done)})
    context = {**admin_site.each_context(request), "title": "Deploy a pacing cluster", "clusters": clusters,
               "error": error, "name": name}
    return TemplateResponse(request, "admin/wizard/start.html", context)


def _check(request, cluster: str) -> None:
    problem = flow.check_name(cluster)
    if problem:
        raise Http404(problem)
    if flow.hidden(cluster, request.user):
        raise Http404("No such cluster.")


def resume_view(request, admin_site, cluster):
    """The first incomplete step of ``cluster`` (the summary when all are done)."""
    _check(request, cluster)
    nxt = first_incomplete(STEPS, flow.statuses(cluster))
    return HttpResponseRedirect(_url("step", cluster, nxt.key) if nxt else _url("summary", cluster))


def _payload(step, request) -> tuple[dict, dict]:
    """The POSTed form as the step's serializer expects it (what the API would send), and the uploads."""
    form = step.serializer(context={"cluster": "", "user": request.user})
    payload, files = {}, {}
    for name, field in form.fields.items():
        if name in step.files:
            upload = request.FILES.get(name)
            if upload is not None:
                from ..templates.service import read_upload

                files[name] = (upload.name, read_upload(upload, upload.name, upload.size))
            continue
        if isinstance(field, drf.BooleanField):
            payload[name] = request.POST.get(name) in ("on", "true", "1")
        elif isinstance(field, drf.MultipleChoiceField):
            payload[name] = request.POST.getlist(name)
        else:
            value = request.POST.get(name, "")
            if value == "":   # an empty box is a missing field ("This field is required." when it is)
                continue
            payload[name] = value
    return payload, files


def _fields(step, cluster: str, values: dict, errors: dict, user=None) -> list[dict]:
    """The form's fields, drawn from the serializer."""
    form = step.serializer(context={"cluster": cluster, "user": user})
    rows = []
    for name, field in form.fields.items():
        if name in step.files:
            kind = "file"
        elif isinstance(field, drf.BooleanField):
            kind = "checkbox"
        elif isinstance(field, drf.MultipleChoiceField):
            kind = "multi"
        elif isinstance(field, drf.ChoiceField):
            kind = "select"
        elif isinstance(field, drf.IntegerField):
            kind = "number"
        else:
            kind = "text"
        value = values.get(name, field.default if field.default is not drf.empty else "")
        choices = [(str(k), str(v)) for k, v in field.choices.items()] if kind in ("select", "multi") else []
        if kind == "select" and not field.required and ("", "") not in choices and "" not in dict(choices):
            choices.insert(0, ("", "—"))
        rows.append({"name": name, "kind": kind, "label": name.replace("_", " ").capitalize(),
                     "help": field.help_text or "", "required": field.required and kind != "checkbox",
                     "value": "" if value is None else value, "choices": choices,
                     "selected": [str(v) for v in value] if isinstance(value, list | set | tuple) else [str(value)],
                     "errors": errors.get(name, [])})
    return rows


def step_view(request, admin_site, cluster, step):
    found = BY_KEY.get(step)
    _check(request, cluster)
    if found is None:
        raise Http404(f"No step '{step}'.")
    statuses = flow.statuses(cluster)
    blocker = gate(STEPS, found, statuses)
    if blocker is not None:
        messages.warning(request, f"Step {found.number} ({found.title}) opens once step {blocker.number} "
                                  f"({blocker.title}) is complete: {statuses[blocker.key].detail}")
        return HttpResponseRedirect(_url("step", cluster, blocker.key))
    values, errors, plan, code = found.initial(cluster), {}, None, 200
    if request.method == "POST":
        try:
            payload, files = _payload(found, request)
        except flow.TemplateError as exc:
            payload, files, errors, code = {}, {}, flow.template_errors(exc), 400
        if not errors:
            if found.key == "install":
                payload["dry_run"] = "preview" in request.POST
            outcome = flow.submit(found, cluster, payload, request.user, files)
            if outcome.ok:
                for line in outcome.messages:
                    messages.success(request, line)
                if found.key == "install" and payload.get("dry_run"):
                    plan = outcome.plan
                else:
                    following = next((s for s in STEPS if s.number == found.number + 1), None)
                    if found.key in REPEATED or following is None:
                        target = _url("step", cluster, found.key) if found.key in REPEATED else _url("summary",
                                                                                                     cluster)
                    else:
                        target = _url("step", cluster, following.key)
                    return HttpResponseRedirect(target)
            else:
                errors, code = outcome.errors, outcome.status
                values = {**values, **payload}
                statuses = flow.statuses(cluster)
    status = found.status(cluster)
    following = next((s for s in STEPS if s.number == found.number + 1), None)
    context = {**admin_site.each_context(request), "title": f"Deploy {cluster}: step {found.number} of {len(STEPS)}",
               "cluster": cluster, "step": found, "status": status, "rows": _step_rows(cluster, statuses, found.key),
               "fields": _fields(found, cluster, values, errors, request.user), "errors": errors.get("detail", []) +
               errors.get("cluster", []), "read_only": flow.read_only(request.user),
               "next_url": (_url("step", cluster, following.key) if following else _url("summary", cluster))
               if status.passed else None, "preview": plan, **found.context(cluster, request.user)}
    return TemplateResponse(request, "admin/wizard/step.html", context, status=code)


def summary_view(request, admin_site, cluster):
    _check(request, cluster)
    statuses = flow.statuses(cluster)
    nxt = first_incomplete(STEPS, statuses)
    if nxt is not None:
        messages.warning(request, f"The summary opens once every step is complete; step {nxt.number} "
                                  f"({nxt.title}) is not: {statuses[nxt.key].detail}")
        return HttpResponseRedirect(_url("step", cluster, nxt.key))
    findings = flow.doctor_findings(cluster, request.user)
    context = {**admin_site.each_context(request), "title": f"Cluster '{cluster}' deployed", "cluster": cluster,
               "rows": _step_rows(cluster, statuses), "findings": findings}
    return TemplateResponse(request, "admin/wizard/summary.html", context)
