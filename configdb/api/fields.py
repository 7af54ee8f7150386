"""Serializer fields: related objects by name or id, options tables with write-only secrets."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ObjectDoesNotExist
from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from .. import options as opts
from .. import validators


def natural_name_field(model) -> str:
    """The field that names a model's objects (what scripts write instead of an id): the last of the model's
    declared ``natural_key_fields`` (configdb/models/base.py)."""
    name_field = getattr(model, "name_field", None)
    return name_field() if name_field is not None else "name"


@lru_cache(maxsize=256)
def _detail_prefix(model_class) -> str | None:
    """``/api/v1/virtual-queues/`` for a model (its own route first, then its concrete model's)."""
    for meta in (model_class._meta, model_class._meta.concrete_model._meta):
        try:
            return reverse(f"api:{meta.model_name}-detail", args=[0])[:-2]
        except NoReverseMatch:
            continue
    return None


def brief(obj, request=None) -> dict:
    """The nested form of a related object: id, url, name. (Reversed once per model, not per object:
    a list page holds hundreds of these.)"""
    prefix = _detail_prefix(type(obj))
    url = None
    if prefix is not None:
        url = f"{prefix}{obj.pk}/"
        if request is not None:
            base = getattr(request, "_pacing_url_base", None)
            if base is None:
                base = request.build_absolute_uri("/")[:-1]
                request._pacing_url_base = base
            url = base + url
    return {"id": obj.pk, "url": url, "name": getattr(obj, natural_name_field(type(obj)), str(obj))}


class NaturalKeyRelatedField(serializers.RelatedField):
    """A related object written as its id, its name (``"Environment"``), or ``{"id": …}`` /
    ``{"name": …}``; read back as ``{"id", "url", "name"}``. Only objects of tenants the user may
    read can be named, so another tenant's objects are "not found", not revealed."""

    default_error_messages = {
        "not_found": "No {model} with {what}.",
        "ambiguous": "Several {plural} are named '{name}'; give the id instead.",
        "bad": "Expected an id, a name, or an object with 'id' or 'name'.",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None or not hasattr(queryset, "restrict"):
            return queryset
        return queryset.restrict(request.user, "view")

    def use_pk_only_optimization(self):
        return False

    def to_internal_value(self, data):
        # A bulk request names the same switch or tenant thousands of times: look each up once.
        cache = self.context.get("natural_key_cache")
        if cache is None or not isinstance(data, int | str) or isinstance(data, bool):
            return self._lookup(data)
        key = (self.queryset.model, data)
        if key not in cache:
            cache[key] = self._lookup(data)
        return cache[key]

    def _lookup(self, data):
        queryset = self.get_queryset()
        model = queryset.model
        name_field = natural_name_field(model)
        verbose = model._meta.verbose_name
        if isinstance(data, dict):
            if set(data) == {"id"}:
                data = data["id"]
            elif set(data) == {"name"} or set(data) == {name_field}:
                data = next(iter(data.values()))
            else:
                self.fail("bad")
        if isinstance(data, bool):
            self.fail("bad")
        if isinstance(data, int):
            if not 0 < data <= 2**63 - 1:  # no object has such an id (and the database could not hold it)
                self.fail("not_found", model=verbose, what=f"id {data}")
            try:
                return queryset.get(pk=data)
            except ObjectDoesNotExist:
                self.fail("not_found", model=verbose, what=f"id {data}")
        if isinstance(data, str):
            problem = validators.reference_name_problem(data)  # the configuration document's rule too
            if problem:
                raise serializers.ValidationError(f"A name {problem[:-1]}; expected an id or a name.")
            data = validators.normalize(data)  # names are stored in NFC
            matches = list(queryset.filter(**{name_field: data})[:2])
            if not matches:
                self.fail("not_found", model=verbose, what=f"{name_field.replace('_', ' ')} '{data}'")
            if len(matches) > 1:
                self.fail("ambiguous", plural=model._meta.verbose_name_plural, name=data)
            return matches[0]
        self.fail("bad")

    def to_representation(self, value):
        return brief(value, self.context.get("request"))


class OptionsSerializerField(serializers.Field):
    """An options table. Secret values are never returned (the mask stands in for them); on write,
    the mask or an empty string keeps the stored secret, ``null`` removes it, a new value replaces it
    (see ConfigObjectSerializer.validate)."""

    def to_representation(self, value):
        return {s: {k: (opts.MASK if opts.is_secret_key(k) and v else v) for k, v in sorted(keys.items())}
                for s, keys in sorted((value or {}).items())}

    def to_internal_value(self, data):
        # The function the configuration import reads its tables with (configdb.options.read); here secrets
        # pass as written (the mask, resolved against the stored table by merge_secrets) and null removes one.
        try:
            return opts.read(data, removable=True)
        except opts.OptionsError as exc:
            raise serializers.ValidationError(exc.problems) from None


def merge_secrets(new: dict, stored: dict | None) -> dict:
    """Resolve a written options table against the stored one: secrets absent, masked or empty are
    kept; ``None`` removes the key."""
    stored = stored or {}
    merged = {s: {k: v for k, v in keys.items() if v is not None} for s, keys in new.items()}
    for section, keys in stored.items():
        for key, value in keys.items():
            if not opts.is_secret_key(key) or not value:
                continue
            sent = new.get(section, {}).get(key, opts.MASK)
            if sent is None:
                continue
            if sent in ("", opts.MASK):
                merged.setdefault(section, {})[key] = value
    try:
        return opts.keep_masked_secrets(merged, stored)
    except opts.OptionsError as exc:
        raise serializers.ValidationError(exc.problems) from None
