"""Transactions — e.g. the ``hybrid_integration`` List that holds GPE's credentials."""

from django.db import models

from .base import ConfigObject, FolderType
from .fields import OptionsField


class TransactionType(models.TextChoices):
    """Transaction types (CfgTransactionType)."""

    ALARM = "alarm", "Alarm"
    BUSINESS_RULE = "business_rule", "Business Rule"
    CALL_TYPE = "call_type", "Call Type"
    COMBINED = "combined", "Combined"
    LIST = "list", "List"
    MAP = "map", "Map"
    MODEL = "model", "Model"
    NOTICE = "notice", "Notice"
    PLAN = "plan", "Plan"
    SCHEDULE = "schedule", "Schedule"
    SCRIPT = "script", "Script"
    SERVICING = "servicing", "Servicing"
    STATISTICS = "statistics", "Statistics"
    STRATEGY = "strategy", "Strategy"
    TASK = "task", "Task"


class Transaction(ConfigObject):

    natural_key_fields = ("tenant", "transaction_type", "name")
    folder_type = FolderType.TRANSACTIONS

    name = models.CharField(max_length=255)
    alias = models.CharField(max_length=255, blank=True)
    transaction_type = models.CharField("type", max_length=16, choices=TransactionType.choices,
                                        default=TransactionType.LIST)
    description = models.CharField(max_length=1024, blank=True)
    annex = OptionsField()  # the options table says how secrets are kept (configdb/widgets/options.html)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "transaction_type", "name"],
                                    name="transaction_unique_name_per_type",
                                    violation_error_message="This tenant already has a transaction of this type "
                                                            "with this name."),
        ]

    def __str__(self):
        return self.name

