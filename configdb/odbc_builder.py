"""The connection-string builder of a Database Access Point: the admin's builder page and
``POST /api/v1/database-access-points/odbc-builder/`` ask the same two functions.

:func:`build` says which option a DAP needs (configdb.odbc.build: ``odbc-string`` for Interaction Server 8.5.3 and
later, else ``connection-string`` with the driver — the DBMS type's default unless one is named — and the port only
when it is not the default); :func:`apply` writes it, and the purpose's protocol option (``dbprotocol`` or
``delivery-protocol`` = ``odbc``), into the DAP's options through configdb.services (the acting user's grant,
``full_clean()``, the history). Both raise ValidationError naming the input field at fault.

Vendor: the options and their values (seeds/interaction-server-deployment.txt). Ours: the two purposes' names
(``main``, ``logger``), the version choice as "8.5.3 and later" / "8.5.1–8.5.2" when no exact release is given, and
that applying keeps every other option of the section (a stale ``connection-string`` next to a new ``odbc-string``
stays until the user removes it: the builder never deletes what it did not write).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from . import odbc, services
from .models import DatabaseAccessPoint

#: purpose → (label, section, protocol option)
PURPOSES = {
    "main": ("Interaction Server main database", odbc.MAIN_SECTION, odbc.MAIN_PROTOCOL),
    "logger": ("Event Logger database", odbc.LOGGER_SECTION, odbc.LOGGER_PROTOCOL),
}
#: the server releases the builder offers (what each supports: odbc-string from 8.5.3, connection-string before)
VERSIONS = {
    "8.5.3": "8.5.3 and later: odbc-string (DSN={name} or Driver={name})",
    "8.5.2": "8.5.1 / 8.5.2: connection-string (driver, and the port when not the default)",
}


@dataclass(frozen=True)
class BuiltOption:
    purpose: str
    section: str
    key: str
    value: str
    protocol_key: str
    protocol_value: str = odbc.ODBC

    def as_dict(self) -> dict:
        return {"purpose": self.purpose, "section": self.section, "key": self.key, "value": self.value,
                "protocol_key": self.protocol_key, "protocol_value": self.protocol_value}


def build(dbms_type: str, *, purpose: str = "main", version: str = "", dsn: str = "", driver: str = "",
          port: int | None = None) -> BuiltOption:
    """The option the inputs give; ValidationError naming the field (dbms_type, purpose, port, dsn)."""
    if purpose not in PURPOSES:
        raise ValidationError({"purpose": f"{purpose!r} is not a purpose: one of {', '.join(PURPOSES)}."})
    try:
        key, value = odbc.build(dbms_type, version=version, dsn=dsn, driver=driver, port=port)
    except odbc.BuildError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    _, section, protocol_key = PURPOSES[purpose]
    return BuiltOption(purpose, section, key, value, protocol_key)


def apply(dap: DatabaseAccessPoint, built: BuiltOption, *, user=None) -> DatabaseAccessPoint:
    """Write the built option and the protocol option into ``dap``'s options (one service write)."""
    options = {s: dict(k) for s, k in (dap.options or {}).items()}
    section = options.setdefault(built.section, {})
    section[built.key] = built.value
    section[built.protocol_key] = built.protocol_value
    dap.options = options
    return services.save_object(dap, user=user, fields=["options"])
