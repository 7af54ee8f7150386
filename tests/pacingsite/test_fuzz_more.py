"""Hypothesis tests of the parsers of untrusted input added since the write-path issue (issue 14, item 5): the
template files (.apd, .xml metadata, GAX's plain-text option export), the ODBC connection string, and the stats
push (its row checker, then the endpoint over HTTP). Whatever they are given, they succeed or refuse with their
documented error (TemplateError, ValueError, a 400 naming the row and field), never anything else. Derandomised
and bounded (a few seconds each)."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configdb import odbc
from pacing import redis as pacing_redis
from pacing import targets
from pacing.api.serializers import ROW_FIELDS, validate_snapshots
from provisioning.templates.apd import parse_apd, parse_defaults_text
from provisioning.templates.files import TemplateError
from provisioning.templates.metadata import parse_metadata
from tests.configdb.api_helpers import client_for, make_user, send

BOUNDED = settings(max_examples=250, derandomize=True, database=None, deadline=None)
APP_TYPES = {"Application Cluster": "Application Cluster", "Genesys Generic Server": "Genesys Generic Server"}

# --- template files ------------------------------------------------------------------------------------------

#: XML built from the formats' own pieces, so that many examples get past the XML parser into our checks
XML_PIECES = st.sampled_from([
    "<?xml version='1.0' encoding='UTF-8'?>", "<application-template>", "</application-template>", "<name>", "</name>",
    "<type>", "</type>", "<version>", "</version>", "<options>", "</options>", "<section name='pacing'>", "</section>",
    "<option name='refreshPeriod' value='5'/>", "<option name='x'/>", "<annex>", "</annex>", "<metadata>",
    "</metadata>", "<option name='media' type='string' default='chat' origin='ours'>", "</option>", "<description>",
    "</description>", "<valid-values>", "</valid-values>", "<value>", "</value>", "Application Cluster",
    "<!DOCTYPE x [<!ENTITY e 'boom'>]>", "&e;", "&amp;", "<![CDATA[", "]]>", "\x00", "\u202e", "é", " ", "\n"])
XML_DOCS = st.one_of(st.binary(max_size=300),
                     st.lists(st.one_of(XML_PIECES, st.text(max_size=6)), max_size=30).map("".join).map(str.encode))


@BOUNDED
@given(XML_DOCS)
def test_an_apd_file_is_read_or_refused_with_template_error(data):
    try:
        template = parse_apd(data, "fuzz.apd", APP_TYPES)
    except TemplateError as exc:
        assert str(exc).startswith("fuzz.apd")
        return
    assert template is not None


@BOUNDED
@given(XML_DOCS)
def test_a_metadata_file_is_read_or_refused_with_template_error(data):
    try:
        parse_metadata(data, "fuzz.xml")
    except TemplateError as exc:
        assert str(exc).startswith("fuzz.xml")


@BOUNDED
@given(st.one_of(st.binary(max_size=200),
                 st.lists(st.sampled_from(["[pacing]", "[", "]", "key=value", "=", "\n", "\r\n", ";", "#", "\x00",
                                           "é", " "]), max_size=30).map("".join).map(str.encode)))
def test_a_plain_text_option_export_is_read_or_refused_with_template_error(data):
    try:
        table = parse_defaults_text(data, "fuzz.txt")
    except TemplateError as exc:
        assert str(exc).startswith("fuzz.txt")
        return
    assert all(isinstance(keys, dict) for keys in table.values())


# --- the ODBC connection string ------------------------------------------------------------------------------

ODBC_PIECES = st.sampled_from(["Driver=", "{", "}", "}}", ";", "=", " ", "\t", "Server=db", "Port=1433",
                               "Database=x", "UID=u", "PWD={a;b}", "DSN=", "é", "\x00"])


@BOUNDED
@given(st.one_of(st.text(max_size=120), st.lists(ODBC_PIECES, max_size=25).map("".join)))
def test_a_connection_string_is_parsed_or_refused_with_value_error(text):
    try:
        pairs = odbc.parse_connection_string(text)
    except ValueError as exc:
        assert str(exc)
        return
    # what it accepted writes back to a string that reads back the same
    assert odbc.parse_connection_string(odbc.format_connection_string(pairs)) == pairs


# --- the stats push ------------------------------------------------------------------------------------------

NAMES = ["Proactive Chat - chat", "Proactive Voice - voice"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.sampled_from(NAMES), st.lists(st.integers(), max_size=2))
ROWS = st.dictionaries(st.sampled_from([*ROW_FIELDS, "extra", ""]), VALUES, max_size=len(ROW_FIELDS) + 1)
SNAPSHOTS = st.one_of(st.lists(ROWS, max_size=4), VALUES, st.dictionaries(st.text(max_size=5), VALUES, max_size=2))


@BOUNDED
@given(SNAPSHOTS)
def test_stats_rows_are_accepted_or_each_problem_names_its_row_and_field(rows):
    snapshots, problems = validate_snapshots(rows, set(NAMES), "Environment", now=1_800_000_000.0)
    if problems:
        assert snapshots == [] or all(p.startswith("snapshots") for p in problems)
        assert all(isinstance(p, str) and p.startswith("snapshots") for p in problems)
    else:
        assert len(snapshots) == len(rows)


@pytest.fixture(scope="module")
def embedded_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("embedded-redis-fuzz")
    yield path
    pacing_redis.reset_clients(f"embedded:{pacing_redis.embedded_db_path(path)}")


@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(st.fixed_dictionaries({"tenant": st.sampled_from(["Environment", 1, "", None, True]),
                                             "snapshots": SNAPSHOTS}),
                      st.dictionaries(st.sampled_from(["tenant", "snapshots", "x"]), VALUES, max_size=3),
                      VALUES))
def test_the_stats_push_answers_202_or_a_400_naming_the_problem(demo, settings, embedded_dir, body):
    settings.REDIS_URL = ""
    settings.VAR_DIR = embedded_dir
    settings.PACING_REDIS_PREFIX = f"fuzz-{uuid.uuid4().hex}"
    targets.clear_cache()
    client = client_for(make_user(f"pusher-{uuid.uuid4().hex[:8]}", superuser=True))
    response = send(client, "post", "/api/v1/pacing/stats/", body)
    assert response.status_code in (202, 400), response.content
    answer = json.loads(response.content)
    if response.status_code == 400:   # our row checker's list, or the JSON parser's one line (NaN is not JSON)
        errors = answer.get("errors") or [answer["detail"]]
        assert errors and all(isinstance(e, str) and e for e in errors)
    else:
        assert answer["stored"] >= 1
