"""Switching: switches, DNs and the virtual queues pacing targets are built on."""

from django.contrib import admin, messages
from django.db.models import Q

from .. import pacing_options
from ..models import DN, DNType, Switch, VirtualQueue
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


def dn_label(dn: DN) -> str:
    """How a DN is named in a picker: a number alone is ambiguous (the same number on two switches, a queue
    and its routing point), so its type, switch and alias come with it."""
    label = f"{dn.number} — {dn.get_dn_type_display()} on {dn.switch.name}"
    return f"{label}, alias {dn.alias}" if dn.alias and dn.alias != dn.number else label


#: the autocomplete requests (Django's AutocompleteJsonView) that pick an agent group's origination DN
ORIGINATION_DN_FIELD = ("originationdn", "dn")


class DNAdminBase(ConfigObjectAdmin):
    gax_section = "Switching"
    list_select_related_extra = ("switch",)
    #: the list's search box and the DN pickers (autocomplete): number, alias, switch name and type, each word
    #: of the search in any of them (the type by its value, e.g. virtual_queue, or its label, see below)
    search_fields = ["number", "alias", "switch__name", "dn_type"]
    autocomplete_fields = ["switch"]
    # Served by the (dn_type, number) and (number) indexes, so a page does not sort the whole table.
    ordering = ("number", "pk")
    extra_filters = (("switch", RelatedExistsFilter),)

    def get_fieldsets(self, request, obj=None):
        main = ["number", "switch", "alias", "association", "register", "route_type", "folder", "state"]
        if self.model is DN:
            main.insert(1, "dn_type")
        return [(None, {"fields": main}), ("Options", {"fields": ["options"]})]

    #: the DN pickers' labels (configdb.admin.base.AutocompleteView)
    autocomplete_label = staticmethod(dn_label)

    def get_search_results(self, request, queryset, search_term):
        """Also a DN whose type's label holds the whole search ("voice mail", "e-mail"); and, picking an agent
        group's origination DN, only the DNs of the group's tenant (``?tenant=`` which the picker's URL carries,
        configdb.admin.accounts), as the group may list no other (OriginationDN.clean). OURS: GAX lists every
        DN the user may read and refuses the save."""
        unsearched = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lower()
        types = [value for value, label in DNType.choices if term in label.lower()] if term else []
        if types:
            queryset = queryset | unsearched.filter(Q(dn_type__in=types))
        if (request.GET.get("model_name"), request.GET.get("field_name")) == ORIGINATION_DN_FIELD:
            tenant = request.GET.get("tenant", "")
            if tenant.isascii() and tenant.isdigit() and int(tenant) <= 2**63 - 1:
                queryset = queryset.filter(tenant_id=int(tenant))
        return queryset.select_related("switch"), may_have_duplicates

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
