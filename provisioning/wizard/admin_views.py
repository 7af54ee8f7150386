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
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework import serializers as drf

from . import flow
from .base import Wizard, first_incomplete, gate

PACING = flow.PACING


def _url(name: str, cluster: str, step: str | None = None, wizard: Wizard = PACING) -> str:
    """The admin URL names are ``pacing-<wizard.key>[-…]`` (pacingsite/admin_site.py)."""
    if name == "step":
        return reverse(f"admin:pacing-{wizard.key}-step", kwargs={"cluster": cluster, "step": step})
    return reverse(f"admin:pacing-{wizard.key}-{name}", kwargs={"cluster": cluster})


def _common(admin_site, request, wizard: Wizard) -> dict:
    return {**admin_site.each_context(request), "wizard": wizard,
            "wizard_url": reverse(f"admin:pacing-{wizard.key}"), "wizard_title": wizard.title}


def _step_rows(cluster: str, statuses: dict, current: str | None = None, wizard: Wizard = PACING) -> list[dict]:
    rows, open_ = [], True
    for step in wizard.steps:
        status = statuses[step.key]
        rows.append({"step": step, "status": status, "url": _url("step", cluster, step.key, wizard), "open": open_,
                     "current": step.key == current})
        open_ = open_ and status.passed
    return rows


def start_view(request, admin_site, wizard: Wizard = PACING):
    """Subjects in progress (with their next step) and a form to name a new one."""
    error = None
    name = request.GET.get("cluster", "")
    if "cluster" in request.GET:
        error = wizard.check_name(name)
        if error is None:
            return HttpResponseRedirect(_url("cluster", name, wizard=wizard))
    clusters = []
    for subject in wizard.subjects(request.user):
        statuses = flow.statuses(subject, wizard)
        nxt = first_incomplete(list(wizard.steps), statuses)
        clusters.append({"name": subject, "next": nxt, "url": _url("cluster", subject, wizard=wizard),
                         "done": sum(1 for s in statuses.values() if s.done)})
    context = {**_common(admin_site, request, wizard), "title": wizard.title, "clusters": clusters,
               "error": error, "name": name, "total": len(wizard.steps)}
    return TemplateResponse(request, wizard.start_template, context)


def _check(request, cluster: str, wizard: Wizard = PACING) -> None:
    problem = wizard.check_name(cluster)
    if problem:
        raise Http404(problem)
    if flow.hidden(cluster, request.user):
        raise Http404("No such cluster.")


def resume_view(request, admin_site, cluster, wizard: Wizard = PACING):
    """The first incomplete step of ``cluster`` (the summary when all are done)."""
    _check(request, cluster, wizard)
    nxt = first_incomplete(list(wizard.steps), flow.statuses(cluster, wizard))
    return HttpResponseRedirect(_url("step", cluster, nxt.key, wizard) if nxt else _url("summary", cluster,
                                                                                         wizard=wizard))


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
        elif field.write_only:   # a secret (the DAP password): never drawn back into the page
            kind = "password"
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
        value = "" if kind == "password" else values.get(name, field.default if field.default is not drf.empty else "")
        choices = [(str(k), str(v)) for k, v in field.choices.items()] if kind in ("select", "multi") else []
        if kind == "select" and not field.required and ("", "") not in choices and "" not in dict(choices):
            choices.insert(0, ("", "—"))
        rows.append({"name": name, "kind": kind, "label": name.replace("_", " ").capitalize(),
                     "help": field.help_text or "", "required": field.required and kind != "checkbox",
                     "value": "" if value is None else value, "choices": choices,
                     "selected": [str(v) for v in value] if isinstance(value, list | set | tuple) else [str(value)],
                     "errors": errors.get(name, [])})
    return rows


def step_view(request, admin_site, cluster, step, wizard: Wizard = PACING):
    STEPS = list(wizard.steps)
    found = wizard.by_key.get(step)
    _check(request, cluster, wizard)
    if found is None:
        raise Http404(f"No step '{step}'.")
    statuses = flow.statuses(cluster, wizard)
    blocker = gate(STEPS, found, statuses)
    if blocker is not None:
        messages.warning(request, f"Step {found.number} ({found.title}) opens once step {blocker.number} "
                                  f"({blocker.title}) is complete: {statuses[blocker.key].detail}")
        return HttpResponseRedirect(_url("step", cluster, blocker.key, wizard))
    values, errors, plan, code = found.initial(cluster), {}, None, 200
    if request.method == "POST":
        try:
            payload, files = _payload(found, request)
        except flow.TemplateError as exc:
            payload, files, errors, code = {}, {}, flow.template_errors(exc), 400
        if not errors:
            if found.key == "install":
                payload["dry_run"] = "preview" in request.POST
            outcome = flow.submit(found, cluster, payload, request.user, files, wizard)
            if outcome.ok:
                for line in outcome.messages:
                    messages.success(request, line)
                if found.key == "install" and payload.get("dry_run"):
                    plan = outcome.plan
                else:
                    following = next((s for s in STEPS if s.number == found.number + 1), None)
                    if found.key in wizard.repeated:
                        target = _url("step", cluster, found.key, wizard)
                    elif following is None:
                        target = _url("summary", cluster, wizard=wizard)
                    else:
                        target = _url("step", cluster, following.key, wizard)
                    return HttpResponseRedirect(target)
            else:
                errors, code = outcome.errors, outcome.status
                values = {**values, **payload}
                statuses = flow.statuses(cluster, wizard)
    status = found.status(cluster)
    following = next((s for s in STEPS if s.number == found.number + 1), None)
    verb = "Deploy" if wizard is PACING else "Configure"
    context = {**_common(admin_site, request, wizard),
               "title": f"{verb} {cluster}: step {found.number} of {len(STEPS)}",
               "cluster": cluster, "step": found, "status": status,
               "rows": _step_rows(cluster, statuses, found.key, wizard),
               "fields": _fields(found, cluster, values, errors, request.user), "errors": errors.get("detail", []) +
               errors.get("cluster", []), "read_only": flow.read_only(request.user),
               "next_url": (_url("step", cluster, following.key, wizard) if following
                            else _url("summary", cluster, wizard=wizard)) if status.passed else None,
               "preview": plan, **found.context(cluster, request.user)}
    return TemplateResponse(request, "admin/wizard/step.html", context, status=code)


def summary_view(request, admin_site, cluster, wizard: Wizard = PACING):
    _check(request, cluster, wizard)
    statuses = flow.statuses(cluster, wizard)
    nxt = first_incomplete(list(wizard.steps), statuses)
    if nxt is not None:
        messages.warning(request, f"The summary opens once every step is complete; step {nxt.number} "
                                  f"({nxt.title}) is not: {statuses[nxt.key].detail}")
        return HttpResponseRedirect(_url("step", cluster, nxt.key, wizard))
    findings = wizard.findings(cluster, request.user)
    done = "deployed" if wizard is PACING else "configured"
    context = {**_common(admin_site, request, wizard), "title": f"Cluster '{cluster}' {done}", "cluster": cluster,
               "rows": _step_rows(cluster, statuses, wizard=wizard), "findings": findings}
    return TemplateResponse(request, "admin/wizard/summary.html", context)
