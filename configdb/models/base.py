"""What every Configuration Server object shares: owning tenant, folder, state, timestamps."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from .. import validators
from .fields import EncryptedTextField, PEMField


class State(models.TextChoices):
    """Configuration Server's object state (CFGEnabled / CFGDisabled)."""

    ENABLED = "enabled", "Enabled"
    DISABLED = "disabled", "Disabled"


class FolderType(models.TextChoices):
    """What a folder holds; GAX shows one folder tree per object type."""

    HOSTS = "host", "Hosts"
    APPLICATION_TEMPLATES = "applicationtemplate", "Application Templates"
    APPLICATIONS = "application", "Applications"
    SWITCHES = "switch", "Switches"
    DNS = "dn", "DNs"
    PERSONS = "person", "Persons"
    AGENT_GROUPS = "agentgroup", "Agent Groups"
    SKILLS = "skill", "Skills"
    MEDIA_TYPES = "mediatype", "Media Types"
    ALARM_CONDITIONS = "alarmcondition", "Alarm Conditions"
    TRANSACTIONS = "transaction", "Transactions"


class RestrictedQuerySet(models.QuerySet):
    """Every configdb model's queryset: ``restrict(user, action)`` keeps the rows ``user`` may see
    (``action="view"``) or change (``"add"``, ``"change"``, ``"delete"``) — NetBox's pattern, the one
    definition of the tenant grants being configdb.access. ``user=None`` (a command or task) is
    unrestricted."""

    def restrict(self, user, action: str = "view"):
        from ..access import restrict

        return restrict(self, user, action)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    def get_by_natural_key(self, *key):
        """The object whose ``natural_key()`` is ``key`` (Django's protocol: DoesNotExist when there is none).
        A related object in the key is given by its own natural key (flattened) or as the object itself."""
        model = self.model
        values = list(key)
        lookup = model.natural_key_lookup(values)
        if values:
            raise ValueError(f"{model.__name__}.get_by_natural_key: {len(key)} values are too many.")
        return self.get(**lookup)


def natural_key_length(model) -> int:
    """How many values ``model``'s flattened natural key holds (a related object's key counts whole)."""
    if hasattr(model, "natural_key_size"):
        return model.natural_key_size()
    return 1  # a model of another app (a user: its user name)


def _lookup_other(model, name: str, values: list) -> dict:
    """The part of a lookup for a related model of another app (auth's user: its natural key is the user name)."""
    return {f"{name}__{model.USERNAME_FIELD}": values.pop(0)}


class FieldNamedConstraints(models.Model):
    """Base of every configdb model (its manager restricts by user, see RestrictedQuerySet).

    Uniqueness errors name the field a user would change (``number: This switch already has a
    DN with this number``), not the whole form: the last field of each unique constraint."""

    objects = RestrictedManager()

    #: The identity of an object, declared once per model: the fields that scope its name (a tenant, a switch,
    #: an application), then the field users name it by. ``natural_key()``, ``get_by_natural_key()``, the API's
    #: name-or-id fields and filters, clone and the configuration transfer all read it. The database's
    #: uniqueness rule on the same fields is the model's own constraint.
    natural_key_fields: tuple[str, ...] = ("name",)

    class Meta:
        abstract = True

    @classmethod
    def name_field(cls) -> str:
        """The field users name an object by (a DN's number, a person's user name, else its name)."""
        return cls.natural_key_fields[-1]

    @classmethod
    def scope_fields(cls) -> tuple[str, ...]:
        """The fields the name is unique within (empty: unique in the whole configuration)."""
        return cls.natural_key_fields[:-1]

    def natural_key(self) -> tuple:
        """The values of ``natural_key_fields``, a related object's as its own natural key (flattened)."""
        key: list = []
        for name in self.natural_key_fields:
            field = self._meta.get_field(name)
            if field.is_relation:
                related = getattr(self, name)
                if related is None:
                    key.extend((None,) * natural_key_length(field.related_model))
                else:
                    key.extend(related.natural_key())
            else:
                key.append(getattr(self, field.attname))
        return tuple(key)

    @classmethod
    def natural_key_size(cls) -> int:
        """How many values the flattened natural key holds."""
        size = 0
        for name in cls.natural_key_fields:
            field = cls._meta.get_field(name)
            size += natural_key_length(field.related_model) if field.is_relation else 1
        return size

    @classmethod
    def natural_key_lookup(cls, values: list) -> dict:
        """Filter arguments for the natural key at the start of ``values`` (consumed): a related object's part is
        one object, or its flattened natural key."""
        lookup = {}
        for name in cls.natural_key_fields:
            field = cls._meta.get_field(name)
            if not values:
                raise ValueError(f"{cls.__name__}: a natural key has {natural_key_length(cls)} values.")
            if not field.is_relation or values[0] is None or isinstance(values[0], models.Model):
                lookup[name] = values.pop(0)
            elif not hasattr(field.related_model, "natural_key_lookup"):
                lookup.update(_lookup_other(field.related_model, name, values))
            else:
                inner = field.related_model.natural_key_lookup(values)
                lookup.update({f"{name}__{k}": v for k, v in inner.items()})
        return lookup

    def clean_fields(self, exclude=None):
        """Every text field (names, numbers, aliases, descriptions, …) is normalised to NFC and refused if it
        holds control, invisible or bidirectional-text characters (configdb.validators) — before uniqueness is
        checked, so a name in NFD is the same name as in NFC. Secrets are kept exactly as typed; PEM text (its line
        breaks) is checked and normalised by its own field (PEMField)."""
        errors: dict[str, list] = {}
        for field in self._meta.concrete_fields:
            if exclude and field.name in exclude:
                continue
            if not isinstance(field, models.CharField | models.TextField) or isinstance(field, EncryptedTextField
                                                                                       | PEMField):
                continue
            value = getattr(self, field.attname)
            if not isinstance(value, str) or not value:
                continue
            normalized = validators.normalize(value)
            if normalized != value:
                setattr(self, field.attname, normalized)
            problem = validators.text_problem(normalized)
            if problem:
                errors[field.name] = [problem]
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        errors: dict[str, list] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self, exclude=exclude)
                except ValidationError as exc:
                    fields = getattr(constraint, "fields", ())
                    key = fields[-1] if fields else NON_FIELD_ERRORS
                    errors.setdefault(key, []).extend(exc.error_list)
        if errors:
            raise ValidationError(errors)


class ConfigObject(FieldNamedConstraints):
    """Abstract base of every object a tenant owns.

    As in Configuration Server, every object has an owning tenant (Environment for hosts,
    applications and templates) and may sit in a folder of its own type.
    """

    #: the FolderType this model's objects may be filed in
    folder_type: str = ""

    tenant = models.ForeignKey(
        "configdb.Tenant", on_delete=models.PROTECT, related_name="+", help_text="The owning tenant."
    )
    folder = models.ForeignKey(
        "configdb.Folder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.ENABLED)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def enabled(self) -> bool:
        return self.state == State.ENABLED

    def clean(self):
        super().clean()
        folder = self.folder if self.folder_id else None
        if folder is not None:
            errors = []
            if folder.folder_type != self.folder_type:
                errors.append(
                    f"Folder '{folder}' holds {folder.get_folder_type_display()}, not "
                    f"{FolderType(self.folder_type).label}."
                )
            if self.tenant_id and folder.tenant_id != self.tenant_id:
                errors.append(f"Folder '{folder}' belongs to another tenant.")
            if errors:
                raise ValidationError({"folder": errors})
        from ..services import check_move

        check_move(self)
