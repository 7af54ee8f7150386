"""Switches and DNs; a virtual queue is a DN of type Virtual Queue."""

from django.core.exceptions import ValidationError
from django.db import models

from .. import pacing_options
from .base import ConfigObject, FolderType, RestrictedManager
from .fields import OptionsField


class SwitchType(models.TextChoices):
    """Switch types (CfgSwitchType) — the ones a pacing deployment meets; the list is ours to extend."""

    MULTIMEDIA = "multimedia", "Multimedia Switch"
    SIP = "sip", "SIP Switch"
    AVAYA_CM = "avaya_cm", "Avaya Communication Manager"
    CISCO_UCM = "cisco_ucm", "Cisco Unified Communications Manager"
    ALCATEL_OXE = "alcatel_oxe", "Alcatel OmniPCX Enterprise"
    GENERIC = "generic", "Generic Switch"


class Switch(ConfigObject):

    natural_key_fields = ("tenant", "name")
    folder_type = FolderType.SWITCHES

    name = models.CharField(max_length=255)
    switch_type = models.CharField("type", max_length=16, choices=SwitchType.choices, default=SwitchType.MULTIMEDIA)
    t_server = models.ForeignKey("configdb.Application", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="switches", verbose_name="T-Server")
    options = OptionsField()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "switches"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="switch_unique_name_per_tenant",
                                    violation_error_message="This tenant already has a switch with this name."),
        ]

    def __str__(self):
        return self.name



class DNType(models.TextChoices):
    """DN types (CfgDNType)."""

    EXTENSION = "extension", "Extension"
    ACD_POSITION = "acd_position", "ACD Position"
    ACD_QUEUE = "acd_queue", "ACD Queue"
    ROUTING_POINT = "routing_point", "Routing Point"
    VIRTUAL_QUEUE = "virtual_queue", "Virtual Queue"
    VIRTUAL_ROUTING_POINT = "virtual_routing_point", "Virtual Routing Point"
    ROUTING_QUEUE = "routing_queue", "Routing Queue"
    SERVICE_NUMBER = "service_number", "Service Number"
    TRUNK = "trunk", "Trunk"
    TRUNK_GROUP = "trunk_group", "Trunk Group"
    VOICEMAIL = "voicemail", "Voice Mail"
    VOIP_SERVICE = "voip_service", "Voice over IP Service"
    COMMUNICATION_DN = "communication_dn", "Communication DN"
    ACCESS_RESOURCE = "access_resource", "Access Resource"
    CHAT = "chat", "Chat"
    EMAIL = "email", "E-mail Address"
    MIXED = "mixed", "Mixed"


class RegisterFlag(models.TextChoices):
    """Whether T-Server registers the DN (CfgDNRegisterFlag)."""

    FALSE = "false", "False"
    TRUE = "true", "True"
    LOCAL = "local", "Local"


class RouteType(models.TextChoices):
    """Route types (CfgRouteType)."""

    DEFAULT = "default", "Default"
    LABEL = "label", "Label"
    OVERWRITE_DNIS = "overwrite_dnis", "Overwrite DNIS"
    DDD = "ddd", "DDD"
    IDDD = "iddd", "IDDD"
    DIRECT = "direct", "Direct"
    REJECT = "reject", "Reject"
    ANNOUNCEMENT = "announcement", "Announcement"
    POST_FEATURE = "post_feature", "Post Feature"
    DIRECT_AGENT = "direct_agent", "Direct Agent"
    USE_EXT_PROTOCOL = "use_ext_protocol", "Use External Protocol"
    REROUTE = "reroute", "Reroute"
    NO_ANSWER_SUPERVISION = "no_answer_supervision", "No Answer Supervision"
    CALLER_ID = "caller_id", "Caller ID"


class DN(ConfigObject):
    """A directory number on a switch. Its owning tenant is always its switch's tenant."""

    natural_key_fields = ("switch", "number")

    folder_type = FolderType.DNS

    switch = models.ForeignKey(Switch, on_delete=models.PROTECT, related_name="dns")
    number = models.CharField(max_length=255)
    dn_type = models.CharField("type", max_length=24, choices=DNType.choices)
    alias = models.CharField(max_length=255, blank=True,
                             help_text="For a pacing virtual queue, set the alias equal to the number.")
    association = models.CharField(max_length=255, blank=True)
    register = models.CharField(max_length=8, choices=RegisterFlag.choices, default=RegisterFlag.TRUE)
    route_type = models.CharField(max_length=24, choices=RouteType.choices, default=RouteType.DEFAULT)
    options = OptionsField()

    class Meta:
        ordering = ["switch__name", "number"]
        verbose_name = "DN"
        verbose_name_plural = "DNs"
        constraints = [
            models.UniqueConstraint(fields=["switch", "number"], name="dn_number_unique_per_switch",
                                    violation_error_message="This switch already has a DN with this number."),
        ]
        indexes = [
            models.Index(fields=["dn_type", "number"], name="dn_type_number"),
            models.Index(fields=["number"], name="dn_number"),
        ]

    def __str__(self):
        return self.number


    def clean_fields(self, exclude=None):
        # The owning tenant is derived from the switch, so it is never asked for.
        if self.switch_id and not self.tenant_id:
            self.tenant_id = self.switch.tenant_id
        errors: dict[str, list] = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # A virtual queue's pacing options: the rule target discovery applies (configdb/pacing_options.py), here
        # so that every path that validates (admin, options import, API, configuration import) refuses what
        # discovery would skip. Checked with the field (a form that leaves the options out is not asked).
        if not (exclude and "options" in exclude) and "options" not in errors:
            problems = pacing_options.queue_problems(self)
            if problems:
                errors["options"] = problems
        if errors:
            raise ValidationError(errors)

    def clean(self):
        if self.switch_id and self.tenant_id != self.switch.tenant_id:
            raise ValidationError(
                {"switch": "A DN belongs to the tenant of its switch; this switch is another tenant's."}
            )
        super().clean()

    @property
    def pacing(self) -> dict:
        """The ``pacing`` section of the options (empty when the queue is not paced)."""
        return (self.options or {}).get("pacing", {})


class VirtualQueueManager(RestrictedManager):
    def get_queryset(self):
        return super().get_queryset().filter(dn_type=DNType.VIRTUAL_QUEUE)


class VirtualQueue(DN):
    """DNs of type Virtual Queue: the queues the pacing service looks at."""

    objects = VirtualQueueManager()

    class Meta:
        proxy = True
        verbose_name = "virtual queue"
        verbose_name_plural = "virtual queues"

    def clean_fields(self, exclude=None):
        self.dn_type = DNType.VIRTUAL_QUEUE
        super().clean_fields(exclude)

    def save(self, *args, **kwargs):
        self.dn_type = DNType.VIRTUAL_QUEUE
        super().save(*args, **kwargs)
