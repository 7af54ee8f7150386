"""Every column the API's ``?q=`` searches has a trigram index on PostgreSQL (migration 0005), and the planner
uses it for a search; the migration's list follows the API's search fields."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.urls import get_resolver

from configdb.models import DN

MIGRATION = importlib.import_module("configdb.migrations.0005_search_trigram_indexes")


def searched_columns() -> set[tuple[str, str]]:
    """(table, column) of every search field of every API list, related fields resolved to their own table."""
    def callbacks(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from callbacks(pattern)
            else:
                yield pattern.callback

    columns = set()
    for callback in callbacks(get_resolver()):
        filterset = getattr(getattr(callback, "cls", None), "filterset_class", None)
        for path in getattr(filterset, "search_fields", ()) or ():
            model, *hops, last = [filterset._meta.model, *path.split("__")]
            for hop in hops:
                model = model._meta.get_field(hop).related_model
            field = model._meta.get_field(last)
            columns.add((field.model._meta.db_table, field.column))
    return columns


def test_the_migration_indexes_every_searched_column():
    assert set(MIGRATION.SEARCH_COLUMNS) == searched_columns()


@pytest.mark.django_db
def test_postgresql_has_the_indexes_and_a_search_uses_one():
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's (the SQLite pass checks the list above)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%\\_trgm"])
        present = {row[0] for row in cursor.fetchall()}
        assert {MIGRATION.index_name(t, c) for t, c in MIGRATION.SEARCH_COLUMNS} <= present
        sql, params = DN.objects.filter(number__icontains="queue 05").only("pk").query.sql_with_params()
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "configdb_dn_number_trgm" in plan, plan
