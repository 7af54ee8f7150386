"""Serializers: the same rules as the admin, because writes go through services.save_object()."""

from __future__ import annotations

import copy

from django.db import models, transaction
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from .. import services
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
        if "validators" in kwargs:
            kwargs["validators"] = [v for v in kwargs["validators"] if not isinstance(v, UniqueValidator)]
        return field_class, kwargs

    def _model_fields(self) -> tuple[set[str], set[str]]:
        meta = self.Meta.model._meta
        return ({f.name for f in meta.many_to_many},
                {f.name for f in meta.concrete_fields if isinstance(f, OptionsField)})

    def to_internal_value(self, data):
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


def serializer_for(model_class, *, exclude=(), read_only=(), extra_kwargs=None, base=ConfigObjectSerializer):
    """A ConfigObjectSerializer for ``model_class`` with all its editable fields."""
    meta_fields = ["id", "url"] + [
        f.name for f in model_class._meta.get_fields()
        if (f.concrete or f.many_to_many) and not f.auto_created and f.name not in exclude
        and not (f.one_to_one and getattr(f.remote_field, "parent_link", False))
        and (not f.is_relation or f.many_to_one or f.many_to_many)
        and f.name not in ("id",)
    ]
    timestamp = [n for n in ("created", "modified") if n in meta_fields]
    meta = type("Meta", (), {
        "model": model_class,
        "fields": meta_fields,
        "read_only_fields": [*timestamp, *read_only],
        "extra_kwargs": extra_kwargs or {},
    })
    declared = {
        # DRF makes many-to-many fields with a through model read-only; ours are plain link rows.
        f.name: NaturalKeyRelatedField(many=True, required=False, queryset=f.related_model._default_manager.all())
        for f in model_class._meta.many_to_many if f.name not in exclude
    }
    return type(f"{model_class.__name__}Serializer", (base,), {"Meta": meta, "__module__": __name__, **declared})


TenantSerializer = serializer_for(Tenant)
FolderSerializer = serializer_for(Folder)
HostSerializer = serializer_for(Host)
ApplicationTemplateSerializer = serializer_for(ApplicationTemplate, read_only=("metadata",))
ApplicationSerializer = serializer_for(Application, extra_kwargs={"app_type": {"required": False}})
PortSerializer = serializer_for(Port)
ConnectionSerializer = serializer_for(Connection)
DatabaseAccessPointSerializer = serializer_for(
    DatabaseAccessPoint, exclude=("is_server",), read_only=("app_type",),
)
SwitchSerializer = serializer_for(Switch)
DNSerializer = serializer_for(DN, read_only=("tenant",))
VirtualQueueSerializer = serializer_for(VirtualQueue, read_only=("tenant", "dn_type"))
MediaTypeSerializer = serializer_for(MediaType)
SkillSerializer = serializer_for(Skill)
PersonSerializer = serializer_for(Person)
SkillLevelSerializer = serializer_for(SkillLevel)
AgentGroupSerializer = serializer_for(AgentGroup)
AlarmConditionSerializer = serializer_for(AlarmCondition)
TransactionSerializer = serializer_for(Transaction)


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
