"""Serializers: the same rules as the admin, because writes go through services.save_object()."""

from __future__ import annotations

import copy

from django.db import models, transaction
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from .. import pacing_options, services
from ..models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
    Connection,
    DatabaseAccessPoint,
    Folder,
    Host,
    MediaType,
    ObjectChange,
    Person,
    Port,
    Skill,
    SkillLevel,
    Switch,
    Tenant,
    Transaction,
    VirtualQueue,
)
from ..models.fields import EncryptedTextField, OptionsField
from .fields import NaturalKeyRelatedField, OptionsSerializerField, brief, merge_secrets


class ConfigObjectSerializer(serializers.ModelSerializer):
    """Base of every configuration object's serializer.

    Related objects are written by id or name and read back brief; options tables hide secrets;
    ``create``/``update`` build the object and hand it, with the request's user, to
    ``services.save_object`` (the tenant grant, ``full_clean()`` — the model's own rules — the save and
    the history) and its links to ``services.set_links``, all in one transaction. No check here.
    """

    serializer_related_field = NaturalKeyRelatedField
    url = serializers.SerializerMethodField()
    #: fields that are only ever output (computed advice, not stored): accepted and ignored in a request body
    output_only_fields: tuple[str, ...] = ()

    def get_url(self, obj) -> str | None:
        return brief(obj, self.context.get("request"))["url"]

    def get_validators(self):
        # Uniqueness is checked by the model's full_clean() (one validation path, errors named by field).
        return []

    def build_standard_field(self, field_name, model_field):
        if isinstance(model_field, OptionsField):
            return OptionsSerializerField, {"required": False}
        if isinstance(model_field, EncryptedTextField):
            return serializers.CharField, {"required": False, "allow_blank": True, "write_only": True,
                                           "max_length": model_field.max_plain, "trim_whitespace": False}
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        message = model_field.error_messages.get("invalid_choice")
        if model_field.choices and message and message != models.Field.default_error_messages["invalid_choice"]:
            # the model's own words (a DAP's DBMS type lists the known ones), not DRF's bare "not a valid choice"
            kwargs["error_messages"] = {**kwargs.get("error_messages", {}),
                                        "invalid_choice": str(message).replace("%(value)r", '"{input}"')}
        if "validators" in kwargs:
            kwargs["validators"] = [v for v in kwargs["validators"] if not isinstance(v, UniqueValidator)]
        return field_class, kwargs

    def _model_fields(self) -> tuple[set[str], set[str]]:
        meta = self.Meta.model._meta
        return ({f.name for f in meta.many_to_many},
                {f.name for f in meta.concrete_fields if isinstance(f, OptionsField)})

    def to_internal_value(self, data):
        if isinstance(data, dict) and self.output_only_fields:
            data = {k: v for k, v in data.items() if k not in self.output_only_fields}
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(k) for k in data if k not in writable and k not in self.fields)
            # Read-only fields (id and url too) may be sent back unchanged (a GET's body, edited, PUT back);
            # any other value is a 400, as docs/api.md says, never silently ignored.
            read_only = sorted(str(k) for k in data if k in self.fields and k not in writable)
            errors = {k[:100]: ["Unknown field."] for k in unknown[:20]}
            errors.update({k: ["This field is read-only."] for k in read_only
                           if self.instance is None or data[k] != self.fields[k].to_representation(
                               self.fields[k].get_attribute(self.instance))})
            if errors:
                # Report the unknown and read-only fields together with every other problem of the body.
                try:
                    super().to_internal_value(data)
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, dict):
                        errors = {**exc.detail, **errors}
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        _, options_fields = self._model_fields()
        for name in options_fields & set(attrs):
            stored = getattr(self.instance, name, None) if self.instance is not None else None
            attrs[name] = merge_secrets(attrs[name], stored)
        for name, field in self.Meta.model._meta._forward_fields_map.items():
            if isinstance(field, EncryptedTextField) and name in attrs and not attrs[name] and self.instance:
                attrs.pop(name)  # an empty secret means "unchanged"
        return attrs

    def build(self, validated: dict, instance: models.Model | None = None) -> tuple[models.Model, dict]:
        """The object the validated data describes (unsaved) and its many-to-many links."""
        many, _ = self._model_fields()
        validated = dict(validated)
        links = {name: validated.pop(name) for name in list(validated) if name in many}
        instance = instance if instance is not None else self.Meta.model()
        for name, value in validated.items():
            setattr(instance, name, value)
        if "tenants" in links and hasattr(instance, "pending_tenants"):
            instance.pending_tenants = links["tenants"]  # an application's rules see the tenants it will serve
        return instance, links

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None) if request is not None else None

    def _save(self, instance: models.Model, validated: dict, *, fields=None) -> models.Model:
        instance, links = self.build(validated, instance)
        user = self._user()
        with transaction.atomic():
            instance = services.save_object(instance, user=user, fields=fields,
                                            version=self.context.get("if_match"))
            for name, values in links.items():
                services.set_links(instance, name, values, user=user)
        return instance

    def create(self, validated_data):
        return self._save(self.Meta.model(), validated_data)

    def update(self, instance, validated_data):
        # Only the fields the request names are written (onto the row as stored now, under its lock), so a
        # concurrent change of another field is kept; a PUT's If-Match guards the fields it names.
        candidate = copy.copy(instance)
        candidate._state = copy.copy(instance._state)
        many, _ = self._model_fields()
        return self._save(candidate, validated_data, fields=[name for name in validated_data if name not in many])


