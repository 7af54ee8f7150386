"""The admin site, laid out the way GAX lays out Configuration Server objects.

GAX groups objects by the administrator's task (Environment, Switching, Accounts, Routing /
eServices) rather than by Django app; each ModelAdmin names its group in ``gax_section``. Each
group's header (on the home page and in the side bar) leads to a page of that group alone,
``/admin/section/<slug>/`` (ours: Django's app pages would list every configuration object).

*View site* leads to the API documentation (Swagger UI, ``/api/docs/``): the console has no
public site, and the site root only redirects back to the admin.

Every registered admin gets ``BoundedIntegersMixin`` (``PacingAdminSite.register``): an integer beyond a signed
64 bits in a list filter, an action's selection or an object's URL is "not found" or a refused filter on every
database, never the OverflowError SQLite's driver raises (a 500).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from configdb import validators

SECTION_ORDER = ["Monitoring", "Environment", "Switching", "Accounts", "Routing / eServices", "Pacing",
                 "Administration"]


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, saying how long a locked account name or address waits (pacingsite/throttle.py)
    instead of the generic "enter a correct username and password"."""

    def clean(self):
        from pacingsite import throttle

        left = throttle.locked_for(self.cleaned_data.get("username"), self.request)
        if left:
            raise forms.ValidationError(throttle.lock_message(left), code="throttled")
        return super().clean()


# -- integers no database column holds ---------------------------------------------------------------


def _integer_target(model: type[models.Model], lookup: str) -> models.Field | None:
    """The integer field a changelist parameter (``id__in``, ``tenant__id__exact``, ``tenant``, ``pk``) compares
    its value with, or None when it names no integer field (a text field, a transform, no field at all)."""
    field = None
    for part in lookup.split("__"):
        if field is not None and not field.is_relation:
            break  # the rest is a lookup (``in``, ``gt``) or a transform
        opts = model._meta
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            break
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    if field is not None and field.is_relation:
        try:
            target = field.target_field  # a foreign key's to_field, else the related model's primary key
        except (AttributeError, FieldError):
            target = None
        field = target if target is not None and not target.is_relation else model._meta.pk
    return field if isinstance(field, models.IntegerField) else None


def _integer_pk(model: type[models.Model]) -> bool:
    """Whether ``model``'s primary key is an integer (a DAP's is its parent link to an application's id)."""
    field = model._meta.pk
    while field.is_relation:
        field = field.target_field
    return isinstance(field, models.IntegerField)


def _spelled_values(lookup: str, values: list[str]) -> list[str]:
    if lookup.endswith("__isnull"):
        return []
    if lookup.endswith(("__in", "__range")):
        return [part for value in values for part in value.split(",")]
    return values


class BoundedChangeList(ChangeList):
    """Django's changelist, which first refuses a filter comparing an integer field with a number no 64-bit
    column holds (``?id__in=99999999999999999999``, ``?tenant=-9…``): handed to SQLite's driver such a number
    is an OverflowError (a 500). Refused as Django refuses any bad filter (IncorrectLookupParameters: back to
    the list with ``?e=1``); no row could have matched it anyway. So is a date-hierarchy year, month or day
    beyond what a C int holds (``?time__year=9…``), where Django's check catches ValueError, not OverflowError."""

    def get_queryset(self, request, exclude_parameters=None):
        own = {f.parameter_name for f in self.list_filter  # a SimpleListFilter reads its parameter itself
               if isinstance(f, type) and issubclass(f, admin.SimpleListFilter)}
        for lookup, values in request.GET.lists():
            if lookup in own or _integer_target(self.model, lookup) is None:
                continue
            if any(validators.out_of_range_integer(v) for v in _spelled_values(lookup, values)):
                raise IncorrectLookupParameters(f"{lookup}: no object has so large a number.")
        return super().get_queryset(request, exclude_parameters)

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as exc:  # the date hierarchy's ?time__year=9…: Django catches ValueError only
            raise IncorrectLookupParameters(exc) from exc


