"""Application templates, applications, their ports and connections.

A pacing *cluster* is an Application of type Application Cluster; a *node* is a Genesys Generic
Server whose only connection is to its cluster (seeds/pacing-install.txt).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from .. import interaction_server as ixn
from .. import option_metadata, pem
from ..secrets import is_sealed
from .base import ConfigObject, FieldNamedConstraints, FolderType
from .fields import EncryptedTextField, OptionsField, PEMField, validate_private_key


class ApplicationType(models.TextChoices):
    """Configuration Server application types (CfgAppType) the product meets.

    No type of its own for Interaction Server Proxy: the seed creates proxies "using the Interaction Server
    application type" (interaction-server-deployment.txt, step 3); a proxy is an Interaction Server whose
    ``component_type`` is ``configdb.interaction_server.PROXY_COMPONENT`` (ours) or that a proxy cluster lists.
    Migration 0004 turned the older ``interaction_server_proxy`` rows into that; imports map it the same way.
    """

    APPLICATION_CLUSTER = "application_cluster", "Application Cluster"
    GENESYS_GENERIC_SERVER = "genesys_generic_server", "Genesys Generic Server"
    GENESYS_GENERIC_CLIENT = "genesys_generic_client", "Genesys Generic Client"
    STAT_SERVER = "stat_server", "Stat Server"
    MESSAGE_SERVER = "message_server", "Message Server"
    INTERACTION_SERVER = "interaction_server", "Interaction Server"
    UNIVERSAL_ROUTING_SERVER = "universal_routing_server", "Universal Routing Server"
    ORCHESTRATION_SERVER = "orchestration_server", "Orchestration Server"
    DATABASE_ACCESS_POINT = "database_access_point", "Database Access Point"
    DB_SERVER = "db_server", "DB Server"
    CONFIGURATION_SERVER = "configuration_server", "Configuration Server"
    SOLUTION_CONTROL_SERVER = "solution_control_server", "Solution Control Server"
    T_SERVER = "t_server", "T-Server"
    SIP_SERVER = "sip_server", "SIP Server"
    CHAT_SERVER = "chat_server", "Chat Server"
    EMAIL_SERVER = "email_server", "E-mail Server"
    INTERACTION_CONCENTRATOR = "interaction_concentrator", "Interaction Concentrator"
    GENESYS_ADMINISTRATOR_SERVER = "genesys_administrator_server", "Genesys Administrator Server"
    THIRD_PARTY_SERVER = "third_party_server", "Third Party Server"


#: application types that are not servers (no host, no ports needed)
CLIENT_TYPES = {ApplicationType.DATABASE_ACCESS_POINT, ApplicationType.GENESYS_GENERIC_CLIENT}


class RedundancyType(models.TextChoices):
    NOT_SPECIFIED = "not_specified", "Not Specified"
    WARM_STANDBY = "warm_standby", "Warm Standby"
    HOT_STANDBY = "hot_standby", "Hot Standby"
    NOT_REDUNDANT = "not_redundant", "Not Redundant"


class ConnectionProtocol(models.TextChoices):
    """Port and connection protocols. ``addp`` is Genesys' keep-alive protocol for connections."""

    NONE = "", "—"
    HTTP = "http", "http"
    HTTPS = "https", "https"
    ADDP = "addp", "addp"


class ListeningMode(models.TextChoices):
    UNSECURED = "unsecured", "Unsecured"
    SECURED = "secured", "Secured"
    AUTO_DETECT = "auto_detect", "Auto Detect"


class TraceMode(models.TextChoices):
    """Connection trace mode (CfgTraceMode)."""

    UNKNOWN = "unknown", "Unknown Trace Mode"
    OFF = "off", "Trace Is Turned Off"
    LOCAL = "local", "Trace On This Side"
    REMOTE = "remote", "Trace On Remote Side"
    BOTH = "both", "Trace On Both Sides"


port_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
    "A port ID is letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. default).",
)
timeout_validators = [MinValueValidator(0), MaxValueValidator(86400)]
port_validators = [MinValueValidator(1), MaxValueValidator(65535)]


