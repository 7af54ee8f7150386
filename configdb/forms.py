"""Forms shared by the admin (and any other HTML form): the GAX-style options table.

The options editor posts three parallel lists — ``<name>-section``, ``<name>-key``,
``<name>-value`` — one entry per table row, so it works without JavaScript for editing and
adding one row per save; the script adds rows, removes rows and filters the table.
"""

from django import forms
from django.core.exceptions import ValidationError

from . import option_metadata
from . import options as opts
from .secrets import MASK


class OptionsWidget(forms.Widget):
    """The options table. ``metadata`` (an application template's, configdb.option_metadata) adds each described
    key's description and valid values under its row, a list of its valid values to pick from, and a reference
    table of every described option; the model refuses a value outside them, whatever the path."""

    template_name = "configdb/widgets/options.html"
    metadata: dict | None = None
    metadata_source: str = ""

    class Media:
        css = {"all": ["configdb/options-editor.css"]}
        js = ["configdb/options-editor.js"]

    def value_from_datadict(self, data, files, name):
        sections = data.getlist(f"{name}-section") if hasattr(data, "getlist") else []
        keys = data.getlist(f"{name}-key") if hasattr(data, "getlist") else []
        values = data.getlist(f"{name}-value") if hasattr(data, "getlist") else []
        if len({len(sections), len(keys), len(values)}) != 1:
            return ("malformed",)
        return list(zip(sections, keys, values, strict=True))

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-present" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if isinstance(value, dict):
            table = [(r.section, r.key, r.value) for r in opts.rows(value)]
        elif isinstance(value, list | tuple) and value != ("malformed",):
            # the posted rows, shown again after an error; the empty ones (the blank row for a new option) are
            # left out, since the table adds its own blank row: an error must not grow the table
            table = [tuple(r) for r in value if not opts.is_blank_row(*r)]
        else:
            table = []
        described = {(s, k): spec for s, k, spec in option_metadata.specs(self.metadata)}
        rows = []
        for section, key, val in table:
            secret = opts.is_secret_key(key)
            spec = described.get((section, key))
            rows.append({"section": section, "key": key, "value": "" if secret else val,
                         "secret": secret, "has_secret": secret and bool(val),
                         "hint": _hint(spec) if spec else "", "choices": list(spec.get("valid_values") or [])
                         if spec else []})
        context["widget"]["rows"] = rows
        context["widget"]["reference"] = [
            {"section": s, "key": k, "description": spec.get("description", ""),
             "accepts": option_metadata.describe(spec), "default": spec.get("default", ""),
             "origin": spec.get("origin", "")} for (s, k), spec in described.items()]
        context["widget"]["metadata_source"] = self.metadata_source
        context["widget"]["mask"] = MASK
        return context


def _hint(spec: dict) -> str:
    parts = [str(spec.get("description") or ""), f"Accepts: {option_metadata.describe(spec)}."]
    if isinstance(spec.get("default"), str) and spec["default"]:
        parts.append(f"Default: {spec['default']}.")
    return " ".join(p for p in parts if p)


class OptionsFormField(forms.Field):
    """Turns the posted rows into ``section → key → value``; errors name the row."""

    widget = OptionsWidget
    default_error_messages = {"malformed": "The options table was not sent whole; reload the page and retry."}

    def prepare_value(self, value):
        return value if value is not None else {}

    def to_python(self, value):
        if value in (None, "", [], {}):
            return {}
        if isinstance(value, dict):
            return opts.validate(value)
        if value == ("malformed",):
            raise ValidationError(self.error_messages["malformed"], code="malformed")
        try:
            return opts.from_rows(value)
        except opts.OptionsError as exc:
            raise ValidationError(exc.problems, code="invalid_options") from None

    def has_changed(self, initial, data):
        # A secret posted blank means "unchanged" (see ConfigObjectForm.clean), not a change.
        try:
            return (initial or {}) != opts.keep_masked_secrets(self.to_python(data), initial)
        except (ValidationError, opts.OptionsError):
            return True


#: the hidden field of the change form that carries the version of the object the page showed
VERSION_FIELD = "pacing_version"


def stale_message(obj) -> str:
    """The admin's "changed by someone else" error, with a link to the object's History page."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.html import format_html

    try:
        history = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
    except NoReverseMatch:
        history = ""
    text = (f"This {obj._meta.verbose_name} was changed by someone else since you opened it; nothing was saved. "
            "See what changed in its ")
    if not history:
        return text + "History, then reload the page and make your change again."
    return format_html('{}<a href="{}">History</a>, then reload the page and make your change again.', text, history)


class ConfigObjectForm(forms.ModelForm):
    """Base form of every configuration object: secrets in options tables are never shown, and a
    secret left blank (or posted as the mask) keeps its stored value. A hidden field carries the
    version of the object as the page showed it (configdb.services.version_of): saving over a
    version someone else has changed since is refused, with a link to the History."""

    pacing_version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.instance._state.adding:
            from .services import version_of

            self.initial[VERSION_FIELD] = version_of(self.instance)

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get(VERSION_FIELD)
        if version and self.instance.pk is not None and not self.instance._state.adding:
            from django.db import transaction

            from .services import StaleObject, check_version

            try:
                with transaction.atomic():  # inside the admin's transaction: the row stays locked until the save
                    check_version(self.instance, version)
            except StaleObject:
                raise ValidationError(stale_message(self.instance), code="stale") from None
        for name, field in self.fields.items():
            if isinstance(field, OptionsFormField) and isinstance(cleaned.get(name), dict):
                stored = getattr(self.instance, name, None) if self.instance.pk else None
                try:
                    cleaned[name] = opts.keep_masked_secrets(cleaned[name], stored)
                except opts.OptionsError as exc:
                    self.add_error(name, exc.problems)
        return cleaned
