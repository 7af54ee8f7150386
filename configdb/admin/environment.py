"""Environment: tenants, folders, hosts, application templates, applications, DAPs, alarm conditions."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .. import interaction_server as ixn
from .. import odbc, odbc_builder, services
from ..forms import ConfigObjectForm
from ..ixn_clusters import LICENCE_RULES, is_server_cluster, licence_report
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
    TenantFilter,
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
    list_filter = [FolderTypeFilter, ("tenant", TenantFilter), "state"]
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


def with_metadata(form, field: str, metadata, source: str) -> None:
    """Give an options field's editor an application template's option metadata (configdb.option_metadata)."""
    if metadata and field in form.base_fields:
        widget = form.base_fields[field].widget
        widget.metadata, widget.metadata_source = metadata, source


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

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The default options' editor shows the template's own metadata (descriptions, valid values)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            with_metadata(form, "default_options", obj.metadata, f"template '{obj}'")
        return form


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


CONNECTION_FIELDS = ["server", "port_id", "connection_protocol", "local_timeout", "remote_timeout", "trace_mode",
                     "transport_parameters", "application_parameters"]


def port_choices(ports) -> list[tuple[str, str]]:
    """A server's ports as the port-ID picker offers them: ``default (9081, http)``."""
    choices = []
    for port in ports:
        detail = ", ".join(str(v) for v in (port.port, port.connection_protocol) if v)
        choices.append((port.port_id, f"{port.port_id} ({detail})"))
    return choices


class ConnectionForm(forms.ModelForm):
    """A connection's port ID is picked from the chosen server's ports (GAX's drop-down), not typed. The list
    follows the server (configdb/static/configdb/connection-ports.js asks ApplicationAdmin.ports_view); the
    rule itself is the model's (Connection.clean: the port must exist on the server), so the API and the
    import obey it too."""

    class Meta:
        model = Connection
        fields = CONNECTION_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("port_id")
        if field is None:
            return
        server = self._server()
        ports = port_choices(server.ports.all()) if server is not None else []
        current = self.data.get(self.add_prefix("port_id")) if self.is_bound else self.instance.port_id
        if current and current not in dict(ports):
            ports.append((current, f"{current} (not a port of this server)" if server is not None else current))
        template = reverse("admin:configdb_application_ports", args=[0]).replace("/0/", "/{id}/")
        field.widget = forms.Select(choices=[("", "---------"), *ports],
                                    attrs={"class": "connection-port", "data-ports-url": template})

    def _server(self) -> Application | None:
        """The chosen server: the stored one (its ports prefetched), or the one posted, among those the user may
        see (the server field's queryset, ConnectionInline)."""
        if not self.is_bound:
            return self.instance.server if self.instance.server_id else None
        raw = str(self.data.get(self.add_prefix("server")) or "")
        field = self.fields.get("server")
        if field is None or not (raw.isascii() and raw.isdigit() and int(raw) <= 2**63 - 1):
            return None
        return field.queryset.filter(pk=int(raw)).first()