class BoundedIntegersMixin:
    """Out-of-range integers (beyond a signed 64 bits) in an admin's URLs and forms are "not found", never a
    database error, on every database: the list's filters (``BoundedChangeList``), the objects an action is
    asked for (``_selected_action``: those no row can have are dropped, as an id of a deleted row would match
    nothing), and an object's own pages (change, delete, history, options: ``get_object`` answers None, which
    Django turns into its "does not exist" message).

    Every ModelAdmin of the site has it: PacingAdminSite.register mixes it into each registered admin that
    lacks it (Django's own, such as the Group admin, included), so a new admin needs nothing to be covered."""

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if issubclass(changelist, BoundedChangeList):
            return changelist
        return type(f"Bounded{changelist.__name__}", (BoundedChangeList, changelist), {})

    def get_object(self, request, object_id, from_field=None):
        integer = _integer_pk(self.model) if from_field is None else _integer_target(self.model, from_field)
        if integer and validators.out_of_range_integer(str(object_id)):
            return None  # an id no database holds: "does not exist", never an overflow
        return super().get_object(request, object_id, from_field)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        kept = [pk for pk in selected if not validators.out_of_range_integer(pk)]
        if len(kept) != len(selected) and _integer_pk(self.model):
            post = request.POST.copy()
            post.setlist(helpers.ACTION_CHECKBOX_NAME, kept)
            request.POST = post
        return super().response_action(request, queryset)


