"""Database Access Points: an Application of type Database Access Point plus its DB Info."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

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


class DatabaseAccessPoint(Application):
    """A DAP. Options such as ``settings/dbprotocol``, ``odbc-string`` and ``connection-string``
    live in its application options (seeds/interaction-server-deployment.txt, Configure the DAP).
    """

    dbms_name = models.CharField("DBMS name", max_length=255, blank=True,
                                 help_text="Server name (or DSN) of the database.")
    dbms_type = models.CharField("DBMS type", max_length=16, choices=DBMSType.choices)
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
        super().clean()
