"""Import an application template: parse its ``.apd`` (and ``.xml`` metadata, and GAX's plain-text option export
as its defaults), then create or update the ApplicationTemplate through configdb.services — the acting user's
tenant grant, ``full_clean()``, the history — in one transaction. Any problem raises TemplateError (a file's) or
ValidationError / PermissionDenied (the model's, the grant's), and nothing is written.

A template is found by its name (its natural key). Re-importing updates its type (refused by the model while
applications are created from it), version, default options (replaced whole: the file is the template) and
metadata; a template imported without metadata keeps the metadata it has. The default annex is replaced only when
the ``.apd`` carries an ``<annex>`` (ours). Applications created earlier keep their options (GAX copies a
template's defaults at creation only); they are checked against the new metadata when they are next saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from configdb import interaction_server as ixn
from configdb import services
from configdb.models import ApplicationTemplate, ApplicationType, Tenant

from .apd import TemplateFile, parse_apd, parse_defaults_text
from .files import MAX_FILE_BYTES, TemplateError, refuse
from .metadata import Metadata, check_defaults, check_template, parse_metadata

#: the tenant that owns a new template unless another is named (as in GAX: templates are Environment's)
DEFAULT_TENANT = "Environment"

#: the templates the product ships (templates/<name>.apd and .xml, as in the vendor's installation root)
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "templates"
SHIPPED = ("Pacing_Server_Cluster", "Pacing_Server")


@dataclass(frozen=True)
class ImportResult:
    template: ApplicationTemplate
    created: bool
    metadata: bool                 # metadata was imported with it

    @property
    def summary(self) -> str:
        verb = "Created" if self.created else "Updated"
        extra = " with its option metadata" if self.metadata else " (no metadata)"
        return (f"{verb} application template '{self.template.name}' ({self.template.get_app_type_display()}, "
                f"version {self.template.version}){extra}.")


def app_types() -> dict[str, str]:
    """Each application type's value and label → its value (what an .apd's <type> may say). The older proxy type
    (``interaction_server_proxy`` / ``Interaction Server Proxy``) is read as Interaction Server, the type the seed
    creates proxies with (configdb.interaction_server.LEGACY_PROXY_TYPE; a template has no component type)."""
    known = {value: value for value in ApplicationType.values}
    known.update({label: value for value, label in ApplicationType.choices})
    known[ixn.LEGACY_PROXY_TYPE] = known[ixn.PROXY_COMPONENT] = ApplicationType.INTERACTION_SERVER.value
    return known


def parse(apd_bytes: bytes, xml_bytes: bytes | None = None, *, apd_name: str = "template.apd",
          xml_name: str = "template.xml", defaults_bytes: bytes | None = None,
          defaults_name: str = "defaults.txt") -> tuple[TemplateFile, Metadata | None]:
    """The files read and checked together, nothing written (TemplateError)."""
    template = parse_apd(apd_bytes, apd_name, app_types())
    meta = parse_metadata(xml_bytes, xml_name) if xml_bytes is not None else None
    if defaults_bytes is not None:
        defaults = parse_defaults_text(defaults_bytes, defaults_name)
        if meta is not None:
            check_defaults(defaults, meta, defaults_name, xml_name)
        template = TemplateFile(name=template.name, app_type=template.app_type, version=template.version,
                                options=defaults, annex=template.annex)
    if meta is not None:
        check_template(template, meta, apd_name, xml_name)
    return template, meta


def import_template(apd_bytes: bytes, xml_bytes: bytes | None = None, *, user, apd_name: str = "template.apd",
                    xml_name: str = "template.xml", defaults_bytes: bytes | None = None,
                    defaults_name: str = "defaults.txt", tenant: Tenant | None = None) -> ImportResult:
    """Create or update the template the files describe; ``user`` is the acting user (None: a command)."""
    template, meta = parse(apd_bytes, xml_bytes, apd_name=apd_name, xml_name=xml_name,
                           defaults_bytes=defaults_bytes, defaults_name=defaults_name)
    with transaction.atomic():
        stored = ApplicationTemplate.objects.filter(name=template.name).first()
        fields = ["app_type", "version", "default_options"]
        if stored is None:
            owner = tenant or Tenant.objects.filter(name=DEFAULT_TENANT).first()
            if owner is None:
                raise refuse(apd_name, None, f"no tenant named '{DEFAULT_TENANT}' to own the template; create it "
                                             "first (manage.py load_demo does) or name another tenant.")
            obj = ApplicationTemplate(name=template.name, tenant=owner)
        else:
            obj = stored
        obj.app_type = template.app_type
        obj.version = template.version
        obj.default_options = {s: dict(k) for s, k in template.options.items()}
        if template.annex:
            obj.default_annex = {s: dict(k) for s, k in template.annex.items()}
            fields.append("default_annex")
        if meta is not None:
            obj.metadata = meta.as_json()
            fields.append("metadata")
        saved = services.save_object(obj, user=user, fields=fields if stored is not None else None)
    return ImportResult(template=saved, created=stored is None, metadata=meta is not None)


def read_upload(stream, name: str, size: int | None = None) -> bytes:
    """At most MAX_FILE_BYTES of a file or upload (a larger one is refused unread, by its size when known)."""
    if size is not None and size > MAX_FILE_BYTES:
        raise refuse(name, None, f"the file is {size:,} bytes, larger than the limit of "
                                 f"{MAX_FILE_BYTES // (1024 * 1024)} MiB; nothing was read.")
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise refuse(name, None, f"the file is larger than the limit of {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
                                 "nothing was read.")
    return data


def validation_messages(exc: ValidationError, file: str) -> list[str]:
    """A model's refusal as lines naming the .apd file and the field."""
    if hasattr(exc, "error_dict"):
        return [f"{file}: {field}: {message}" for field, messages in exc.message_dict.items()
                for message in messages]
    return [f"{file}: {message}" for message in exc.messages]


__all__ = ["DEFAULT_TENANT", "ImportResult", "TemplateError", "app_types", "import_template", "parse", "read_upload",
           "validation_messages"]


def import_shipped(*, user) -> list[ImportResult]:
    """Import the product's own templates (``SHIPPED``) where the configuration has none of that name or has it
    without metadata (a template the administrator imported or described is left as it is). ``manage.py
    load_demo`` runs it after the demo configuration, so the demo's cluster and nodes are checked against the
    shipped metadata like any other."""
    results = []
    for name in SHIPPED:
        stored = ApplicationTemplate.objects.filter(name=name).first()
        if stored is not None and stored.metadata:
            continue
        apd, xml = SHIPPED_DIR / f"{name}.apd", SHIPPED_DIR / f"{name}.xml"
        results.append(import_template(apd.read_bytes(), xml.read_bytes(), user=user, apd_name=apd.name,
                                       xml_name=xml.name))
    return results
