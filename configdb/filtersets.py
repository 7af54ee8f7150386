"""API filters (django-filter) for every configuration object.

Every field a user would filter by: text fields (exact, ``__icontains``, ``__istartswith``),
enumerations and numbers (exact, ``__in``; numbers also ``__gte``/``__lte``), related objects by
id or name (``?tenant=Environment``, ``?switch=3``), ``?q=`` searching the list's names, and
``?option=section/key=value`` / ``?has_section=pacing`` on options tables.

Every value is checked before it reaches the database: a number outside the 64-bit range the databases
hold is a 400 (never an overflow), ``?option=`` takes only its documented form and compares the value
exactly (the section and key are never turned into ORM lookups), and a secret key cannot be filtered on.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from rest_framework import exceptions

from . import options as opts
from . import validators
from .models import ObjectChange
from .models.fields import EncryptedTextField, OptionsField
from .secrets import is_secret_key

#: the integers both databases hold (a signed 64-bit integer)
INT_RANGE = [MinValueValidator(-(2**63)), MaxValueValidator(2**63 - 1)]


def _in_utc(value):
    """A date-time filter's value in UTC, before it reaches the database: Python accepts offsets up to ±23:59
    but PostgreSQL refuses those beyond ±15:59 (a 500 on ``?modified__gte=…-22:17``). A value with no UTC
    equivalent within years 1–9999 is refused (400 naming the parameter)."""
    if value is not None and value.tzinfo is not None:
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date and time between years 1 and 9999 in UTC.",
                                        code="invalid") from None
    return value


class UTCDateTimeField(forms.DateTimeField):
    """The generated date-time filters' field (Django's formats), its value in UTC (``_in_utc``)."""

    def to_python(self, value):
        return _in_utc(super().to_python(value))


class UTCIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date and time, in UTC (``_in_utc``)."""

    def to_python(self, value):
        return _in_utc(super().to_python(value))


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` with ``UTCIsoDateTimeField``: every date-time filter of the API."""

    field_class = UTCIsoDateTimeField


class NaturalKeyFilter(django_filters.CharFilter):
    """A related object by id (digits) or by name."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value.isascii() and value.isdigit():
            if int(value) > 2**63 - 1:
                raise exceptions.ValidationError({self.field_name: "No object has so large an id."})
            return qs.filter(**{f"{self.field_name}_id": int(value)})
        related = qs.model._meta.get_field(self.field_name).related_model
        return qs.filter(**{f"{self.field_name}__{related.name_field()}": validators.normalize(value)})


class ConfigFilterSet(django_filters.FilterSet):
    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label="Search the names")

    def filter_queryset(self, queryset):
        # Names are stored in NFC (configdb.validators): a value typed in NFD finds them too.
        for name, value in list(self.form.cleaned_data.items()):
            if isinstance(value, str) and name != "option":
                self.form.cleaned_data[name] = validators.normalize(value)
        return super().filter_queryset(queryset)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    def filter_option(self, queryset, name, value):
        """``?option=section/key=value``: the objects whose options hold exactly that value (ours: the first
        ``/`` ends the section, the first ``=`` ends the key, as sections hold no ``/`` in practice and keys no
        ``=``). A ``__`` in the section or key (what an ORM lookup would look like, ``pacing/media__regex=(``)
        is a 400; the section and key become JSON key transforms, never lookups."""
        path, sep, wanted = value.partition("=")
        section, slash, key = path.partition("/")
        if not sep or not slash or not section or not key:
            raise exceptions.ValidationError({"option": "Expected section/key=value, e.g. pacing/media=chat."})
        if "__" in section or "__" in key:
            raise exceptions.ValidationError({"option": "Lookups are not accepted: ?option= takes section/key=value "
                                                        "and compares the value exactly."})
        problems = opts.validate_names(section, key)
        if problems:
            raise exceptions.ValidationError({"option": problems})
        if is_secret_key(key):
            raise exceptions.ValidationError({"option": f"'{key}' is a secret; options holding secrets cannot be "
                                                        "filtered on."})
        problem = validators.text_problem(wanted, allow_tab=True)
        if problem:
            raise exceptions.ValidationError({"option": f"the value {problem}"})
        found = KeyTransform(key, KeyTransform(section, self.options_field))  # a JSON string, compared exactly
        return queryset.alias(_option_value=found).filter(_option_value=wanted)

    def filter_has_section(self, queryset, name, value):
        problems = opts.validate_names(value, None)
        if problems:
            raise exceptions.ValidationError({"has_section": problems})
        return queryset.filter(**{f"{self.options_field}__has_key": value})


def filterset_for(model: type[models.Model], search_fields: tuple[str, ...] = ("name",)) -> type[ConfigFilterSet]:
    lookups: dict[str, list[str]] = {}
    declared: dict[str, django_filters.Filter] = {}
    options_field = None
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedTextField) or (field.one_to_one and field.remote_field.parent_link):
            continue
        if isinstance(field, OptionsField):
            options_field = options_field or field.name
            continue
        if isinstance(field, models.JSONField):
            continue
        if field.is_relation:
            declared[field.name] = NaturalKeyFilter(field_name=field.name, label=f"{field.verbose_name} (id or name)")
        elif field.choices:
            lookups[field.name] = ["exact", "in"]
        elif isinstance(field, models.CharField | models.TextField):
            lookups[field.name] = ["exact", "icontains", "istartswith"]
        elif isinstance(field, models.BooleanField):
            lookups[field.name] = ["exact"]
        elif isinstance(field, models.IntegerField | models.BigAutoField | models.AutoField):
            lookups[field.name] = ["exact", "in", "gte", "lte"]
        elif isinstance(field, models.DateTimeField):
            lookups[field.name] = ["gte", "lte"]
    for field in model._meta.many_to_many:
        declared[field.name] = NaturalKeyFilter(field_name=field.name, label=f"{field.verbose_name} (id or name)")
    if options_field:
        declared["option"] = django_filters.CharFilter(method="filter_option", label="section/key=value")
        declared["has_section"] = django_filters.CharFilter(method="filter_has_section", label="section name")
    meta = type("Meta", (), {"model": model, "fields": lookups})
    attrs = {"Meta": meta, "search_fields": search_fields, "options_field": options_field, **declared}
    filterset = type(f"{model.__name__}FilterSet", (ConfigFilterSet,), attrs)
    for flt in filterset.base_filters.values():
        if isinstance(flt, django_filters.NumberFilter):  # and the ?x__in= lists of numbers, item by item
            flt.extra["validators"] = INT_RANGE
        elif isinstance(flt, django_filters.DateTimeFilter) and not isinstance(flt, UTCIsoDateTimeFilter):
            flt.field_class = UTCDateTimeField
    return filterset


class ObjectChangeFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(method="filter_object_type", label="app_label.model, e.g. configdb.dn")
    time_after = UTCIsoDateTimeFilter(field_name="time", lookup_expr="gte")
    time_before = UTCIsoDateTimeFilter(field_name="time", lookup_expr="lte")
    user = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = ObjectChange
        fields = {"action": ["exact"], "via": ["exact"], "actor": ["exact", "icontains"], "object_id": ["exact"],
                  "request_id": ["exact"]}

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        if not model:
            raise exceptions.ValidationError({"object_type": "Expected app_label.model, e.g. configdb.dn."})
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)
