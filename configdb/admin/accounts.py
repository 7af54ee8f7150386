"""Accounts: media types, skills, persons (agents) and agent groups."""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect

from .. import services
from ..forms import ConfigObjectForm
from ..models import DN, AgentGroup, MediaType, OriginationDN, Person, Skill, SkillLevel
from .base import ConfigInline, ConfigObjectAdmin, same_tenant_formset
from .switching import dn_label


@admin.register(MediaType)
class MediaTypeAdmin(ConfigObjectAdmin):
    gax_section = "Accounts"
    list_display = ["name", "display_name", "tenant", "folder_name", "state"]
    search_fields = ["name", "display_name"]
    fields = ["name", "display_name", "tenant", "folder", "state"]


@admin.register(Skill)
class SkillAdmin(ConfigObjectAdmin):
    gax_section = "Accounts"
    list_display = ["name", "tenant", "folder_name", "state"]
    search_fields = ["name"]
    fields = ["name", "tenant", "folder", "state"]


class SkillLevelInline(ConfigInline):
    model = SkillLevel
    formset = same_tenant_formset("skill")
    extra = 0
    autocomplete_fields = ["skill"]


class PersonForm(ConfigObjectForm):
    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant")
        if tenant is not None:
            services.check_same_tenant(tenant.pk, cleaned.get("media_types") or [], "media_types")
        return cleaned


@admin.register(Person)
class PersonAdmin(ConfigObjectAdmin):
    gax_section = "Accounts"
    form = PersonForm
    list_display = ["user_name", "first_name", "last_name", "employee_id", "is_agent", "tenant", "folder_name",
                    "state"]
    extra_filters = ("is_agent",)
    search_fields = ["user_name", "first_name", "last_name", "employee_id", "email"]
    autocomplete_fields = ["media_types"]
    inlines = [SkillLevelInline]
    fieldsets = [
        (None, {"fields": ["user_name", "first_name", "last_name", "email", "employee_id", "is_agent",
                           "media_types", "tenant", "folder", "state"]}),
        ("Options", {"fields": ["options"], "classes": ["collapse"]}),
    ]


class TenantAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget whose search URL carries ``?tenant=<id>`` (select2 adds its own parameters
    after it), so the picker offers only that tenant's objects (DNAdmin.get_search_results). The saved
    object's tenant is in the page; configdb/static/configdb/tenant-picker.js follows the form's tenant
    field when it changes (a new object, a tenant changed before saving)."""

    tenant_id: int | None = None

    def get_url(self):
        url = super().get_url()
        return f"{url}?tenant={self.tenant_id}" if self.tenant_id else url

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-tenant-scoped"] = super().get_url()
        return attrs


class OriginationDNInline(ConfigInline):
    """The Origination DNs tab: a DN picker that searches number, alias, switch and type, labelled with all four,
    offering the DNs the user may see of the tenant chosen in the form (none chosen yet: every DN the user may
    see; a DN of another tenant is refused when saving, naming it)."""

    model = OriginationDN
    formset = same_tenant_formset("dn")
    extra = 0
    verbose_name = "origination DN"
    verbose_name_plural = "origination DNs"
    autocomplete_fields = ["dn"]

    class Media:
        js = ["admin/js/vendor/jquery/jquery.min.js", "admin/js/jquery.init.js", "configdb/tenant-picker.js"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "dn":
            kwargs["queryset"] = DN.objects.restrict(request.user, "view").select_related("switch")
            # Wide enough for the whole label (select2 takes the width from the style).
            kwargs["widget"] = TenantAutocompleteSelect(db_field, self.admin_site, attrs={"style": "width: 36em"},
                                                        using=kwargs.get("using"))
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = dn_label
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("dn")  # absent when the rows are read-only
        if field is not None:
            picker = getattr(field.widget, "widget", field.widget)  # inside Django's RelatedFieldWidgetWrapper
            picker.tenant_id = obj.tenant_id if obj is not None else None
        return formset


class AgentGroupForm(ConfigObjectForm):
    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant")
        if tenant is not None:
            for field in ("agents", "supervisors"):
                services.check_same_tenant(tenant.pk, cleaned.get(field) or [], field)
        return cleaned


@admin.register(AgentGroup)
class AgentGroupAdmin(ConfigObjectAdmin):
    gax_section = "Accounts"
    form = AgentGroupForm
    list_display = ["name", "group_type", "skill_expression", "tenant", "folder_name", "state"]
    extra_filters = ("group_type",)
    search_fields = ["name", "skill_expression"]
    autocomplete_fields = ["agents", "supervisors"]
    inlines = [OriginationDNInline]
    fieldsets = [
        (None, {"fields": ["name", "group_type", "skill_expression", "tenant", "folder", "state"]}),
        ("Agents", {"fields": ["agents", "supervisors"]}),
        ("Options", {"fields": ["options"]}),
    ]
