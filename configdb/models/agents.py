"""Persons (agents), skills, media types and agent groups."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .. import pacing_options
from .base import ConfigObject, FieldNamedConstraints, FolderType
from .fields import OptionsField


class MediaType(ConfigObject):
    """A media type (Configuration Server keeps them as the ``MediaType`` business attribute)."""

    natural_key_fields = ("tenant", "name")

    folder_type = FolderType.MEDIA_TYPES

    name = models.CharField(max_length=64, help_text="As written in a virtual queue's pacing/media, e.g. chat.")
    display_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="mediatype_unique_name_per_tenant",
                                    violation_error_message="This tenant already has this media type."),
        ]

    def __str__(self):
        return self.name

    def _stored(self) -> tuple[int, str] | None:
        return type(self)._base_manager.filter(pk=self.pk).values_list("tenant_id", "name").first() \
            if self.pk is not None else None

    def clean(self):
        """Renaming a media type, or moving it to another tenant, is refused while pacing queues name it."""
        super().clean()
        stored = None if self._state.adding else self._stored()
        if stored is None or stored == (self.tenant_id, self.name):
            return
        queues = pacing_options.queues_using_media(*stored)
        if queues:
            field = "name" if stored[1] != self.name else "tenant"
            raise ValidationError({field: pacing_options.media_in_use_message(stored[1], queues)})

    def delete(self, *args, **kwargs):
        """Refused while pacing queues name it, as a port in use is (configdb.pacing_options)."""
        stored = self._stored()
        queues = pacing_options.queues_using_media(*stored) if stored else []
        if queues:
            raise ValidationError(pacing_options.media_in_use_message(stored[1], queues))
        return super().delete(*args, **kwargs)


class Skill(ConfigObject):

    natural_key_fields = ("tenant", "name")
    folder_type = FolderType.SKILLS

    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="skill_unique_name_per_tenant",
                                    violation_error_message="This tenant already has a skill with this name."),
        ]

    def __str__(self):
        return self.name



class Person(ConfigObject):
    """A person; ``is_agent`` persons take interactions of their ``media_types``."""

    natural_key_fields = ("user_name",)

    folder_type = FolderType.PERSONS

    user_name = models.CharField(max_length=255, unique=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField("e-mail", max_length=255, blank=True)
    employee_id = models.CharField("employee ID", max_length=255)
    is_agent = models.BooleanField("agent", default=True)
    media_types = models.ManyToManyField(MediaType, blank=True, related_name="persons",
                                         help_text="Media this agent can handle.")
    options = OptionsField()

    class Meta:
        ordering = ["user_name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "employee_id"], name="person_unique_employee_id",
                                    violation_error_message="This tenant already has a person with this employee ID."),
        ]

    def __str__(self):
        return self.user_name



class SkillLevel(FieldNamedConstraints):

    natural_key_fields = ("person", "skill")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(0), MaxValueValidator(1000)])

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["person", "skill"], name="skilllevel_unique",
                                    violation_error_message="This person already has this skill."),
        ]

    def __str__(self):
        return f"{self.skill}={self.level}" if self.skill_id else str(self.level)

    def clean(self):
        super().clean()
        if self.person_id and self.skill_id and self.person.tenant_id != self.skill.tenant_id:
            raise ValidationError({"skill": "The skill belongs to another tenant."})


class AgentGroupType(models.TextChoices):
    REGULAR = "regular", "Regular"
    VIRTUAL = "virtual", "Virtual"


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<op>>=|<=|!=|=|>|<)|(?P<bool>&|\||\bAND\b|\bOR\b)"
    r"|(?P<lp>\()|(?P<rp>\))|(?P<name>[A-Za-z_][\w .\-]*?(?=\s*(?:>=|<=|!=|=|>|<)))|(?P<bad>\S))",
    re.IGNORECASE,
)


def validate_skill_expression(expression: str) -> None:
    """Check a virtual group's skill expression such as ``Spanish > 5 & (Sales >= 3 | Chat = 10)``.

    Grammar (ours; Configuration Server's is richer, this covers what GAX's editor writes):
    ``expr := term (('&'|'|'|AND|OR) term)*``, ``term := '(' expr ')' | SKILL OP NUMBER``.
    """
    tokens = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            break
        kind = match.lastgroup
        if kind == "bad":
            raise ValidationError(f"Unexpected {match.group(kind)!r} at position {match.start(kind) + 1}.")
        tokens.append((kind, match.group(kind).strip()))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not tokens:
        raise ValidationError("The skill expression is empty.")
    index = 0

    def term():
        nonlocal index
        if index < len(tokens) and tokens[index][0] == "lp":
            index += 1
            expr()
            if index >= len(tokens) or tokens[index][0] != "rp":
                raise ValidationError("A '(' is not closed.")
            index += 1
            return
        shape = [k for k, _ in tokens[index:index + 3]]
        if shape != ["name", "op", "num"]:
            raise ValidationError(
                "Expected a comparison such as 'Spanish > 5' "
                f"near {' '.join(v for _, v in tokens[index:index + 3]) or 'the end'!r}."
            )
        index += 3

    def expr():
        nonlocal index
        term()
        while index < len(tokens) and tokens[index][0] == "bool":
            index += 1
            term()

    expr()
    if index != len(tokens):
        raise ValidationError(f"Unexpected {tokens[index][1]!r} after a complete expression.")


class AgentGroup(ConfigObject):
    """An agent group: regular (a list of agents) or virtual (a skill expression).

    Its origination DNs are what makes it part of a pacing target: the group counts for every
    virtual queue it lists (seeds/pacing-deployment-guide.txt, Agent groups).
    """

    natural_key_fields = ("tenant", "name")

    folder_type = FolderType.AGENT_GROUPS

    name = models.CharField(max_length=255)
    group_type = models.CharField("type", max_length=8, choices=AgentGroupType.choices,
                                  default=AgentGroupType.REGULAR)
    skill_expression = models.CharField(max_length=1024, blank=True,
                                        help_text="Virtual groups only, e.g. Spanish > 5.")
    agents = models.ManyToManyField(Person, blank=True, related_name="agent_groups")
    supervisors = models.ManyToManyField(Person, blank=True, related_name="supervised_groups")
    origination_dns = models.ManyToManyField("configdb.DN", blank=True, related_name="origination_for",
                                             through="configdb.OriginationDN", verbose_name="origination DNs")
    options = OptionsField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="agentgroup_unique_name_per_tenant",
                                    violation_error_message="This tenant already has an agent group with this name."),
        ]
        indexes = [models.Index(fields=["name", "id"], name="agentgroup_name")]

    def __str__(self):
        return self.name


    def clean(self):
        super().clean()
        expression = self.skill_expression.strip()
        if self.group_type == AgentGroupType.VIRTUAL:
            if not expression:
                raise ValidationError({"skill_expression": "A virtual agent group needs a skill expression."})
            try:
                validate_skill_expression(expression)
            except ValidationError as exc:
                raise ValidationError({"skill_expression": exc.messages}) from None
        elif expression:
            raise ValidationError({"skill_expression": "Only a virtual agent group has a skill expression."})


class OriginationDN(FieldNamedConstraints):
    """A row of an agent group's Origination DNs tab."""

    natural_key_fields = ("agent_group", "dn")

    agent_group = models.ForeignKey(AgentGroup, on_delete=models.CASCADE)
    dn = models.ForeignKey("configdb.DN", on_delete=models.CASCADE, verbose_name="DN")

    class Meta:
        verbose_name = "origination DN"
        constraints = [
            models.UniqueConstraint(fields=["agent_group", "dn"], name="origination_dn_unique",
                                    violation_error_message="The group already lists this DN."),
        ]

    def __str__(self):
        return self.dn.number if self.dn_id else ""

    def clean(self):
        super().clean()
        if self.agent_group_id and self.dn_id and self.agent_group.tenant_id != self.dn.tenant_id:
            raise ValidationError({"dn": f"DN '{self.dn}' belongs to another tenant."})