class PacingAdminSite(admin.AdminSite):
    site_header = "Pacing Console"
    site_title = "Pacing Console"
    index_title = "Configuration"
    index_template = "admin/pacing_index.html"
    site_url = "/api/docs/"
    login_form = ThrottledAuthenticationForm

    def register(self, model_or_iterable, admin_class=None, **options):
        """Django's, with BoundedIntegersMixin mixed into every admin that lacks it (ours: an out-of-range
        integer in any admin's URL is "not found", never a 500, without each admin — Django's Group admin, a
        new one — having to remember it)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, BoundedIntegersMixin):
            admin_class = type(admin_class.__name__, (BoundedIntegersMixin, admin_class),
                               {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
        return super().register(model_or_iterable, admin_class, **options)

    def index(self, request, extra_context=None):
        """The home page is the operator's dashboard (docs/dashboard.md): the active alarms first (newest
        detection first), the pacing nodes with their leader, epoch and lease age, the config doctor's summary,
        and the pacing targets with live charts of the selected ones.

        Only the alarms and the nodes are rendered here; the targets table, the charts and the doctor's counts
        are filled in by ``pacingsite/dashboard.js`` from the JSON APIs (paginated, 25 targets a page), so the
        page costs the same few queries with 10 or 10,000 targets."""
        from alarms.models import Alarm, AlarmState
        from alarms.runtime import expire_due
        from configdb import access
        from pacing.admin_views import dashboard_nodes

        expire_due()
        active = access.scope(Alarm.objects.filter(state=AlarmState.ACTIVE), request.user)
        nodes, nodes_error = dashboard_nodes(request)
        context = {"active_alarms": list(active.order_by("-last_detected", "-id")[:20]),
                   "active_alarm_count": active.count(), "pacing_nodes": nodes, "pacing_nodes_error": nodes_error,
                   **(extra_context or {})}
        return super().index(request, context)

    def autocomplete_view(self, request):
        """Django's, with the labels an admin asks for (configdb.admin.base.AutocompleteView)."""
        from configdb.admin.base import AutocompleteView

        return AutocompleteView.as_view(admin_site=self)(request)

    def get_urls(self):
        from pacing.admin_views import nodes_view, what_if_view
        from provisioning.admin_views import doctor_view
        from provisioning.wizard import admin_views as wizard
        from provisioning.wizard import ixn_steps

        def nodes(request):
            return nodes_view(request, self)

        def doctor(request):
            return doctor_view(request, self)

        def what_if(request):
            return what_if_view(request, self)

        def deploy(view, which=None):
            if which is None:
                return self.admin_view(lambda request, **kwargs: view(request, self, **kwargs))
            return self.admin_view(lambda request, **kwargs: view(request, self, wizard=which, **kwargs))

        ixn = ixn_steps.WIZARD

        return [path("pacing/nodes/", self.admin_view(nodes), name="pacing-nodes"),
                path("pacing/doctor/", self.admin_view(doctor), name="pacing-doctor"),
                path("pacing/what-if/", self.admin_view(what_if), name="pacing-what-if"),
                path("pacing/deploy/", deploy(wizard.start_view), name="pacing-deploy"),
                path("pacing/deploy/<str:cluster>/", deploy(wizard.resume_view), name="pacing-deploy-cluster"),
                path("pacing/deploy/<str:cluster>/summary/", deploy(wizard.summary_view),
                     name="pacing-deploy-summary"),
                path("pacing/deploy/<str:cluster>/<slug:step>/", deploy(wizard.step_view), name="pacing-deploy-step"),
                path("pacing/interaction-cluster/", deploy(wizard.start_view, ixn), name="pacing-interaction-cluster"),
                path("pacing/interaction-cluster/<str:cluster>/", deploy(wizard.resume_view, ixn),
                     name="pacing-interaction-cluster-cluster"),
                path("pacing/interaction-cluster/<str:cluster>/summary/", deploy(wizard.summary_view, ixn),
                     name="pacing-interaction-cluster-summary"),
                path("pacing/interaction-cluster/<str:cluster>/<slug:step>/", deploy(wizard.step_view, ixn),
                     name="pacing-interaction-cluster-step"),
                path("section/<slug:slug>/", self.admin_view(self.section_view), name="gax-section"),
                *super().get_urls()]

    def section_view(self, request, slug):
        """One GAX section's objects, as Django's app page shows one app's."""
        section = next((s for s in self.get_app_list(request) if slugify(s["name"]) == slug), None)
        if section is None:
            raise Http404("No such section.")
        context = {**self.each_context(request), "title": section["name"], "subtitle": None,
                   "app_list": [section], "app_label": section["app_label"]}
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def _pacing_section(self) -> dict:
        """Pages, not models: the pacing nodes and the what-if (pacing/admin_views.py), the config doctor
        (provisioning/admin_views.py), the deployment wizard (provisioning/wizard/admin_views.py) and the proxy
        error codes (configdb/admin/environment.py)."""
        url = reverse("admin:pacing-nodes", current_app=self.name)
        perms = {"view": True, "add": False, "change": False, "delete": False}
        pages = [("Pacing nodes", "PacingNodes", url),
                 ("Config doctor", "ConfigDoctor", reverse("admin:pacing-doctor", current_app=self.name)),
                 ("What-if", "WhatIf", reverse("admin:pacing-what-if", current_app=self.name)),
                 ("Deploy a pacing cluster", "DeployWizard", reverse("admin:pacing-deploy", current_app=self.name)),
                 ("Configure an Interaction Server cluster", "InteractionClusterWizard",
                  reverse("admin:pacing-interaction-cluster", current_app=self.name)),
                 ("Interaction Server Proxy error codes", "ProxyErrorCodes",
                  reverse("admin:configdb_proxy_error_codes", current_app=self.name))]
        return {"name": "Pacing", "app_label": "pacing", "app_url": url, "has_module_perms": True,
                "models": [{"name": name, "object_name": object_name, "admin_url": page_url, "add_url": None,
                            "view_only": True, "perms": dict(perms)} for name, object_name, page_url in pages]}

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label:
            return apps
        sections: dict[str, dict] = {}
        for app in apps:
            for model in app["models"]:
                model_admin = self._registry.get(model["model"])
                name = getattr(model_admin, "gax_section", None) or "Administration"
                section = sections.setdefault(
                    name,
                    {
                        "name": name,
                        "app_label": app["app_label"],
                        "app_url": reverse("admin:gax-section", kwargs={"slug": slugify(name)},
                                           current_app=self.name),
                        "has_module_perms": True,
                        "models": [],
                    },
                )
                section["models"].append(model)
        if request.user.is_staff:
            sections["Pacing"] = self._pacing_section()
        ordered = sorted(sections.values(), key=lambda s: SECTION_ORDER.index(s["name"])
                         if s["name"] in SECTION_ORDER else len(SECTION_ORDER))
        for section in ordered:
            section["models"].sort(key=lambda m: m.get("gax_order", m["name"]))
        return ordered
