"""drf-spectacular extensions: how the API's own fields, filters and authentication look in the OpenAPI schema.

Importing this module registers the extensions (drf-spectacular collects every subclass of its extension
classes); it must be imported before the schema is generated, e.g. from ``ConfigdbConfig.ready()``.

* ``NaturalKeyRelatedField`` — read back as a ``RelatedObject`` ``{id, url, name}``; written as an id, a
  name, or ``{"id": …}`` / ``{"name": …}`` (``RelatedObjectRequest`` and variants for DNs, virtual queues
  and persons, whose name is their number / user name).
* ``OptionsSerializerField`` — an object of sections, each an object of keys and text values (on write a
  value may be ``null``: "remove this secret").
* ``StrictFilterBackend`` — adds no parameters (it only refuses unknown ones); the ``limit``/``offset``
  pagination parameters, ``ordering`` and the django-filter parameters are described by their own backends.
* ``ConfigObjectViewSet`` — ``POST`` takes one object or a list of them (created all or nothing) and answers
  with the same shape.
* ``TokenAuthentication`` — ``Authorization: Token <key>`` or ``Bearer <key>`` (a bearer scheme, so Swagger
  UI's "Authorize" takes the bare key).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiFilterExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from .. import options as opts
from .fields import natural_name_field

#: the response form of every related object
RELATED_OBJECT = "RelatedObject"


def _related_object_schema() -> dict:
    return {
        "type": "object",
        "description": "A related object: its id, the URL of its API resource and its name.",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "url": {"type": "string", "format": "uri", "nullable": True, "readOnly": True,
                    "description": "Absolute URL of the object in this API (null if it has no route)."},
            "name": {"type": "string", "readOnly": True,
                     "description": "The object's name (a DN's or virtual queue's number, a person's user name)."},
        },
        "required": ["id", "url", "name"],
    }


def _related_request_schema(name_field: str) -> dict:
    """An id, a name, or an object holding exactly one of them."""
    aliases = ["name"] if name_field == "name" else ["name", name_field]
    name = {"type": "string", "minLength": 1, "maxLength": 255}
    by_name = [
        {"type": "object", "properties": {alias: name}, "required": [alias], "additionalProperties": False}
        for alias in aliases
    ]
    spelled = " or ".join(f"`{{\"{alias}\": …}}`" for alias in aliases)
    return {
        "description": f"A related object, by id (`3`), by {name_field.replace('_', ' ')} (`\"Environment\"`), "
                       f"or as `{{\"id\": 3}}` / {spelled}. A name must match exactly one object the user may read.",
        "oneOf": [
            {"type": "integer", "description": "The id."},
            {**name, "description": f"The {name_field.replace('_', ' ')}."},
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
             "additionalProperties": False},
            *by_name,
        ],
    }


def _register(auto_schema, name: str, schema: dict) -> dict:
    component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
    auto_schema.registry.register_on_missing(component)
    return component.ref


class NaturalKeyRelatedFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "configdb.api.fields.NaturalKeyRelatedField"
    match_subclasses = True

    def _name_field(self) -> str:
        # Only writable fields (which have a queryset) appear in requests; the response form is name-agnostic.
        queryset = getattr(self.target, "queryset", None)
        return natural_name_field(queryset.model) if queryset is not None else "name"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return _register(auto_schema, RELATED_OBJECT, _related_object_schema())
        name_field = self._name_field()
        suffix = "" if name_field == "name" else "By" + name_field.title().replace("_", "")
        return _register(auto_schema, f"{RELATED_OBJECT}{suffix}Request", _related_request_schema(name_field))


class OptionsSerializerFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "configdb.api.fields.OptionsSerializerField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        value = {"type": "string", "maxLength": opts.MAX_VALUE_LENGTH}
        if direction == "request":
            value = {**value, "nullable": True}
            description = (f"An options table: sections, each an object of keys and text values (names of "
                           f"1–{opts.MAX_NAME_LENGTH} characters, at most {opts.MAX_KEYS} keys). A secret key's "
                           f"value (password, …) is returned as '{opts.MASK}'; on write, the mask or an empty "
                           "string keeps the stored secret, null removes it, any other value replaces it.")
        else:
            description = (f"An options table: sections, each an object of keys and text values. Secret values "
                           f"are returned as '{opts.MASK}'.")
        return {
            "type": "object",
            "description": description,
            "additionalProperties": {"type": "object", "additionalProperties": value},
        }


class StrictFilterBackendExtension(OpenApiFilterExtension):
    target_class = "configdb.api.base.StrictFilterBackend"
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        return []


class TokenAuthenticationExtension(OpenApiAuthenticationExtension):
    target_class = "pacingsite.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`manage.py api_token issue`): `Authorization: Token <key>` or "
                           "`Authorization: Bearer <key>`.",
        }


class ConfigObjectAutoSchema(AutoSchema):
    """The configuration objects' schema: one tag per object type (``virtual-queues``, not the ``v1`` every
    path shares); ``create`` takes (and answers) one object or a list of them."""

    def get_tags(self):
        tokens = self._tokenize_path()
        return tokens[1:2] if tokens[:1] == ["v1"] and len(tokens) > 1 else tokens[:1]

    def _bulk_create(self) -> bool:
        return self._is_create_operation()

    def get_description(self):
        description = super().get_description()
        if self._bulk_create():
            description = (f"{description}\n\nPOST one object, or a list of up to {settings.PACING_API_MAX_BULK} "
                           "objects: a list is created all or nothing (400 with every record's problems, nothing "
                           "written) and answered with the list of created objects.").strip()
        return description

    def _one_or_many(self, schema: dict) -> dict:
        many = {"type": "array", "items": schema, "minItems": 1, "maxItems": settings.PACING_API_MAX_BULK}
        return {"oneOf": [schema, many]}

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if schema and self._bulk_create():
            return self._one_or_many(schema), True
        return schema, required

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if str(status_code) == "201" and self._bulk_create():
            for content in response.get("content", {}).values():
                if "schema" in content:
                    content["schema"] = self._one_or_many(content["schema"])
        return response


class ConfigObjectViewSetExtension(OpenApiViewExtension):
    """Every configuration object's viewset, described by ConfigObjectAutoSchema."""

    target_class = "configdb.api.views.ConfigObjectViewSet"
    match_subclasses = True

    def view_replacement(self):
        return type(self.target.__name__, (self.target,), {
            "schema": ConfigObjectAutoSchema(), "__doc__": self.target.__doc__, "__module__": self.target.__module__,
        })


class ObjectChangeViewSetExtension(ConfigObjectViewSetExtension):
    """The change history (read-only): tagged ``changes``."""

    target_class = "configdb.api.views.ObjectChangeViewSet"