class ApplicationTemplate(ConfigObject):
    """An application template: type, version, default options (.apd) and option metadata (.xml)."""

    natural_key_fields = ("name",)

    folder_type = FolderType.APPLICATION_TEMPLATES

    name = models.CharField(max_length=255, unique=True)
    app_type = models.CharField("type", max_length=40, choices=ApplicationType.choices)
    version = models.CharField(max_length=64)
    default_options = OptionsField(help_text="Options an application created from this template starts with.")
    default_annex = OptionsField(help_text="Annex an application created from this template starts with.")
    metadata = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Option metadata imported from the template's .xml (types, defaults, descriptions).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


    def clean(self):
        super().clean()
        problems = option_metadata.options_problems(self.default_options, self.metadata, mandatory=False)
        if problems:
            raise ValidationError({"default_options": problems})
        if self.pk:
            old_type = ApplicationTemplate.objects.filter(pk=self.pk).values_list("app_type", flat=True).first()
            if old_type and old_type != self.app_type and self.applications.exists():
                raise ValidationError(
                    {"app_type": "The type cannot change while applications are created from this template."}
                )


class Application(ConfigObject):
    """A Configuration Server application (server or client)."""

    natural_key_fields = ("name",)

    folder_type = FolderType.APPLICATIONS

    name = models.CharField(max_length=255, unique=True)
    app_type = models.CharField("type", max_length=40, choices=ApplicationType.choices, blank=True,
                                help_text="Taken from the template when left empty; fixed after creation.")
    template = models.ForeignKey(ApplicationTemplate, on_delete=models.PROTECT, related_name="applications",
                                 help_text="Fixed after creation.")
    version = models.CharField(max_length=64, blank=True, help_text="Taken from the template when left empty.")
    component_type = models.CharField(max_length=64, blank=True)
    is_server = models.BooleanField("is application server", default=True)
    host = models.ForeignKey("configdb.Host", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="applications")
    working_directory = models.CharField(max_length=1024, blank=True)
    command_line = models.CharField(max_length=1024, blank=True)
    command_line_arguments = models.CharField(max_length=2048, blank=True)
    startup_timeout = models.PositiveIntegerField(default=90, validators=timeout_validators)
    shutdown_timeout = models.PositiveIntegerField(default=90, validators=timeout_validators)
    auto_restart = models.BooleanField(default=False)
    redundancy_type = models.CharField(max_length=16, choices=RedundancyType.choices,
                                       default=RedundancyType.NOT_SPECIFIED)
    backup_server = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    log_on_as_system = models.BooleanField(default=True)
    tenants = models.ManyToManyField("configdb.Tenant", blank=True, related_name="served_by",
                                     through="configdb.ApplicationTenant",
                                     help_text="Tenants this application serves (the Tenants tab).")
    options = OptionsField("application options")
    annex = OptionsField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


    def clean(self):
        super().clean()
        errors: dict[str, list[str]] = {}
        template = self.template if self.template_id else None
        if template is not None:
            if not self.app_type:
                self.app_type = template.app_type
            if not self.version:
                self.version = template.version
            if template.app_type != self.app_type:
                errors.setdefault("template", []).append(
                    f"Template '{template}' is for {template.get_app_type_display()}, "
                    f"not {self.get_app_type_display()}."
                )
        if self.pk:
            old = Application.objects.filter(pk=self.pk).values("app_type", "template_id").first()
            if old and old["app_type"] != self.app_type:
                errors.setdefault("app_type", []).append("The type of an application cannot change after creation.")
            if old and old["template_id"] != self.template_id:
                errors.setdefault("template", []).append(
                    "The template of an application cannot change after creation."
                )
        if template is not None and template.metadata:
            # the template's option metadata: descriptions, types, valid values (configdb.option_metadata)
            errors.setdefault("options", []).extend(option_metadata.options_problems(self.options, template.metadata))
            if not errors["options"]:
                del errors["options"]
        if self.is_server and self.app_type not in CLIENT_TYPES:
            for field in ("working_directory", "command_line"):
                if not getattr(self, field).strip():
                    errors.setdefault(field, []).append("A server needs this (GAX's convention is '.').")
            if not self.host_id:
                errors.setdefault("host", []).append("A server needs a host.")
        if self.backup_server_id:
            if self.pk and self.backup_server_id == self.pk:
                errors.setdefault("backup_server", []).append("An application cannot be its own backup.")
            elif self.backup_server.app_type != self.app_type:
                errors.setdefault("backup_server", []).append("The backup must be of the same type.")
        cluster_problems = self.cluster_settings_problems()
        if cluster_problems:
            errors.setdefault("options", []).extend(cluster_problems)
        if errors:
            raise ValidationError(errors)

    #: the served tenants a caller links right after saving (services.set_links; the API, the bulk path and the
    #: admin's Tenants inline set it), so that the rules below see them on a new application too
    pending_tenants = None

    def checked_tenant_ids(self) -> set[int]:
        """The application's tenant(s) for the media-types rule: its owning tenant and the tenants it serves
        (the links about to be written when a caller said so, else the stored ones)."""
        ids = {self.tenant_id} if self.tenant_id else set()
        if self.pending_tenants is not None:
            ids |= {getattr(t, "pk", t) for t in self.pending_tenants}
        elif self.pk is not None and not self._state.adding:
            ids |= set(ApplicationTenant.objects.filter(application_id=self.pk).values_list("tenant_id", flat=True))
        return ids

    def cluster_settings_problems(self) -> list[str]:
        """The ``[cluster-settings]`` rules (seed, "Interaction Server Cluster", step 5 a–d; interaction_server):

        - an Application Cluster's ``cluster-type``, when present, is ``Interaction Server`` or ``Interaction
          Server Proxy`` (a pacing cluster sets none);
        - an Interaction Server's ``media-types`` parses (no empty item, no name twice) and names media types of
          the application's tenant(s) (ours: as for a queue's pacing/media, a MediaType of exactly that name,
          case kept, of the owning tenant or of a served tenant).
        """
        options = self.options if isinstance(self.options, dict) else {}
        section = options.get(ixn.SECTION)
        if not isinstance(section, dict):
            return []
        if self.app_type == ApplicationType.APPLICATION_CLUSTER and ixn.CLUSTER_TYPE in section:
            value = section[ixn.CLUSTER_TYPE]
            if not isinstance(value, str) or value.strip() not in ixn.CLUSTER_TYPES:
                allowed = " or ".join(f"'{t}'" for t in ixn.CLUSTER_TYPES)
                return [f"{ixn.CLUSTER_TYPE_PATH}: {value!r} is not a cluster type: {allowed} (or remove the option: "
                        "a pacing cluster sets none)."]
        if self.app_type == ApplicationType.INTERACTION_SERVER and ixn.MEDIA_TYPES in section:
            try:
                names = ixn.parse_media_types(section[ixn.MEDIA_TYPES])
            except ValueError as exc:
                return [f"{ixn.MEDIA_TYPES_PATH}: {exc}."]
            from .. import pacing_options
            from .tenancy import Tenant

            tenant_ids = self.checked_tenant_ids()
            known: set[str] = set()
            for tenant_id in tenant_ids:
                known |= pacing_options.tenant_media_types(tenant_id)
            unknown = [name for name in names if name not in known]
            if unknown:
                tenants = sorted(Tenant._base_manager.filter(pk__in=tenant_ids).values_list("name", flat=True))
                whose = ", ".join(f"'{t}'" for t in tenants) or "none"
                listed = ", ".join(sorted(known)[:10]) or "none"
                return [f"{ixn.MEDIA_TYPES_PATH}: {', '.join(repr(n) for n in unknown)} "
                        f"{'is not a media type' if len(unknown) == 1 else 'are not media types'} of the "
                        f"application's tenant(s) {whose} (their media types: {listed}; names are case-sensitive)."]
        return []


