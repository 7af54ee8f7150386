"""ODBC settings of a Database Access Point: the connection-string grammar, the builder and the driver defaults.

Pure Python, no database: the DAP model's ``clean()``, the admin's builder, the cluster wizard and the config
doctor all read and write ODBC settings through this module (seeds/interaction-server-deployment.txt, "ODBC
Connection" and "Migrating to ODBC from DB Server (8.5.3 Only)").

The vendor, by release of the server that uses the DAP:

- **8.5.3 and later** (the current way): main database DAP ``[settings] dbprotocol=odbc``, Event Logger DAP
  ``[logger-settings] delivery-protocol=odbc``; and ``odbc-string`` (same section) set to ``DSN={name}`` when a DSN
  is configured on the host, otherwise ``Driver={name}`` (on Linux the driver may be a file path).
- **8.5.1 / 8.5.2** (the older "ODBC Connection" page, obsolete from 8.5.3): the server builds the ODBC string from
  the DB Info with a default driver per DBMS type; ``connection-string`` (``key=value`` pairs separated by ``;``)
  names another driver (``driver=…``), a port other than the default (``port=…``; 1433 MS SQL, 1521 Oracle, 50000
  DB2), or a DSN (``DSN=…``).

Ours (the vendor is silent): the grammar is ODBC's own (a value may be wrapped in braces, and then may contain
``;`` and ``=``; ``}}`` inside braces is a literal ``}``); keys compare case-insensitively, as ODBC drivers do;
PostgreSQL's default port, which the seed does not list, is 5432; a version that cannot be read gets the current
way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .interaction_server import at_least

#: DBMS types as configdb.models.DBMSType stores them
MSSQL, ORACLE, POSTGRESQL, DB2 = "mssql", "oracle", "postgre", "db2"

#: the driver Interaction Server (8.5.1/8.5.2) assumes when the DAP names none (seed, "Database Type / Default Driver")
DEFAULT_DRIVERS: Mapping[str, str] = {
    MSSQL: "{SQL Server Native Client 10.0}",
    DB2: "{IBM DB2 ODBC DRIVER - DB2COPY1}",
    ORACLE: "{Oracle in OraClient11g_home1}",
    POSTGRESQL: "{PostgreSQL ANSI(x64)}",
}
#: the port a server of each type listens on unless told otherwise (PostgreSQL's is ours)
DEFAULT_PORTS: Mapping[str, int] = {MSSQL: 1433, ORACLE: 1521, DB2: 50000, POSTGRESQL: 5432}

MAIN_SECTION, MAIN_PROTOCOL = "settings", "dbprotocol"
LOGGER_SECTION, LOGGER_PROTOCOL = "logger-settings", "delivery-protocol"
ODBC_STRING, CONNECTION_STRING = "odbc-string", "connection-string"
ODBC = "odbc"

#: from this release (8.5.3: builds 8.5.300 and later) the DAP names its ODBC source with odbc-string, and DB
#: Server is not supported
ODBC_STRING_VERSION = (8, 5, 300)
#: DB2 is not supported from this release (8.5.2)
NO_DB2_VERSION = (8, 5, 200)


class BuildError(ValueError):
    """A refused builder input; ``field`` names it (dbms_type, dsn, port), so each caller reports it on its field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def parse_connection_string(text: str) -> tuple[tuple[str, str], ...]:
    """``key=value;key={value}`` → ((key, value), …) with braces removed; ValueError naming the problem.

    Refused: an item without ``=``, an empty key, an unbalanced brace, text after a closing brace, a key twice."""
    if not isinstance(text, str):
        raise ValueError("must be text")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t;":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        semi = text.find(";", i)
        if eq < 0 or (0 <= semi < eq):
            item = text[i:semi if semi >= 0 else n].strip()
            raise ValueError(f"{item!r} has no '=': write each setting as key=value, separated by ';'")
        key = text[i:eq].strip()
        if not key:
            raise ValueError(f"an item at position {i + 1} has an empty key before '='")
        if "{" in key or "}" in key:
            raise ValueError(f"the key {key!r} contains a brace")
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == "{":
            value, i = _braced(text, i)
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] != ";":
                raise ValueError(f"{key}: text after the closing brace (put ';' between settings)")
        else:
            end = text.find(";", i)
            end = n if end < 0 else end
            value = text[i:end].strip()
            if "{" in value or "}" in value:
                raise ValueError(f"{key}: unbalanced brace in {value!r} (wrap the whole value in {{…}})")
            i = end
        folded = key.lower()
        if folded in seen:
            raise ValueError(f"the key {key!r} is given twice")
        seen.add(folded)
        pairs.append((key, value))
    return tuple(pairs)


