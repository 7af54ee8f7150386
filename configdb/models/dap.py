"""Database Access Points: an Application of type Database Access Point plus its DB Info.

The ODBC options (seeds/interaction-server-deployment.txt, "ODBC Connection", "Migrating to ODBC from DB Server
(8.5.3 Only)"; grammar and builder in configdb.odbc) are checked on every write path, because every path runs
``full_clean()`` (configdb.services):

- vendor: the main database DAP's ``[settings] dbprotocol`` and the Event Logger DAP's ``[logger-settings]
  delivery-protocol`` are set to ``odbc``; ``odbc-string`` is ``DSN={name}`` or ``Driver={name}``;
  ``connection-string`` is ``key=value`` pairs separated by ``;`` — in ``[settings]`` or ``[logger-settings]``.
- ours: the protocol options may also say ``dbserver`` (the DB Server era, Interaction Server 8.5.1/8.5.2 and
  older; the seed leaves the option out then, and we accept the explicit value rather than refuse an old
  configuration); values compare case-insensitively. A bad ``odbc-string`` or ``connection-string`` (an
  unbalanced brace, an item without ``=``, both a DSN and a driver) is an error on ``options`` naming the section,
  the key and the problem.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from .. import odbc
from .applications import Application, ApplicationType
from .fields import EncryptedTextField


class DBMSType(models.TextChoices):
    MSSQL = "mssql", "Microsoft SQL Server"
    ORACLE = "oracle", "Oracle"
    POSTGRESQL = "postgre", "PostgreSQL"
    DB2 = "db2", "DB2"
    MYSQL = "mysql", "MySQL"
    INFORMIX = "informix", "Informix"
    SYBASE = "sybase", "Sybase"


#: what dbprotocol / delivery-protocol may say: ODBC (the seed's), or DB Server (ours: the older releases')
DB_SERVER_PROTOCOL = "dbserver"
PROTOCOLS = (odbc.ODBC, DB_SERVER_PROTOCOL)
#: (section, protocol key) of the main database DAP and of the Event Logger DAP
PROTOCOL_OPTIONS = ((odbc.MAIN_SECTION, odbc.MAIN_PROTOCOL), (odbc.LOGGER_SECTION, odbc.LOGGER_PROTOCOL))

_DBMS_TYPES = ", ".join(f"{value} ({label})" for value, label in DBMSType.choices)


def odbc_options_problems(options) -> list[str]:
    """What is wrong with a DAP's ODBC options (empty when nothing is). Pure: reads the options only."""
    problems: list[str] = []
    if not isinstance(options, dict):
        return problems
    for section_name, protocol_key in PROTOCOL_OPTIONS:
        section = options.get(section_name)
        if not isinstance(section, dict):
            continue
        if protocol_key in section:
            value = section[protocol_key]
            if not isinstance(value, str) or value.strip().lower() not in PROTOCOLS:
                problems.append(f"{section_name}/{protocol_key}: {value!r} is not a database protocol: "
                                f"'{odbc.ODBC}' (ODBC, required from Interaction Server 8.5.3) or "
                                f"'{DB_SERVER_PROTOCOL}' (DB Server, 8.5.2 and older).")
        if odbc.ODBC_STRING in section:
            try:
                odbc.parse_odbc_string(section[odbc.ODBC_STRING])
            except ValueError as exc:
                problems.append(f"{section_name}/{odbc.ODBC_STRING}: {exc} (write DSN={{name}} or "
                                "Driver={name}).")
        if odbc.CONNECTION_STRING in section:
            try:
                odbc.parse_connection_string(section[odbc.CONNECTION_STRING])
            except ValueError as exc:
                problems.append(f"{section_name}/{odbc.CONNECTION_STRING}: {exc}.")
    return problems


class DatabaseAccessPoint(Application):
    """A DAP. Options such as ``settings/dbprotocol``, ``odbc-string`` and ``connection-string``
    live in its application options (seeds/interaction-server-deployment.txt, Configure the DAP).
    """

    dbms_name = models.CharField("DBMS name", max_length=255, blank=True,
                                 help_text="Server name (or DSN) of the database.")
    dbms_type = models.CharField(
        "DBMS type", max_length=16, choices=DBMSType.choices,
        error_messages={"invalid_choice": f"%(value)r is not a DBMS type: one of {_DBMS_TYPES}."})
    database_name = models.CharField(max_length=255, blank=True)
    db_username = models.CharField("user name", max_length=255, blank=True)
    db_password = EncryptedTextField("password", blank=True,
                                     help_text="Never shown; leave blank to keep the current one. Stored encrypted.")
    query_timeout = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(86400)],
                                                help_text="Seconds (0: no timeout).")

    class Meta:
        verbose_name = "database access point"
        ordering = ["name"]

    def clean(self):
        if not self.app_type:
            self.app_type = ApplicationType.DATABASE_ACCESS_POINT
        if self.app_type != ApplicationType.DATABASE_ACCESS_POINT:
            raise ValidationError({"app_type": "A database access point has the type Database Access Point."})
        self.is_server = False
        errors: dict[str, list] = {}
        try:
            super().clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        problems = odbc_options_problems(self.options)
        if problems:
            errors.setdefault("options", []).extend(problems)
        if errors:
            raise ValidationError(errors)