# One class per object type, every field listed by name (NetBox's shape), so a new model field appears in the
# API, or becomes writable, only when it is added here (tests/configdb/test_serializer_fields.py fails until it is
# listed here or in that test's list of fields kept out of the API). ``created`` and ``modified`` are read-only
# everywhere. Many-to-many fields are declared: DRF would make those with a through model (an application's
# tenants) read-only, and ours are plain link rows written by services.set_links. No docstrings on these classes:
# drf-spectacular takes the nearest docstring (ConfigObjectSerializer's) as each component's description.


class TenantSerializer(ConfigObjectSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "url", "name", "description", "state", "options", "created", "modified"]
        read_only_fields = ["created", "modified"]


class FolderSerializer(ConfigObjectSerializer):
    class Meta:
        model = Folder
        fields = ["id", "url", "tenant", "parent", "name", "folder_type", "description", "state"]
        read_only_fields = []


class HostSerializer(ConfigObjectSerializer):
    class Meta:
        model = Host
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "ip_address", "os_type",
                  "os_version", "lca_port", "options"]
        read_only_fields = ["created", "modified"]


class ApplicationTemplateSerializer(ConfigObjectSerializer):
    class Meta:
        model = ApplicationTemplate
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "app_type", "version",
                  "default_options", "default_annex", "metadata"]
        # metadata comes from the template's .xml (imported in the admin), not written through the API
        read_only_fields = ["created", "modified", "metadata"]


class ApplicationSerializer(ConfigObjectSerializer):
    tenants = NaturalKeyRelatedField(many=True, required=False, queryset=Tenant.objects.all())

    class Meta:
        model = Application
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "app_type", "template",
                  "version", "component_type", "is_server", "host", "working_directory", "command_line",
                  "command_line_arguments", "startup_timeout", "shutdown_timeout", "auto_restart", "redundancy_type",
                  "backup_server", "log_on_as_system", "options", "annex", "tenants"]
        read_only_fields = ["created", "modified"]
        extra_kwargs = {"app_type": {"required": False}}  # the model takes it from the template when left out


class PortSerializer(ConfigObjectSerializer):
    class Meta:
        model = Port
        # certificate_key is write-only (ConfigObjectSerializer.build_standard_field); left out or "", it is kept.
        fields = ["id", "url", "application", "port_id", "port", "connection_protocol", "listening_mode", "ha_sync",
                  "description", "certificate", "certificate_key", "trusted_ca"]
        read_only_fields = []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and attrs.get("certificate") == "" and not attrs.get("certificate_key"):
            attrs["certificate_key"] = ""  # the certificate removed: its key goes with it (docs/api.md)
        return attrs


class ConnectionSerializer(ConfigObjectSerializer):
    class Meta:
        model = Connection
        fields = ["id", "url", "application", "server", "port_id", "connection_protocol", "local_timeout",
                  "remote_timeout", "trace_mode", "transport_parameters", "application_parameters"]
        read_only_fields = []


