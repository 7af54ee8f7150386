"""What every Configuration Server object shares: owning tenant, folder, state, timestamps."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from .. import validators
from .fields import EncryptedTextField


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
    pass


class FieldNamedConstraints(models.Model):
    """Base of every configdb model (its manager restricts by user, see RestrictedQuerySet).

    Uniqueness errors name the field a user would change (``number: This switch already has a
    DN with this number``), not the whole form: the last field of each unique constraint."""

    objects = RestrictedManager()

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        """Every text field (names, numbers, aliases, descriptions, …) is normalised to NFC and refused if it
        holds control, invisible or bidirectional-text characters (configdb.validators) — before uniqueness is
        checked, so a name in NFD is the same name as in NFC. Secrets are kept exactly as typed."""
        errors: dict[str, list] = {}
        for field in self._meta.concrete_fields:
            if exclude and field.name in exclude:
                continue
            if not isinstance(field, models.CharField | models.TextField) or isinstance(field, EncryptedTextField):
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
