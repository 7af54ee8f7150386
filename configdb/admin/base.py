"""What every configuration object's admin shares.

GAX-style list filters (tenant, folder, type, state), the enable / disable / clone actions, the
options import/export pages, and saving through the service layer so the admin validates exactly
as the API and the commands do.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from .. import services, validators
from ..forms import VERSION_FIELD, ConfigObjectForm
from ..models import Folder, ObjectChange, State, Tenant


def folder_paths(folder_type: str) -> list[tuple[int, str]]:
    """All folders of one type with their full paths, in one query."""
    folders = {f.pk: f for f in Folder.objects.filter(folder_type=folder_type).only("id", "name", "parent_id")}

    def path_of(folder, depth=0):
        parent = folders.get(folder.parent_id)
        if parent is None or depth > 50:
            return folder.name
        return f"{path_of(parent, depth + 1)} / {folder.name}"

    return sorted(((pk, path_of(f)) for pk, f in folders.items()), key=lambda item: item[1].lower())


class FolderFilter(admin.SimpleListFilter):
    """Browse a list by folder, as GAX's Directory drop-down does."""

    title = "folder"
    parameter_name = "folder"

    def lookups(self, request, model_admin):
        return [("none", "(no folder)")] + [
            (str(pk), path) for pk, path in folder_paths(model_admin.model.folder_type)
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(folder__isnull=True)
        if value:
            if not (value.isascii() and value.isdigit()) or validators.out_of_range_integer(value):
                return queryset.none()
            return queryset.filter(folder_id=int(value))
        return queryset


class RelatedExistsFilter(admin.RelatedFieldListFilter):
    """Like RelatedOnlyFieldListFilter (only choices that own a row of the list), but asked with
    EXISTS per choice instead of SELECT DISTINCT over the whole list, which costs a table scan of
    every virtual queue on every page view."""

    def field_choices(self, field, request, model_admin):
        rows = model_admin.get_queryset(request).filter(**{field.name: OuterRef("pk")})
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, ordering=ordering,
                                 limit_choices_to=Q(Exists(rows)))


class TenantFilter(RelatedExistsFilter):
    """Tenants that own at least one object of the list, shown even when there is only one (Django hides a
    filter with a single choice): the README promises a tenant filter on every list, and a GAX administrator
    looks for it there, also to see which tenant a single-tenant console's objects belong to."""

    def has_output(self):
        return True