class DatabaseAccessPointSerializer(ConfigObjectSerializer):
    tenants = NaturalKeyRelatedField(many=True, required=False, queryset=Tenant.objects.all())

    class Meta:
        model = DatabaseAccessPoint
        # Not is_server: a DAP is never a server (its clean() sets it); app_type is always Database Access Point.
        # db_password is write-only (ConfigObjectSerializer.build_standard_field).
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "app_type", "template",
                  "version", "component_type", "host", "working_directory", "command_line", "command_line_arguments",
                  "startup_timeout", "shutdown_timeout", "auto_restart", "redundancy_type", "backup_server",
                  "log_on_as_system", "options", "annex", "tenants", "dbms_name", "dbms_type", "database_name",
                  "db_username", "db_password", "query_timeout"]
        read_only_fields = ["created", "modified", "app_type"]


class SwitchSerializer(ConfigObjectSerializer):
    class Meta:
        model = Switch
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "switch_type", "t_server",
                  "options"]
        read_only_fields = ["created", "modified"]


class DNWarningsMixin(serializers.Serializer):
    # What is saved but worth saying (ours, docs/api.md): a pacing virtual queue whose alias differs from its number.
    warnings = serializers.SerializerMethodField(
        help_text="Advice on what was saved, e.g. a pacing virtual queue whose alias differs from its number "
                  "(abandoned statistics stay 0). Output only; empty when there is none.")
    output_only_fields = ("warnings",)

    def get_warnings(self, obj) -> list[str]:
        return pacing_options.queue_warnings(obj)


class DNSerializer(DNWarningsMixin, ConfigObjectSerializer):
    class Meta:
        model = DN
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "switch", "number", "dn_type",
                  "alias", "association", "register", "route_type", "options", "warnings"]
        read_only_fields = ["created", "modified", "tenant"]  # a DN's tenant is its switch's


class VirtualQueueSerializer(DNWarningsMixin, ConfigObjectSerializer):
    class Meta:
        model = VirtualQueue
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "switch", "number", "dn_type",
                  "alias", "association", "register", "route_type", "options", "warnings"]
        read_only_fields = ["created", "modified", "tenant", "dn_type"]  # dn_type: always Virtual Queue


class MediaTypeSerializer(ConfigObjectSerializer):
    class Meta:
        model = MediaType
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "display_name"]
        read_only_fields = ["created", "modified"]


class SkillSerializer(ConfigObjectSerializer):
    class Meta:
        model = Skill
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name"]
        read_only_fields = ["created", "modified"]


class PersonSerializer(ConfigObjectSerializer):
    media_types = NaturalKeyRelatedField(many=True, required=False, queryset=MediaType.objects.all())

    class Meta:
        model = Person
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "user_name", "first_name",
                  "last_name", "email", "employee_id", "is_agent", "options", "media_types"]
        read_only_fields = ["created", "modified"]


class SkillLevelSerializer(ConfigObjectSerializer):
    class Meta:
        model = SkillLevel
        fields = ["id", "url", "person", "skill", "level"]
        read_only_fields = []


class AgentGroupSerializer(ConfigObjectSerializer):
    agents = NaturalKeyRelatedField(many=True, required=False, queryset=Person.objects.all())
    supervisors = NaturalKeyRelatedField(many=True, required=False, queryset=Person.objects.all())
    origination_dns = NaturalKeyRelatedField(many=True, required=False, queryset=DN.objects.all())

    class Meta:
        model = AgentGroup
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "group_type",
                  "skill_expression", "options", "agents", "supervisors", "origination_dns"]
        read_only_fields = ["created", "modified"]


class AlarmConditionSerializer(ConfigObjectSerializer):
    class Meta:
        model = AlarmCondition
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "description", "category",
                  "timeout", "detect_event_id", "detect_selection", "cancel_event_id", "options"]
        read_only_fields = ["created", "modified"]


class TransactionSerializer(ConfigObjectSerializer):
    class Meta:
        model = Transaction
        fields = ["id", "url", "tenant", "folder", "state", "created", "modified", "name", "alias",
                  "transaction_type", "description", "annex"]
        read_only_fields = ["created", "modified"]


class ObjectChangeSerializer(serializers.ModelSerializer):
    """A recorded change (read-only); secrets were redacted before it was stored."""

    object_type = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    tenant = serializers.SerializerMethodField()

    class Meta:
        model = ObjectChange
        fields = ["id", "time", "user", "actor", "via", "request_id", "action", "object_type", "object_id",
                  "object_repr", "tenant", "prechange", "postchange"]

    def get_object_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    def get_user(self, obj) -> str | None:
        return obj.user.get_username() if obj.user_id else None

    def get_tenant(self, obj) -> str | None:
        tenant = obj.tenant if obj.tenant_id else None  # None too when the tenant was deleted since
        return tenant.name if tenant is not None else None