class ApplicationTenant(FieldNamedConstraints):
    """A row of an application's Tenants tab: a tenant the application serves."""

    natural_key_fields = ("application", "tenant")

    application = models.ForeignKey(Application, on_delete=models.CASCADE)
    tenant = models.ForeignKey("configdb.Tenant", on_delete=models.CASCADE)

    class Meta:
        verbose_name = "served tenant"
        constraints = [
            models.UniqueConstraint(fields=["application", "tenant"], name="application_tenant_unique",
                                    violation_error_message="The application already serves this tenant."),
        ]

    def __str__(self):
        return self.tenant.name if self.tenant_id else ""


class Port(FieldNamedConstraints):
    """A listening port of an application (the Ports tab): ``default``, ``clustering``, …"""

    natural_key_fields = ("application", "port_id")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="ports")
    port_id = models.CharField("ID", max_length=64, validators=[port_id_validator])
    port = models.PositiveIntegerField(validators=port_validators)
    connection_protocol = models.CharField("connection", max_length=8, choices=ConnectionProtocol.choices,
                                           blank=True)
    listening_mode = models.CharField(max_length=12, choices=ListeningMode.choices,
                                      default=ListeningMode.UNSECURED)
    ha_sync = models.BooleanField("HA sync", default=False)
    description = models.CharField(max_length=255, blank=True)
    # TLS of the port (GAX's Certificate, Certificate Key and Trusted CA), as PEM text: configdb.pem.
    certificate = PEMField(help_text="PEM: the port's certificate first, then its chain.")
    certificate_key = EncryptedTextField(
        "certificate key", blank=True, max_plain=16384, validators=[validate_private_key],
        help_text="PEM, unencrypted. Never shown; leave blank to keep the current key. Stored encrypted.")
    trusted_ca = PEMField("trusted CA", max_length_plain=262144,
                          help_text="PEM: the CA certificates that clients of this port are checked against.")

    class Meta:
        ordering = ["application", "port_id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "port_id"], name="port_id_unique_per_application",
                                    violation_error_message="This application already has a port with this ID."),
        ]

    def __str__(self):
        return f"{self.port_id}:{self.port}"

    def connections_using(self, port_id: str | None = None):
        """Connections of other applications that name this port (by its stored or given ID)."""
        return Connection.objects.filter(server_id=self.application_id, port_id=port_id or self.port_id)

    def _stored_port_id(self) -> str | None:
        return Port.objects.filter(pk=self.pk).values_list("port_id", flat=True).first() if self.pk else None

    def clean(self):
        super().clean()
        old_id = self._stored_port_id()
        if old_id and old_id != self.port_id and self.connections_using(old_id).exists():
            raise ValidationError({"port_id": self.in_use_message(old_id)})
        self._clean_tls()

    def _clean_tls(self):
        """The key is stored normalised (configdb.pem), needs a certificate and must be the certificate's own
        (ours: Genesys checks nothing until the server starts and fails its TLS handshake)."""
        key = self.certificate_key
        if not key or is_sealed(key):
            return
        try:
            self.certificate_key, private = pem.private_key(key)
        except pem.PEMError:
            return  # the field's validator has said it
        if not self.certificate:
            raise ValidationError({"certificate_key": "A certificate key needs the certificate it belongs to: "
                                                      "give the certificate too."})
        try:
            _, chain = pem.certificates(self.certificate)
        except pem.PEMError:
            return
        if not pem.key_matches(chain[0], private):
            raise ValidationError({"certificate_key": "This key does not belong to the certificate (the first "
                                                      "certificate's public key is another)."})

    def in_use_message(self, port_id: str) -> str:
        names = sorted(self.connections_using(port_id).values_list("application__name", flat=True)[:10])
        return f"Port '{port_id}' is used by connections of {', '.join(names)}: change those first."

    def delete(self, *args, **kwargs):
        old_id = self._stored_port_id()
        if old_id and self.connections_using(old_id).exists():
            raise ValidationError(self.in_use_message(old_id))
        return super().delete(*args, **kwargs)