def _counted(count: int, noun: str) -> str:
    """``1 key``, ``2 keys``, ``0 keys``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _problem(exc: Exception) -> str:
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _set_state(modeladmin, request, queryset, state: str, verb: str) -> None:
    changed = 0
    for obj in queryset:
        try:
            changed += services.set_state([obj], state, user=request.user)
        except (ValidationError, PermissionDenied, services.ObjectGone) as exc:
            modeladmin.message_user(request, f"Could not {verb} '{obj}': {_problem(exc)}", messages.ERROR)
    modeladmin.message_user(request, f"{changed} object(s) {verb}d.", messages.SUCCESS if changed else messages.WARNING)


@admin.action(description="Enable selected objects")
def enable(modeladmin, request, queryset):
    _set_state(modeladmin, request, queryset, State.ENABLED, "enable")


@admin.action(description="Disable selected objects")
def disable(modeladmin, request, queryset):
    _set_state(modeladmin, request, queryset, State.DISABLED, "disable")


@admin.action(description="Clone selected objects")
def clone(modeladmin, request, queryset):
    made = []
    for obj in queryset[:100]:
        try:
            made.append(str(services.clone_object(obj, user=request.user)))
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"Could not clone '{obj}': {_problem(exc)}", messages.ERROR)
    if made:
        modeladmin.message_user(request, f"Created {', '.join(made)}.", messages.SUCCESS)


class OptionsImportForm(forms.Form):
    file = forms.FileField(
        label="Options file", help_text="GAX's plain-text format: [section] lines, then key=value lines (UTF-8)."
    )
    replace = forms.BooleanField(
        required=False, label="Replace all options",
        help_text="Unticked: the file's keys are added or updated and the others kept. "
                  "Ticked: options not in the file are removed.",
    )


class OptionsAdminMixin:
    """Import and export of an object's options (or annex) in GAX's plain-text format."""

    change_form_template = "admin/configdb/change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        extra = [
            path("<path:object_id>/options/<str:field>/export/",
                 self.admin_site.admin_view(self.export_options_view), name="{}_{}_export_options".format(*info)),
            path("<path:object_id>/options/<str:field>/import/",
                 self.admin_site.admin_view(self.import_options_view), name="{}_{}_import_options".format(*info)),
        ]
        return extra + super().get_urls()

    def options_fields_shown(self, request, obj=None) -> list[str]:
        """The options fields this admin's form shows (only those can be imported or exported here)."""
        shown = set(flatten_fieldsets(self.get_fieldsets(request, obj)))
        return [name for name in services.options_fields(self.model) if name in shown]

    def _options_object(self, request, object_id, field, *, change: bool):
        obj = self.get_object(request, object_id)
        if obj is None or field not in self.options_fields_shown(request, obj):
            raise Http404("No such object or options field.")
        allowed = self.has_change_permission(request, obj) if change else self.has_view_permission(request, obj)
        if not allowed:
            raise PermissionDenied
        return obj

    def export_options_view(self, request, object_id, field):
        obj = self._options_object(request, object_id, field, change=False)
        text = services.export_options(obj, field)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        filename = f"{slugify(str(obj)) or obj.pk}-{field}.txt"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def import_options_view(self, request, object_id, field):
        obj = self._options_object(request, object_id, field, change=True)
        form = OptionsImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > 1024 * 1024:
                    raise ValidationError("The file is larger than 1024 KiB.")
                new = services.import_options(obj, field, upload.read(), replace=form.cleaned_data["replace"],
                                              user=request.user)
            except ValidationError as exc:
                problems = exc.messages
            else:
                self.log_change(request, obj, [{"changed": {"fields": [field]}}])
                count = sum(len(keys) for keys in new.values())
                keys, sections = _counted(count, "key"), _counted(len(new), "section")
                self.message_user(request, f"Imported options: '{obj}' now has {keys} in {sections}.",
                                  messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import {self.model._meta.get_field(field).verbose_name} of {obj}",
            "opts": self.opts,
            "original": obj,
            "form": form,
            "field": field,
            "problems": problems,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/configdb/import_options.html", context,
                                status=400 if problems else 200)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            for warning in services.sealed_secret_warnings(obj):
                self.message_user(request, warning, messages.WARNING)
        extra_context["options_links"] = self.options_links(request, obj) if obj is not None else []
        return super().change_view(request, object_id, form_url, extra_context)

    def options_links(self, request, obj) -> list[dict]:
        """Each shown options field's label and its export / import page, as absolute URLs (reversed from
        the admin's URL names: a relative link would resolve under ``…/change/`` and answer 404)."""
        info = self.admin_site.name, self.opts.app_label, self.opts.model_name
        links = []
        for name in self.options_fields_shown(request, obj):
            args = [obj.pk, name]
            links.append({
                "name": name,
                "label": self.model._meta.get_field(name).verbose_name,
                "export_url": reverse("{}:{}_{}_export_options".format(*info), args=args),
                "import_url": reverse("{}:{}_{}_import_options".format(*info), args=args),
            })
        return links