class ConnectionInline(ConfigInline):
    model = Connection
    form = ConnectionForm
    fk_name = "application"
    extra = 0
    autocomplete_fields = ["server"]
    fields = CONNECTION_FIELDS

    class Media:
        js = ["admin/js/vendor/jquery/jquery.min.js", "admin/js/jquery.init.js", "configdb/connection-ports.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("server").prefetch_related("server__ports")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "server":  # a server the user may see (what the autocomplete offers, too)
            kwargs["queryset"] = Application.objects.restrict(request.user, "view")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServedTenantInline(ConfigInline):
    model = ApplicationTenant
    extra = 0
    verbose_name = "tenant"
    verbose_name_plural = "tenants"
    autocomplete_fields = ["tenant"]



def _application_row(app: Application, port_id: str) -> dict:
    return {"name": app.name, "url": reverse("admin:configdb_application_change", args=[app.pk]),
            "type": app.get_app_type_display(), "port_id": port_id, "host": app.host.name if app.host_id else "",
            "state": app.get_state_display()}


def application_dependencies(app: Application, user) -> list[dict]:
    """GAX's *Dependencies*, read-only, of the applications ``user`` may see: the applications whose connections
    name ``app`` (on a cluster: its nodes, pacing/clusters.py), and the cluster(s) ``app`` connects to (on a
    node: its cluster). Two queries; written by nobody here (a connection is changed on its own application)."""
    visible = Application.objects.restrict(user, "view").values("pk")
    incoming = (Connection.objects.filter(server=app, application__in=visible)
                .select_related("application__host").order_by("application__name", "port_id"))
    is_cluster = app.app_type == ApplicationType.APPLICATION_CLUSTER
    sections = [{
        "id": "cluster-nodes" if is_cluster else "dependencies",
        "title": "Nodes (applications connected to this cluster)" if is_cluster
                 else "Dependencies (applications connected to this one)",
        "empty": "No application connects to this cluster." if is_cluster
                 else "No application connects to this one.",
        "rows": [_application_row(c.application, c.port_id) for c in incoming],
    }]
    clusters = (Connection.objects.filter(application=app, server__app_type=ApplicationType.APPLICATION_CLUSTER,
                                          server__in=visible)
                .select_related("server__host").order_by("server__name", "port_id"))
    rows = [_application_row(c.server, c.port_id) for c in clusters]
    if rows:
        sections.insert(0, {"id": "node-cluster", "title": "Cluster (this node connects to it)", "empty": "",
                            "rows": rows})
    return sections


#: the form prefix of the Tenants inline (Django's default: the link model's reverse accessor)
SERVED_PREFIX = "applicationtenant_set"


def posted_tenant_ids(data) -> list[int] | None:
    """The tenants the posted Tenants inline keeps or adds (None when the page posted no such inline): the
    application's media-types rule is asked before the inline rows are saved (Application.pending_tenants)."""
    total = data.get(f"{SERVED_PREFIX}-TOTAL_FORMS") if data is not None else None
    if total is None or not str(total).isdigit():
        return None
    ids = []
    for index in range(min(int(total), 1000)):
        raw = str(data.get(f"{SERVED_PREFIX}-{index}-tenant") or "")
        if raw.isascii() and raw.isdigit() and not data.get(f"{SERVED_PREFIX}-{index}-DELETE"):
            ids.append(int(raw))
    return ids


class ApplicationForm(ConfigObjectForm):
    #: the ids of the tenants the request's user may read (set by ApplicationAdmin.get_form)
    readable_tenants = None

    def _post_clean(self):
        pending = posted_tenant_ids(self.data) if self.is_bound else None
        if pending is not None:
            readable = self.readable_tenants() if self.readable_tenants is not None else None
            self.instance.pending_tenants = [t for t in pending if readable is None or t in readable]
        super()._post_clean()


@admin.register(Application)
class ApplicationAdmin(ConfigObjectAdmin):
    form = ApplicationForm
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The options editor shows the descriptions and valid values of the template's metadata."""
        form = super().get_form(request, obj, change=change, **kwargs)
        template = obj.template if obj is not None and obj.template_id else None
        if template is not None:
            with_metadata(form, "options", template.metadata, f"template '{template}'")
        if issubclass(form, ApplicationForm):
            form.readable_tenants = staticmethod(
                lambda: set(Tenant.objects.restrict(request.user, "view").values_list("pk", flat=True)))
        return form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["related_sections"] = application_dependencies(obj, request.user)
            if obj.app_type in (ApplicationType.INTERACTION_SERVER, ApplicationType.APPLICATION_CLUSTER) and (
                    obj.app_type == ApplicationType.INTERACTION_SERVER or ixn.cluster_type(obj.options)):
                extra_context["extra_tools"] = [{"label": "Proxy error codes",
                                                 "url": reverse("admin:configdb_proxy_error_codes")}]
            if is_server_cluster(obj):
                extra_context["licence"] = licence_report(obj, request.user)
                extra_context["licence_rules"] = LICENCE_RULES
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        ports = path("<path:object_id>/ports/", self.admin_site.admin_view(self.ports_view),
                     name="configdb_application_ports")
        codes = path("interaction-server-error-codes/", self.admin_site.admin_view(self.error_codes_view),
                     name="configdb_proxy_error_codes")
        return [codes, ports, *super().get_urls()]

    def error_codes_view(self, request):
        """Interaction Server Proxy's error codes (vendor), with what in the configuration leads to each (ours):
        a reference page, for any staff user (it shows no configuration)."""
        context = {**self.admin_site.each_context(request), "title": "Interaction Server Proxy error codes",
                   "opts": self.opts, "errors": ixn.PROXY_ERRORS,
                   "api_url": reverse("api:interaction-server-error-codes")}
        return TemplateResponse(request, "admin/configdb/proxy_error_codes.html", context)

    def ports_view(self, request, object_id):
        """The ports of one application, as JSON, for the connection inline's port-ID picker: 404 for an
        application the user may not see (the admin's tenant-restricted queryset), 403 without the view
        permission."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("No such application.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        choices = port_choices(obj.ports.order_by("port_id"))
        return JsonResponse({"application": obj.name,
                             "ports": [{"id": port_id, "label": label} for port_id, label in choices]})


class OdbcBuilderForm(forms.Form):
    """The builder's inputs (configdb.odbc_builder; the API's OdbcBuilderRequestSerializer asks the same)."""

    purpose = forms.ChoiceField(choices=[(k, v[0]) for k, v in odbc_builder.PURPOSES.items()],
                                help_text="main: [settings] dbprotocol; Event Logger: [logger-settings] "
                                          "delivery-protocol.")
    version = forms.ChoiceField(label="Interaction Server release", choices=list(odbc_builder.VERSIONS.items()),
                                help_text="What the release supports: odbc-string from 8.5.3, connection-string "
                                          "(default driver, non-default port) before.")
    dbms_type = forms.ChoiceField(label="DBMS type", choices=[(k, k) for k in sorted(odbc.DEFAULT_DRIVERS)])
    dsn = forms.CharField(label="DSN", required=False, max_length=255,
                          help_text="A DSN configured on the server's host; or leave blank and name a driver.")
    driver = forms.CharField(required=False, max_length=1024,
                             help_text="Blank: the DBMS type's default driver (e.g. {SQL Server Native Client 10.0}).")
    port = forms.IntegerField(required=False, min_value=1, max_value=65535,
                              help_text="Before 8.5.3 only; written when not the type's default (1433, 1521, 50000).")


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

    def get_urls(self):
        builder = path("odbc-builder/", self.admin_site.admin_view(self.odbc_builder_view),
                       name="configdb_databaseaccesspoint_odbc_builder")
        return [builder, *super().get_urls()]

    def _builder_tool(self, dap_id=None) -> list[dict]:
        url = reverse("admin:configdb_databaseaccesspoint_odbc_builder")
        return [{"label": "ODBC connection-string builder", "url": f"{url}?dap={dap_id}" if dap_id else url}]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "extra_tools": self._builder_tool(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "extra_tools": self._builder_tool()}
        return super().add_view(request, form_url, extra_context)

    def odbc_builder_view(self, request):
        """The builder (configdb.odbc_builder): the option the chosen purpose, server release, DSN or driver and
        port give. With ``?dap=<id>``, *Apply* writes the option (and the protocol option) into that DAP through
        configdb.services, which checks the user's tenant grant (a reader's *Apply* is a 403 from there), then
        returns to its page; otherwise the page shows the key and value to copy. The page asks itself only what
        Django's admin asks of any change (the model's change permission, the same for every DAP) and, to show the
        button, ``services.may_write``."""
        dap = None
        raw = request.GET.get("dap") or ""
        if raw:
            dap = self.get_object(request, raw)
            if dap is None:
                raise Http404("No such database access point.")
            if not self.has_view_permission(request, dap):
                raise PermissionDenied
        initial = {"dbms_type": dap.dbms_type if dap is not None else "", "purpose": "main", "version": "8.5.3"}
        form = OdbcBuilderForm(request.POST or None, initial=initial)
        built, status = None, 200
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                built = odbc_builder.build(data["dbms_type"], purpose=data["purpose"], version=data["version"],
                                           dsn=data["dsn"], driver=data["driver"], port=data["port"])
                if dap is not None and "apply" in request.POST:
                    if not self.has_change_permission(request):  # the admin's door (Django's model permission)
                        raise PermissionDenied
                    odbc_builder.apply(dap, built, user=request.user)  # the grant: configdb.services
                    self.message_user(request, f"Set [{built.section}] {built.key} = {built.value} and "
                                               f"{built.protocol_key} = {built.protocol_value}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:configdb_databaseaccesspoint_change",
                                                        args=[dap.pk]))
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
                built, status = None, 400
        elif request.method == "POST":
            status = 400
        context = {**self.admin_site.each_context(request), "title": "ODBC connection-string builder",
                   "opts": self.opts, "form": form, "built": built, "dap": dap,
                   "can_apply": dap is not None and self.has_change_permission(request)
                                and services.may_write(request.user, dap),
                   "api_url": reverse("api:dap-odbc-builder")}
        return TemplateResponse(request, "admin/configdb/odbc_builder.html", context, status=status)


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