class Connection(FieldNamedConstraints):
    """A connection from an application to another one's port (the Connections tab)."""

    natural_key_fields = ("application", "server", "port_id")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="connections")
    server = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="connected_from")
    port_id = models.CharField("port ID", max_length=64, default="default", validators=[port_id_validator])
    connection_protocol = models.CharField(max_length=8, choices=ConnectionProtocol.choices, blank=True)
    local_timeout = models.PositiveIntegerField(default=0, validators=timeout_validators)
    remote_timeout = models.PositiveIntegerField(default=0, validators=timeout_validators)
    trace_mode = models.CharField(max_length=8, choices=TraceMode.choices, default=TraceMode.OFF)
    transport_parameters = models.CharField("transport protocol parameters", max_length=1024, blank=True)
    application_parameters = models.CharField(max_length=1024, blank=True)

    class Meta:
        ordering = ["application", "server__name", "port_id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "server", "port_id"], name="connection_unique",
                                    violation_error_message="This connection already exists."),
        ]

    def __str__(self):
        return f"{self.server}:{self.port_id}" if self.server_id else self.port_id

    @property
    def secured(self) -> bool:
        port = self.server.ports.filter(port_id=self.port_id).first() if self.server_id else None
        return bool(port and port.listening_mode == ListeningMode.SECURED)

    def clean(self):
        super().clean()
        if not self.server_id:
            return
        if self.application_id and self.server_id == self.application_id:
            raise ValidationError({"server": "An application cannot connect to itself."})
        port_ids = set(self.server.ports.values_list("port_id", flat=True))
        if self.port_id not in port_ids:
            have = ", ".join(sorted(port_ids)) or "none"
            raise ValidationError(
                {"port_id": f"Application '{self.server}' has no port with ID '{self.port_id}' (its ports: {have})."}
            )
