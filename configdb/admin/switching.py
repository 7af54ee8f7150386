"""Switching: switches, DNs and the virtual queues pacing targets are built on."""

from django.contrib import admin, messages

from .. import pacing_options
from ..models import DN, Switch, VirtualQueue
from .base import ConfigObjectAdmin, RelatedExistsFilter, options_value


@admin.register(Switch)
class SwitchAdmin(ConfigObjectAdmin):
    gax_section = "Switching"
    list_display = ["name", "switch_type", "t_server", "tenant", "folder_name", "state"]
    extra_filters = ("switch_type",)
    list_select_related_extra = ("t_server",)
    search_fields = ["name"]
    autocomplete_fields = ["t_server"]
    fieldsets = [
        (None, {"fields": ["name", "switch_type", "t_server", "tenant", "folder", "state"]}),
        ("Options", {"fields": ["options"]}),
    ]


class DNAdminBase(ConfigObjectAdmin):
    gax_section = "Switching"
    list_select_related_extra = ("switch",)
    search_fields = ["number", "alias"]
    autocomplete_fields = ["switch"]
    # Served by the (dn_type, number) and (number) indexes, so a page does not sort the whole table.
    ordering = ("number", "pk")
    extra_filters = (("switch", RelatedExistsFilter),)

    def get_fieldsets(self, request, obj=None):
        main = ["number", "switch", "alias", "association", "register", "route_type", "folder", "state"]
        if self.model is DN:
            main.insert(1, "dn_type")
        return [(None, {"fields": main}), ("Options", {"fields": ["options"]})]

    def _warn(self, request, obj) -> None:
        """Saved, but said: a pacing virtual queue whose alias differs from its number (configdb.pacing_options)."""
        for warning in pacing_options.queue_warnings(obj):
            self.message_user(request, warning, messages.WARNING)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._warn(request, obj)

    def import_options_view(self, request, object_id, field):
        response = super().import_options_view(request, object_id, field)
        if request.method == "POST" and response.status_code == 302:  # imported: the options may add a pacing section
            obj = self.get_object(request, object_id)
            if obj is not None:
                self._warn(request, obj)
        return response


@admin.register(DN)
class DNAdmin(DNAdminBase):
    list_display = ["number", "dn_type", "switch", "alias", "tenant", "folder_name", "state"]
    extra_filters = ("dn_type", ("switch", RelatedExistsFilter))


@admin.register(VirtualQueue)
class VirtualQueueAdmin(DNAdminBase):
    """The virtual queues alone, with the pacing options GAX users look for."""

    list_display = ["number", "switch", "alias", "pacing_media", "pacing_goal", "tenant", "folder_name", "state"]
    pacing_media = options_value("pacing", "media", "pacing media")
    pacing_goal = options_value("pacing", "optimizationGoal", "optimization goal")
