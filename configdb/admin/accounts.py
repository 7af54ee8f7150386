"""Accounts: media types, skills, persons (agents) and agent groups."""

from django.contrib import admin

from .. import services
from ..forms import ConfigObjectForm
from ..models import AgentGroup, MediaType, OriginationDN, Person, Skill, SkillLevel
from .base import ConfigInline, ConfigObjectAdmin, same_tenant_formset


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


class OriginationDNInline(ConfigInline):
    model = OriginationDN
    formset = same_tenant_formset("dn")
    extra = 0
    verbose_name = "origination DN"
    verbose_name_plural = "origination DNs"
    autocomplete_fields = ["dn"]


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
