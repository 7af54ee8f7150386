"""Alarm conditions, as GAX lists them under Environment > Alarm Conditions."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .base import ConfigObject, FolderType
from .fields import OptionsField


class AlarmCategory(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class DetectSelection(models.TextChoices):
    """Which applications' log events detect the alarm (CfgSelectionMode)."""

    ANY = "any", "Select By Any"
    APPLICATION = "application", "Select By Application"
    APPLICATION_TYPE = "application_type", "Select By Application Type"


class AlarmCondition(ConfigObject):

    natural_key_fields = ("tenant", "name")
    folder_type = FolderType.ALARM_CONDITIONS

    name = models.CharField(max_length=255)
    description = models.CharField(max_length=1024, blank=True)
    category = models.CharField(max_length=8, choices=AlarmCategory.choices, default=AlarmCategory.MAJOR)
    timeout = models.PositiveIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(10 * 365 * 86400)],
        help_text="Seconds after which the alarm clears by itself (0: never).",
    )
    detect_event_id = models.PositiveIntegerField("detect event", validators=[MinValueValidator(1)])
    detect_selection = models.CharField(max_length=16, choices=DetectSelection.choices, default=DetectSelection.ANY)
    cancel_event_id = models.PositiveIntegerField("cancel event", null=True, blank=True,
                                                  validators=[MinValueValidator(1)])
    options = OptionsField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="alarmcondition_unique_name_per_tenant",
                                    violation_error_message="This tenant already has an alarm condition with this "
                                                            "name."),
        ]

    def __str__(self):
        return self.name


    def clean(self):
        super().clean()
        if self.cancel_event_id and self.cancel_event_id == self.detect_event_id:
            raise ValidationError({"cancel_event_id": "The cancel event must differ from the detect event."})
