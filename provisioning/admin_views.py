"""The admin's config doctor page (``/admin/pacing/doctor/``): the same findings as ``GET /api/v1/doctor/``.

Registered by the admin site (pacingsite/admin_site.py), listed beside the pacing nodes on the home page. Staff
only (the admin's login); a user sees the findings on objects of the tenants they may read, each linked to the
object's change page. ``?severity=`` keeps one severity.
"""

from __future__ import annotations

from django.template.response import TemplateResponse

from . import doctor


def doctor_view(request, admin_site):
    severity = request.GET.get("severity")
    findings = doctor.run(request.user)
    counts = doctor.summary(findings)
    groups = [{"severity": s, "findings": [f for f in findings if f.severity == s]}
              for s in doctor.SEVERITIES if severity in (None, "", s)]
    context = {**admin_site.each_context(request), "title": "Config doctor", "groups": groups, "counts": counts,
               "rules": doctor.RULES, "severity": severity}
    # The template sits with the admin site's own (pacingsite/templates/admin/): provisioning/templates/ is the
    # package of the template-file parsers (ours: a Python package and a template folder of one name would mix).
    return TemplateResponse(request, "admin/doctor.html", context)
