"""The input of each wizard step, one serializer per step: the API validates JSON with it and the admin page draws
its form from the same fields (one rule for both). Every field is listed by name; an unknown field is refused
(as the provisioning request is), and the choices are read from the configuration when the serializer is made."""

from __future__ import annotations

from rest_framework import serializers

from alarms import catalog
from configdb import access
from configdb.models import (
    AlarmCategory,
    Application,
    ApplicationTemplate,
    ApplicationType,
    Host,
    Tenant,
)

from ..api.serializers import StrictBooleanField

PROTOCOLS = [("https", "https (recommended)"), ("http", "http")]


class StepSerializer(serializers.Serializer):
    """Refuses unknown fields; subclasses fill their choices in ``choices()`` (the cluster's name in context)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices()

    def choices(self) -> None:
        """Fill the choice fields from the configuration."""

    @property
    def cluster(self) -> str:
        return self.context.get("cluster", "")

    @property
    def user(self):
        """The acting user (None: a command, which sees everything)."""
        return self.context.get("user")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"detail": ["Expected a JSON object of this step's fields."]})
        unknown = sorted(str(k)[:80] for k in data if k not in self.fields)
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(unknown, ["Unknown field."]))
        return super().to_internal_value(data)


def _names(queryset, user=None) -> list[str]:
    """The names offered: only of the objects the acting user may read (configdb.access), so a choice list never
    shows another tenant's hosts, servers or tenants."""
    return list(access.restrict(queryset, user).order_by("name").values_list("name", flat=True))


class TemplateStepSerializer(StepSerializer):
    """Steps 1 and 4: the template shipped in templates/, or an uploaded .apd (with its .xml metadata)."""

    source = serializers.ChoiceField(choices=[("shipped", "the template shipped in templates/"),
                                              ("upload", "upload an .apd and its .xml")], default="shipped")
    apd = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=20_000_000,
                                help_text="The .apd file's text (the admin page uploads the file).")
    xml = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=20_000_000,
                                help_text="The .xml metadata file's text (optional).")

    class Meta:
        fields = ("source", "apd", "xml")

    def validate(self, attrs):
        if attrs["source"] == "upload" and not attrs.get("apd") and not self.context.get("files", {}).get("apd"):
            raise serializers.ValidationError({"apd": ["Give the .apd file to import (or choose the shipped one)."]})
        return attrs


class ClusterSerializer(StepSerializer):
    """Step 2: the cluster application (working directory and command line '.', state enabled: not asked)."""

    template = serializers.ChoiceField(choices=[], help_text="An Application Cluster template.")
    host = serializers.ChoiceField(choices=[], help_text="Usually the load balancer's host.")

    class Meta:
        fields = ("template", "host")

    def choices(self):
        self.fields["template"].choices = _names(ApplicationTemplate.objects.filter(
            app_type=ApplicationType.APPLICATION_CLUSTER), self.user)
        self.fields["host"].choices = _names(Host.objects.all(), self.user)


class ConfigureSerializer(StepSerializer):
    """Step 3: connections, the default port, the tenant, pacingEndpoint."""

    stat_server = serializers.ChoiceField(choices=[], help_text="Required: the Stat Server (primary of its pair).")
    message_server = serializers.ChoiceField(choices=[], required=False, allow_blank=True,
                                             help_text="Optional: for network logging and alarms.")
    port = serializers.IntegerField(min_value=1, max_value=65535, help_text="The default port (load balancer entry).")
    protocol = serializers.ChoiceField(choices=PROTOCOLS, default="https")
    tenant = serializers.ChoiceField(choices=[], help_text="The one tenant the cluster serves.")
    target_endpoint = serializers.CharField(max_length=1024, help_text="pacingEndpoint/targetEndpoint.")
    endpoint_timeout = serializers.CharField(max_length=16, required=False, allow_blank=True,
                                             help_text="pacingEndpoint/timeout, seconds (blank: keep).")

    class Meta:
        fields = ("stat_server", "message_server", "port", "protocol", "tenant", "target_endpoint",
                  "endpoint_timeout")

    def choices(self):
        apps = Application.objects.exclude(name=self.cluster)
        self.fields["stat_server"].choices = _names(apps.filter(app_type=ApplicationType.STAT_SERVER), self.user)
        self.fields["message_server"].choices = [""] + _names(apps.filter(app_type=ApplicationType.MESSAGE_SERVER),
                                                              self.user)
        self.fields["tenant"].choices = _names(Tenant.objects.all(), self.user)

    def validate_target_endpoint(self, value):
        if not value.strip() or "\x00" in value or any(c.isspace() for c in value.strip()):
            raise serializers.ValidationError("Give the endpoint path, without spaces (e.g. v1/pacing/targets).")
        return value.strip()