class TenantScopedMixin:
    """The admin obeys the same tenant grants as the API (configdb/access.py): lists show only granted
    tenants' objects (``restrict(user, "view")``), and the add / change / delete buttons show only with a
    read-write grant (``services.may_write``: the services' own rule, asked for what to show). What enforces
    the grant on a write is configdb.services, which every save takes."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and services.may_write_any(request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or services.may_write(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or services.may_write(request.user, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related._meta.app_label == "configdb" and related._meta.model_name == "tenant":
            kwargs.setdefault("queryset", Tenant.objects.restrict(request.user, "change"))
        elif related._meta.app_label == "configdb":
            kwargs.setdefault("queryset", related._default_manager.restrict(request.user, "view"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TenantScopedInlineMixin:
    """Inline rows (ports, connections, links) may be changed where their parent may."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def _parent_writable(self, request, obj):
        return obj is None or services.may_write(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._parent_writable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._parent_writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._parent_writable(request, obj)


class ServiceSaveMixin:
    """Save and delete through the service layer, with the request's user: the admin runs the same code
    (tenant grant, full_clean, row lock, version, history) as the API and the commands, and checks nothing
    itself."""

    change_form_template = "admin/configdb/change_form.html"

    def get_fields(self, request, obj=None):
        # The version travels in the change form's template (form_top), never as a visible row.
        return [f for f in super().get_fields(request, obj) if f != VERSION_FIELD]

    def save_model(self, request, obj, form, change):
        services.save_object(obj, user=request.user, version=form.cleaned_data.get(VERSION_FIELD) or None)

    def save_related(self, request, form, formsets, change):
        # The form's many-to-many fields (agents, media types, …) as links, through the service.
        for field in form.instance._meta.many_to_many:
            if field.name in form.cleaned_data and field.name in form.fields:
                services.set_links(form.instance, field.name, form.cleaned_data[field.name], user=request.user)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        with contextlib.suppress(services.ObjectGone):  # deleted meanwhile by another request: gone either way
            services.delete_object(obj, user=request.user)

    def delete_queryset(self, request, queryset):
        # The "Delete selected" action: each object through the service (grant, history), all or none: an
        # object that refuses (a media type pacing queues use) undoes the others (changelist_view says why).
        with transaction.atomic():
            for obj in queryset:
                with contextlib.suppress(services.ObjectGone):
                    services.delete_object(obj, user=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:  # the object refuses to go (Model.delete): said on its page, not a 500
            self.message_user(request, f"Nothing was deleted: {_problem(exc)}", messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                                                args=[object_id], current_app=self.admin_site.name))

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":  # a list is read outside any transaction (SQLite: no write lock)
            return super().changelist_view(request, extra_context)
        try:
            with transaction.atomic():  # an action, and the admin log entries it writes, all or none
                return super().changelist_view(request, extra_context)
        except ValidationError as exc:
            self.message_user(request, f"Nothing was changed: {_problem(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_formset(self, request, form, formset, change):
        # Inline rows (ports, connections, skill levels, links) take the same path as the object.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            with contextlib.suppress(services.ObjectGone):
                services.delete_object(obj, user=request.user)
        for obj in instances:
            services.save_object(obj, user=request.user)
        formset.save_m2m()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, services.StaleObject, services.ObjectGone) as exc:
            # What validation could not see before the save (a name taken at the same moment by another
            # request): said on the page the user comes back to, never a server error.
            self.message_user(request, f"Nothing was saved: {_problem(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class HistoryAdminMixin:
    """The History button shows the change history (who, when, before → after, secrets redacted)."""

    object_history_template = "admin/configdb/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        changes = ObjectChange.objects.filter(
            content_type=ContentType.objects.get_for_model(self.model), object_id=str(obj.pk)
        ).select_related("user")[:500]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change history: {obj}",
            "subtitle": None,
            "changes": changes,
            "module_name": str(self.opts.verbose_name_plural).capitalize(),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)


class ConfigObjectAdmin(TenantScopedMixin, HistoryAdminMixin, OptionsAdminMixin, ServiceSaveMixin, admin.ModelAdmin):
    """Base admin of every tenant-owned configuration object."""

    form = ConfigObjectForm
    actions = [enable, disable, clone]
    list_per_page = 100
    show_full_result_count = False
    gax_section = "Environment"
    base_filters = (("tenant", TenantFilter), FolderFilter, "state")
    extra_filters: tuple = ()
    autocomplete_fields: tuple = ()

    def get_list_filter(self, request):
        return list(self.extra_filters) + list(self.base_filters)

    def get_list_select_related(self, request):
        return ["tenant", "folder", *self.list_select_related_extra]

    list_select_related_extra: tuple = ()
    #: fields fixed once the object exists (an application's type and template)
    frozen_fields: tuple = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + list(self.frozen_fields) if obj is not None else fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "folder":
            folders = Folder.objects.filter(folder_type=self.model.folder_type).select_related("parent")
            kwargs["queryset"] = folders.restrict(request.user, "view")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="folder", ordering="folder__name")
    def folder_name(self, obj):
        return obj.folder.name if obj.folder_id else ""


class ConfigInline(TenantScopedInlineMixin, admin.TabularInline):
    """Base of the inlines (ports, connections, links)."""

    extra = 0


class SameTenantInlineFormSet(forms.BaseInlineFormSet):
    """An inline's linked objects (``target_field``) must belong to the parent's tenant."""

    target_field = ""

    def clean(self):
        super().clean()
        tenant_id = getattr(self.instance, "tenant_id", None)
        related = [
            form.cleaned_data[self.target_field]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get(self.target_field)
        ]
        services.check_same_tenant(tenant_id, related, "__all__")


def same_tenant_formset(field: str) -> type[forms.BaseInlineFormSet]:
    return type(f"SameTenant{field.title()}FormSet", (SameTenantInlineFormSet,), {"target_field": field})


def options_value(section: str, key: str, description: str):
    """A list column showing one option value (e.g. pacing/media of a virtual queue)."""

    @admin.display(description=description)
    def column(self, obj):
        return (obj.options or {}).get(section, {}).get(key, "")

    return column


class AutocompleteView(AutocompleteJsonView):
    """Django's autocomplete (the admin site's, pacingsite.admin_site), each result labelled by the searched
    admin's ``autocomplete_label(obj)`` where it has one (a DN: number, type, switch, alias), else ``str(obj)``.
    Search, permission and tenant scoping stay Django's and the admin's (``get_search_results``, ``get_queryset``)."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result
