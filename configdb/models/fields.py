"""configdb's own model fields: OptionsField (a JSON column holding ``section → key → string``, validated on
every path), EncryptedTextField (a secret, encrypted at rest) and PEMField (certificates as PEM text)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

from .. import crypto, pem
from .. import options as opts
from ..secrets import TOKEN_PREFIX, SealedSecret


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

    def get_prep_value(self, value):
        # Secret-named keys are encrypted on the way to the database…
        return super().get_prep_value(crypto.encrypt_options(value))

    def from_db_value(self, value, expression, connection):
        # …and decrypted on the way back, so Python code only ever sees plain values.
        return crypto.open_stored_options(super().from_db_value(value, expression, connection))

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


def validate_secret_input(value):
    """A secret is given in clear: a value that looks like a stored token (``enc:v1:…``) is refused — it
    would be stored as if it were encrypted already, and a planted token then reads as undecryptable. (A
    SealedSecret is the stored token read back unchanged, not input.) NUL is refused."""
    if isinstance(value, str) and not isinstance(value, SealedSecret):
        if value.startswith(TOKEN_PREFIX):
            raise ValidationError(f"A secret cannot start with '{TOKEN_PREFIX}' (the prefix of stored secrets); "
                                  "give the value in clear.", code="secret_token")
        if "\x00" in value:
            raise ValidationError("The value contains a NUL character.", code="null_characters_not_allowed")


class EncryptedTextField(models.TextField):
    """A secret string (a DAP password) stored encrypted; plain text in Python, at most ``max_plain``."""

    def __init__(self, *args, max_plain: int = 1024, **kwargs):
        self.max_plain = max_plain
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_plain))
        self.validators.append(validate_secret_input)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.max_plain != 1024:
            kwargs["max_plain"] = self.max_plain
        return name, path, args, kwargs

    def get_prep_value(self, value):
        return crypto.encrypt(super().get_prep_value(value))

    def from_db_value(self, value, expression, connection):
        return crypto.open_stored(value)

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"widget": forms.PasswordInput(render_value=False), **kwargs})


def validate_certificates(value):
    """One or more PEM certificates (configdb.pem)."""
    if value:
        try:
            pem.certificates(value)
        except pem.PEMError as exc:
            raise ValidationError(f"Not a PEM certificate: {exc}", code="invalid_pem") from None


def validate_private_key(value):
    """One unencrypted PEM private key (configdb.pem); a stored key that no longer decrypts is kept as it is."""
    if value and not isinstance(value, SealedSecret):
        try:
            pem.private_key(value)
        except pem.PEMError as exc:
            raise ValidationError(f"Not a PEM private key: {exc}", code="invalid_pem") from None


class PEMField(models.TextField):
    """Certificates as PEM text (a port's certificate, its trusted CA): checked by ``validate_certificates``,
    stored normalised (configdb.pem: the blocks only, wrapped at 64 columns), so the line breaks a PEM holds
    are not the control characters other text fields refuse (ConfigModel.clean_fields leaves this field out)."""

    def __init__(self, *args, max_length_plain: int = 65536, **kwargs):
        self.max_length_plain = max_length_plain
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_length_plain))
        self.validators.append(validate_certificates)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.max_length_plain != 65536:
            kwargs["max_length_plain"] = self.max_length_plain
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        if value:
            try:
                return pem.certificates(value)[0]
            except pem.PEMError:
                return value  # the validator says what is wrong
        return value