class NodeSerializer(StepSerializer):
    """Step 5: one node (repeat for each)."""

    name = serializers.CharField(max_length=255, help_text="e.g. Pacing_Server_Node_01")
    template = serializers.ChoiceField(choices=[], help_text="A Genesys Generic Server template.")
    host = serializers.ChoiceField(choices=[], help_text="The host the node runs on.")
    port = serializers.IntegerField(min_value=1, max_value=65535, help_text="The default port; the same on all nodes.")
    protocol = serializers.ChoiceField(choices=PROTOCOLS, default="https")
    clustering_port = serializers.IntegerField(min_value=1, max_value=65535, required=False, allow_null=True,
                                               help_text="Only when 7800 is taken on the host.")

    class Meta:
        fields = ("name", "template", "host", "port", "protocol", "clustering_port")

    def choices(self):
        self.fields["template"].choices = _names(ApplicationTemplate.objects.filter(
            app_type=ApplicationType.GENESYS_GENERIC_SERVER), self.user)
        self.fields["host"].choices = _names(Host.objects.all(), self.user)

    def validate_name(self, value):
        if not value.strip() or "\x00" in value:
            raise serializers.ValidationError("Give the node's name.")
        return value.strip()


class ConnectSerializer(StepSerializer):
    """Step 6: the nodes to connect to the cluster."""

    nodes = serializers.MultipleChoiceField(choices=[], allow_empty=False,
                                            help_text="Nodes of the cluster's tenant not yet in a cluster.")

    class Meta:
        fields = ("nodes",)

    def choices(self):
        from .steps import candidate_nodes

        self.fields["nodes"].choices = [n.name for n in candidate_nodes(self.cluster)]


class InstallSerializer(StepSerializer):
    """Step 7: provisioning, previewed (dry run) or applied."""

    dry_run = StrictBooleanField(default=False, help_text="Preview: the plan, nothing written.")

    class Meta:
        fields = ("dry_run",)


class AlarmsSerializer(StepSerializer):
    """Step 8: tune or remove one of the five conditions, or re-create them all (provisioning's overwrite)."""

    action = serializers.ChoiceField(choices=[("tune", "tune"), ("remove", "remove"),
                                              ("recreate", "re-create all (provisioning overwrite)")])
    condition = serializers.ChoiceField(choices=[c.code for c in catalog.CONDITIONS], required=False,
                                        allow_blank=True)
    category = serializers.ChoiceField(choices=AlarmCategory.choices, required=False, allow_blank=True)
    timeout = serializers.IntegerField(min_value=0, max_value=31_536_000, required=False, allow_null=True,
                                       help_text="Seconds.")

    class Meta:
        fields = ("action", "condition", "category", "timeout")

    def validate(self, attrs):
        if attrs["action"] in ("tune", "remove") and not attrs.get("condition"):
            raise serializers.ValidationError({"condition": ["Choose the alarm condition to tune or remove."]})
        if attrs["action"] == "tune" and not attrs.get("category") and attrs.get("timeout") is None:
            raise serializers.ValidationError({"category": ["Give a category or a timeout to tune."]})
        return attrs


class ForwardProxySerializer(StepSerializer):
    """Step 9 (optional): the cluster's forward-proxy options."""

    enabled = StrictBooleanField(default=False)
    host = serializers.CharField(max_length=255, required=False, allow_blank=True)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False, allow_null=True)

    class Meta:
        fields = ("enabled", "host", "port")

    def validate(self, attrs):
        if attrs["enabled"]:
            host = (attrs.get("host") or "").strip()
            if not host or any(c.isspace() or c in "\x00@" for c in host) or ("/" in host and "://" not in host):
                raise serializers.ValidationError({"host": ["An enabled forward proxy needs its host: a name, or "
                                                            "http(s)://name."]})
            attrs["host"] = host
            if attrs.get("port") is None:
                raise serializers.ValidationError({"port": ["An enabled forward proxy needs its port."]})
        return attrs
