"""Environment: tenants, folders, hosts, application templates, applications, DAPs, alarm conditions."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from ..forms import ConfigObjectForm
from ..models import (
    AlarmCondition,
    Application,
    ApplicationTemplate,
    ApplicationTenant,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    Folder,
    Host,
    Port,
    Tenant,
)
from .base import (
    ConfigInline,
    ConfigObjectAdmin,
    HistoryAdminMixin,
    OptionsAdminMixin,
    ServiceSaveMixin,
    TenantScopedMixin,
    clone,
    disable,
    enable,
    folder_paths,
)


@admin.register(Tenant)
class TenantAdmin(TenantScopedMixin, HistoryAdminMixin, OptionsAdminMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ConfigObjectForm
    gax_section = "Environment"
    list_display = ["name", "description", "state"]
    list_filter = ["state"]
    search_fields = ["name", "description"]
    actions = [enable, disable, clone]
    fields = ["name", "description", "state", "options"]


class FolderTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "folder_type"

    def lookups(self, request, model_admin):
        return Folder._meta.get_field("folder_type").choices

    def queryset(self, request, queryset):
        return queryset.filter(folder_type=self.value()) if self.value() else queryset


@admin.register(Folder)
class FolderAdmin(TenantScopedMixin, HistoryAdminMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ConfigObjectForm
    gax_section = "Environment"
    list_display = ["name", "folder_type", "folder_path", "tenant", "state"]
    list_filter = [FolderTypeFilter, ("tenant", admin.RelatedOnlyFieldListFilter), "state"]
    search_fields = ["name", "description"]
    list_select_related = ["tenant", "parent"]
    fields = ["tenant", "folder_type", "parent", "name", "description", "state"]
    actions = [enable, disable]

    @admin.display(description="path")
    def folder_path(self, obj):
        return dict(folder_paths(obj.folder_type)).get(obj.pk, obj.name) if obj.parent_id else obj.name


@admin.register(Host)
class HostAdmin(ConfigObjectAdmin):
    list_display = ["name", "ip_address", "os_type", "lca_port", "tenant", "folder_name", "state"]
    extra_filters = ("os_type",)
    search_fields = ["name", "ip_address"]
    fieldsets = [
        (None, {"fields": ["name", "ip_address", "os_type", "os_version", "lca_port", "tenant", "folder", "state"]}),
        ("Options", {"fields": ["options"]}),
    ]


@admin.register(ApplicationTemplate)
class ApplicationTemplateAdmin(ConfigObjectAdmin):
    list_display = ["name", "app_type", "version", "tenant", "folder_name", "state"]
    extra_filters = ("app_type",)
    search_fields = ["name", "version"]
    fieldsets = [
        (None, {"fields": ["name", "app_type", "version", "tenant", "folder", "state"]}),
        ("Default options", {"fields": ["default_options"]}),
        ("Default annex", {"fields": ["default_annex"], "classes": ["collapse"]}),
    ]


class PortFormSet(forms.BaseInlineFormSet):
    """A port that other applications connect to cannot be removed from under them (renaming is
    refused by Port.clean itself)."""

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            port = form.instance
            if port.pk and port.connections_using(port._stored_port_id()).exists():
                raise ValidationError(port.in_use_message(port._stored_port_id()))


class PortForm(forms.ModelForm):
    """A port's row. The certificate key is never sent to the browser: blank keeps the stored key, unless the
    certificate is removed too (then the key goes with it)."""

    certificate_key = forms.CharField(
        label="Certificate key", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "size": 8}),
        help_text="PEM, unencrypted. Never shown; leave blank to keep the current key.",
    )

    class Meta:
        model = Port
        fields = ["port_id", "port", "connection_protocol", "listening_mode", "ha_sync", "description", "certificate",
                  "certificate_key", "trusted_ca"]
        widgets = {name: forms.Textarea(attrs={"rows": 2, "cols": 12, "spellcheck": "false", "class": "pem"})
                   for name in ("certificate", "trusted_ca")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.certificate_key:
            self.fields["certificate_key"].widget.attrs["placeholder"] = "******** (kept)"

    def _post_clean(self):
        super()._post_clean()
        # A private key pasted into a certificate box is refused (configdb.pem) and not sent back in the box:
        # those boxes are not secret.
        for name in ("certificate", "trusted_ca"):
            key = self.add_prefix(name)
            if name in self.errors and "PRIVATE KEY-----" in (self.data.get(key) or ""):
                self.data = self.data.copy()
                self.data[key] = ""

    def clean_certificate_key(self):
        new = self.cleaned_data.get("certificate_key")
        if new or not self.instance.pk:
            return new
        if not self.cleaned_data.get("certificate") and "certificate" not in self.errors:
            return ""
        return Port.objects.filter(pk=self.instance.pk).values_list("certificate_key", flat=True).first() or ""


class PortInline(ConfigInline):
    model = Port
    form = PortForm
    formset = PortFormSet
    extra = 0
    fields = PortForm.Meta.fields


class ConnectionInline(ConfigInline):
    model = Connection
    fk_name = "application"
    extra = 0
    autocomplete_fields = ["server"]
    fields = ["server", "port_id", "connection_protocol", "local_timeout", "remote_timeout", "trace_mode",
              "transport_parameters", "application_parameters"]


class ServedTenantInline(ConfigInline):
    model = ApplicationTenant
    extra = 0
    verbose_name = "tenant"
    verbose_name_plural = "tenants"
    autocomplete_fields = ["tenant"]



@admin.register(Application)
class ApplicationAdmin(ConfigObjectAdmin):
    list_display = ["name", "app_type", "version", "host", "is_server", "template", "tenant", "folder_name",
                    "state"]
    extra_filters = ("app_type",)
    list_select_related_extra = ("host", "template")
    search_fields = ["name", "host__name", "template__name"]
    autocomplete_fields = ["template", "host", "backup_server"]
    frozen_fields = ("app_type", "template")
    inlines = [PortInline, ConnectionInline, ServedTenantInline]
    fieldsets = [
        (None, {"fields": ["name", "template", "app_type", "version", "component_type", "is_server", "tenant",
                           "folder", "state"]}),
        ("Server info", {"fields": ["host", "working_directory", "command_line", "command_line_arguments",
                                    "startup_timeout", "shutdown_timeout", "auto_restart", "redundancy_type",
                                    "backup_server", "log_on_as_system"]}),
        ("Application options", {"fields": ["options"]}),
        ("Options (annex)", {"fields": ["annex"], "classes": ["collapse"]}),
    ]


class DatabaseAccessPointForm(ConfigObjectForm):
    db_password = forms.CharField(
        label="Password", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Never shown. Leave blank to keep the current password.",
    )

    class Meta:
        model = DatabaseAccessPoint
        fields = "__all__"

    def clean_db_password(self):
        new = self.cleaned_data.get("db_password")
        if not new and self.instance.pk:
            return DatabaseAccessPoint.objects.filter(pk=self.instance.pk).values_list(
                "db_password", flat=True).first() or ""
        return new


@admin.register(DatabaseAccessPoint)
class DatabaseAccessPointAdmin(ConfigObjectAdmin):
    form = DatabaseAccessPointForm
    list_display = ["name", "dbms_type", "dbms_name", "database_name", "db_username", "tenant", "state"]
    extra_filters = ("dbms_type",)
    search_fields = ["name", "dbms_name", "database_name"]
    autocomplete_fields = ["template"]
    frozen_fields = ("template",)
    inlines = [ServedTenantInline]
    fieldsets = [
        (None, {"fields": ["name", "template", "version", "tenant", "folder", "state"]}),
        ("DB info", {"fields": ["dbms_name", "dbms_type", "database_name", "db_username", "db_password",
                                "query_timeout"]}),
        ("Application options", {"fields": ["options"]}),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "template":
            kwargs["queryset"] = ApplicationTemplate.objects.filter(app_type=ApplicationType.DATABASE_ACCESS_POINT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AlarmCondition)
class AlarmConditionAdmin(ConfigObjectAdmin):
    list_display = ["name", "short_description", "category", "timeout", "detect_event_id", "cancel_event_id",
                    "folder_name", "state"]
    extra_filters = ("category",)
    search_fields = ["name", "description"]
    fieldsets = [
        (None, {"fields": ["name", "description", "category", "timeout", "detect_event_id", "detect_selection",
                           "cancel_event_id", "tenant", "folder", "state"]}),
        ("Options", {"fields": ["options"], "classes": ["collapse"]}),
    ]

    @admin.display(description="description", ordering="description")
    def short_description(self, obj):
        text = obj.description or ""
        return text if len(text) <= 40 else text[:37] + "..."
