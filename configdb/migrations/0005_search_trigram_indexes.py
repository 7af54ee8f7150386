"""The API's ``?q=`` search (``name__icontains`` and the like: ``UPPER(col::text) LIKE UPPER('%term%')``) served by
trigram indexes on PostgreSQL (pg_trgm, a trusted extension: the database owner may create it). Elsewhere (SQLite)
nothing: a LIKE with a leading wildcard has no index there. ``SEARCH_COLUMNS`` lists every column a ``?q=``
searches; tests/configdb/test_search_index.py keeps it equal to the API's search fields."""

from django.db import migrations

SEARCH_COLUMNS = (
    ("configdb_agentgroup", "name"),
    ("configdb_agentgroup", "skill_expression"),
    ("configdb_alarmcondition", "description"),
    ("configdb_alarmcondition", "name"),
    ("configdb_application", "name"),
    ("configdb_applicationtemplate", "name"),
    ("configdb_connection", "port_id"),
    ("configdb_databaseaccesspoint", "database_name"),
    ("configdb_databaseaccesspoint", "dbms_name"),
    ("configdb_dn", "alias"),
    ("configdb_dn", "number"),
    ("configdb_folder", "name"),
    ("configdb_host", "ip_address"),
    ("configdb_host", "name"),
    ("configdb_mediatype", "name"),
    ("configdb_person", "first_name"),
    ("configdb_person", "last_name"),
    ("configdb_person", "user_name"),
    ("configdb_port", "port_id"),
    ("configdb_skill", "name"),
    ("configdb_switch", "name"),
    ("configdb_tenant", "description"),
    ("configdb_tenant", "name"),
    ("configdb_transaction", "alias"),
    ("configdb_transaction", "name"),
)


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    quote = schema_editor.quote_name
    for table, column in SEARCH_COLUMNS:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(index_name(table, column))} ON {quote(table)} "
                              f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in SEARCH_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index_name(table, column))}")


class Migration(migrations.Migration):
    dependencies = [("configdb", "0004_interaction_server_proxy_type")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
