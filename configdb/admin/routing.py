"""Routing / eServices: transactions such as ``hybrid_integration``."""

from django.contrib import admin

from ..models import Transaction
from .base import ConfigObjectAdmin


@admin.register(Transaction)
class TransactionAdmin(ConfigObjectAdmin):
    gax_section = "Routing / eServices"
    list_display = ["name", "alias", "transaction_type", "description", "tenant", "folder_name", "state"]
    extra_filters = ("transaction_type",)
    search_fields = ["name", "alias", "description"]
    fieldsets = [
        (None, {"fields": ["name", "alias", "transaction_type", "description", "tenant", "folder", "state"]}),
        ("Options (annex)", {"fields": ["annex"]}),
    ]
