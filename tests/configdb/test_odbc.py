"""configdb.odbc (pure) and configdb.odbc_builder: the connection-string builder for every DBMS type, with and
without a DSN and a custom port, and the parser's refusals (seeds/interaction-server-deployment.txt, "ODBC
Connection" and "Migrating to ODBC from DB Server (8.5.3 Only)")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from configdb import odbc, odbc_builder

TYPES = sorted(odbc.DEFAULT_DRIVERS)


@pytest.mark.parametrize("dbms", TYPES)
def test_from_853_the_builder_writes_odbc_string_with_the_default_driver(dbms):
    key, value = odbc.build(dbms, version="8.5.300.05")
    assert key == odbc.ODBC_STRING
    assert value == "Driver=" + odbc.DEFAULT_DRIVERS[dbms]  # the seed's braced names, e.g. {SQL Server Native …}
    assert odbc.parse_odbc_string(value) == odbc.OdbcSource("Driver", odbc.DEFAULT_DRIVERS[dbms].strip("{}"))


@pytest.mark.parametrize("dbms", TYPES)
def test_from_853_a_dsn_gives_dsn_in_braces_and_no_port(dbms):
    assert odbc.build(dbms, version="8.5.3", dsn="ci-vm410", port=1234) == (odbc.ODBC_STRING, "DSN={ci-vm410}")


@pytest.mark.parametrize("dbms", TYPES)
def test_before_853_the_default_driver_and_port_give_only_the_driver(dbms):
    key, value = odbc.build(dbms, version="8.5.1", port=odbc.DEFAULT_PORTS[dbms])
    assert key == odbc.CONNECTION_STRING
    assert odbc.parse_connection_string(value) == (("driver", odbc.DEFAULT_DRIVERS[dbms].strip("{}")),)


@pytest.mark.parametrize("dbms", TYPES)
def test_before_853_a_custom_port_is_added(dbms):
    key, value = odbc.build(dbms, version="8.5.2", driver="DB2 ODBC Driver", port=1234)
    assert (key, value) == (odbc.CONNECTION_STRING, "driver=DB2 ODBC Driver;port=1234")  # the seed's example


@pytest.mark.parametrize("dbms", TYPES)
def test_before_853_a_dsn_is_the_whole_connection_string(dbms):
    assert odbc.build(dbms, version="8.5.2", dsn="sqltest", port=1234) == (odbc.CONNECTION_STRING, "DSN=sqltest")


def test_default_ports_are_the_seeds():
    assert (odbc.DEFAULT_PORTS[odbc.MSSQL], odbc.DEFAULT_PORTS[odbc.ORACLE], odbc.DEFAULT_PORTS[odbc.DB2]) == \
        (1433, 1521, 50000)


@pytest.mark.parametrize(("text", "words"), [
    ("driver={SQL Server", "unbalanced brace"),
    ("driver=SQL}Server", "unbalanced brace"),
    ("driver;port=1", "has no '='"),
    ("=x", "empty key"),
    ("driver=a;DRIVER=b", "given twice"),
    ("driver={a}b", "after the closing brace"),
])
def test_the_parser_names_the_problem(text, words):
    with pytest.raises(ValueError, match=words):
        odbc.parse_connection_string(text)


@pytest.mark.parametrize(("text", "words"), [
    ("", "is empty"), ("DSN={a};Driver={b}", "both"), ("port=1", "neither"), ("DSN={}", "no name"),
    ("DSN={a", "unbalanced brace"),
])
def test_odbc_string_refusals(text, words):
    with pytest.raises(ValueError, match=words):
        odbc.parse_odbc_string(text)


def test_braced_values_may_hold_separators():
    assert odbc.parse_connection_string("Driver={a;b=c}};d}; port = 5") == (("Driver", "a;b=c};d"), ("port", "5"))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"dbms_type": "mysql"}, "dbms_type"),
    ({"dbms_type": "mssql", "purpose": "archive"}, "purpose"),
    ({"dbms_type": "mssql", "dsn": "a", "driver": "b"}, "dsn"),
    ({"dbms_type": "mssql", "port": 0}, "port"),
    ({"dbms_type": "mssql", "port": 70000}, "port"),
])
def test_the_builder_service_names_the_field(kwargs, field):
    dbms = kwargs.pop("dbms_type")
    with pytest.raises(ValidationError) as caught:
        odbc_builder.build(dbms, **kwargs)
    assert list(caught.value.message_dict) == [field]


def test_the_logger_purpose_writes_logger_settings():
    built = odbc_builder.build("postgre", purpose="logger", version="8.5.3", dsn="logdb")
    assert (built.section, built.key, built.value, built.protocol_key, built.protocol_value) == \
        ("logger-settings", "odbc-string", "DSN={logdb}", "delivery-protocol", "odbc")