def _braced(text: str, start: int) -> tuple[str, int]:
    """The value of ``{…}`` starting at ``start`` (``}}`` is a literal ``}``) and the index after it."""
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        if text[i] == "}":
            if i + 1 < n and text[i + 1] == "}":
                out.append("}")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise ValueError(f"unbalanced brace: {text[start:]!r} opens '{{' and never closes it")


def _quote(value: str) -> str:
    """A value as it is written in a connection string: braced when it holds ``;``, braces or blanks at its ends."""
    if value and not any(c in value for c in ";{}") and value == value.strip():
        return value
    return "{" + value.replace("}", "}}") + "}"


def format_connection_string(pairs) -> str:
    return ";".join(f"{key}={_quote(value)}" for key, value in pairs)


def get(pairs, key: str) -> str | None:
    """The value of ``key`` (case-insensitive) among parsed pairs, or None."""
    return next((value for k, value in pairs if k.lower() == key.lower()), None)


@dataclass(frozen=True)
class OdbcSource:
    """What an odbc-string names: a DSN or a driver (exactly one)."""

    kind: str  # "DSN" or "Driver"
    name: str

    def __str__(self):
        """As the seed writes it: ``DSN={name}`` / ``Driver={name}``, always braced."""
        return f"{self.kind}={{{self.name.replace('}', '}}')}}}"


def parse_odbc_string(text: str) -> OdbcSource:
    """``DSN={name}`` or ``Driver={name}`` (braces optional, e.g. a Linux driver path) → OdbcSource; ValueError."""
    pairs = parse_connection_string(text)
    if not pairs:
        raise ValueError("is empty: enter DSN={name of the DSN} or Driver={name of the driver}")
    dsn, driver = get(pairs, "DSN"), get(pairs, "Driver")
    if dsn is not None and driver is not None:
        raise ValueError("names both a DSN and a driver: give one of them")
    if dsn is None and driver is None:
        raise ValueError("names neither a DSN nor a driver: enter DSN={name} or Driver={name}")
    kind, name = ("DSN", dsn) if dsn is not None else ("Driver", driver)
    if not name.strip():
        raise ValueError(f"{kind}= has no name")
    return OdbcSource(kind, name)


def uses_odbc_string(version: str) -> bool:
    """Whether a server of this release reads ``odbc-string`` (8.5.3 and later, or unknown) rather than
    ``connection-string``. Builds count by hundreds (configdb.interaction_server.parse_version): 8.5.106 is 8.5.1."""
    return at_least(version, ODBC_STRING_VERSION) is not False


def build(dbms_type: str, *, version: str = "", dsn: str = "", driver: str = "", port: int | None = None,
          ) -> tuple[str, str]:
    """The option (key, value) the builder writes for a DAP: ``odbc-string`` for 8.5.3 and later, otherwise
    ``connection-string`` with the driver (default per DBMS type) and the port only when it is not the default.

    :class:`BuildError` (a ValueError naming the field) for an unknown DBMS type, a bad port, or both a DSN and a
    driver."""
    if dbms_type not in DEFAULT_DRIVERS:
        known = ", ".join(sorted(DEFAULT_DRIVERS))
        raise BuildError("dbms_type", f"{dbms_type!r} has no ODBC driver the seed names: one of {known}.")
    dsn, driver = (dsn or "").strip(), (driver or "").strip()
    if dsn and driver:
        raise BuildError("dsn", "Give a DSN or a driver, not both.")
    if port is not None and not (isinstance(port, int) and 1 <= port <= 65535):
        raise BuildError("port", f"{port!r} is not a port number from 1 to 65535.")
    if uses_odbc_string(version):
        if dsn:
            return ODBC_STRING, str(OdbcSource("DSN", dsn))
        name = driver.strip("{}") if driver else DEFAULT_DRIVERS[dbms_type].strip("{}")
        return ODBC_STRING, str(OdbcSource("Driver", name))
    if dsn:
        return CONNECTION_STRING, format_connection_string([("DSN", dsn)])
    pairs = [("driver", driver or DEFAULT_DRIVERS[dbms_type].strip("{}"))]
    if port is not None and port != DEFAULT_PORTS[dbms_type]:
        pairs.append(("port", str(port)))
    return CONNECTION_STRING, format_connection_string(pairs)
