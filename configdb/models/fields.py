"""OptionsField: a JSON column holding ``section → key → string``, validated on every path."""

from django.core.exceptions import ValidationError
from django.db import models

from .. import options as opts


def validate_options(value):
    try:
        opts.validate(value)
    except opts.OptionsError as exc:
        raise ValidationError(exc.problems, code="invalid_options") from None


class OptionsField(models.JSONField):
    """Options or annex of a configuration object.

    Stored as JSON (jsonb on PostgreSQL, so key order is not kept: every reader sorts). The admin
    edits it as a Section / Key / Value table, never as raw JSON.
    """

    default_validators = [validate_options]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        from ..forms import OptionsFormField

        defaults = {"form_class": OptionsFormField, "required": False}
        defaults.update(kwargs)
        defaults.pop("encoder", None)
        defaults.pop("decoder", None)
        form_class = defaults.pop("form_class")
        defaults.pop("choices_form_class", None)
        defaults.setdefault("label", self.verbose_name.capitalize())
        defaults.setdefault("help_text", self.help_text)
        return form_class(**{k: v for k, v in defaults.items() if k in ("required", "label", "help_text",
                                                                         "initial", "widget", "disabled")})
