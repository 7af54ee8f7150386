"""Bad input: every case is a 400 (413 for a huge body) with field errors, never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configdb.models import DN, Application, Port

from .api_helpers import body, client_for, make_user, minimal_config, send, url

VQ = url("virtual-queues")


@pytest.fixture
def client(env_tenant, other_tenant):
    minimal_config(env_tenant)
    client = client_for(make_user("root", superuser=True))
    client.raise_request_exception = False  # a crash is a 500 to assert on, not an exception in the test
    return client


def queue(**extra) -> dict:
    return {"switch": "MultiMediaSwitch", "number": "VQ Bad", "alias": "VQ Bad",
            "options": {"pacing": {"media": "chat"}}, **extra}


def assert_field_error(response, *fields):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    data = body(response)
    assert isinstance(data, dict), data
    for name in fields:
        assert name in data, (name, data)
        assert data[name], data
    assert not DN.objects.filter(number="VQ Bad").exists()


def test_the_valid_payload_is_valid(client):
    """The cases below differ from this one only by what they break."""
    response = send(client, "post", VQ, queue())
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("field, value", [
    ("number", ["VQ", "Bad"]),
    ("number", {"text": "VQ Bad"}),
    ("number", True),
    ("number", None),
    ("number", ""),
    ("number", "x" * 10_000),
    ("number", "VQ\x00Bad"),
    ("alias", "a" * 256),
    ("alias", "a\x00"),
    ("state", "maybe"),
    ("state", 1),
    ("state", ["enabled"]),
    ("register", "sometimes"),
    ("route_type", None),
    ("switch", "NoSuchSwitch"),
    ("switch", 999_999),
    ("switch", -1),
    ("switch", 2**63),
    ("switch", 1.5),
    ("switch", True),
    ("switch", ""),
    ("switch", "x" * 10_000),
    ("switch", "Multi\x00MediaSwitch"),
    ("switch", {"id": "one"}),
    ("switch", {"id": 1, "name": "MultiMediaSwitch"}),
    ("switch", {}),
    ("switch", []),
    ("folder", "NoSuchFolder"),
    ("tenant", "Other"),
    ("dn_type", "extension"),
])
def test_wrong_values_are_field_errors(client, field, value):
    assert_field_error(send(client, "post", VQ, queue(**{field: value})), field)


@pytest.mark.parametrize("options", [
    "pacing/media=chat",
    ["pacing", "media", "chat"],
    5,
    {"pacing": "media=chat"},
    {"pacing": ["chat"]},
    {"pacing": {"media": 5}},
    {"pacing": {"media": 1.5}},
    {"pacing": {"media": True}},
    {"pacing": {"media": ["chat"]}},
    {"pacing": {"media": {"value": "chat"}}},
    {"pacing": {"media": None}},
    {"pacing": {"media": "chat\x00"}},
    {"pacing": {"me\x00dia": "chat"}},
    {"pac\x00ing": {"media": "chat"}},
    {"pacing": {"media": "chat\nvoice"}},
    {"pacing": {"": "chat"}},
    {"": {"media": "chat"}},
    {"pacing": {"media": "x" * 5000}},
    {"pacing": {"k" * 300: "chat"}},
    {"[pacing]": {"media": "chat"}},
    {"pacing": {"me=dia": "chat"}},
])
def test_bad_options_are_field_errors(client, options):
    assert_field_error(send(client, "post", VQ, queue(options=options)), "options")


def test_unknown_and_read_only_fields(client):
    response = send(client, "post", VQ, queue(colour="red", size=3))
    assert_field_error(response, "colour", "size")
    assert body(response)["colour"] == ["Unknown field."]
    response = send(client, "post", VQ, queue(**{"k" * 10_000: 1}))
    assert response.status_code == 400
    assert len(response.content) < 2_000  # the unknown name is cut, not echoed whole
    response = send(client, "post", VQ, queue(**{"num\x00ber": "x"}))
    assert response.status_code == 400
    response = send(client, "post", VQ, queue(created="2020-01-01T00:00:00Z"))
    assert_field_error(response, "created")


def test_missing_required_fields(client):
    response = send(client, "post", VQ, {"alias": "VQ Bad"})
    assert_field_error(response, "switch", "number")
    response = send(client, "post", url("ports"), {"port_id": "x"})
    assert_field_error(response, "application", "port")


@pytest.mark.parametrize("value", ["abc", 70_000, 0, -1, 1.5, "", None, [9081], 2**40, 1e20])
def test_bad_port_numbers(client, value):
    before = Port.objects.count()
    response = send(client, "post", url("ports"), {"application": "Stat_Server", "port_id": "extra", "port": value})
    assert response.status_code == 400, (value, response.content)
    assert "port" in body(response)
    assert Port.objects.count() == before


def test_bad_values_on_update(client):
    app = Application.objects.get(name="Stat_Server")
    for payload, field in [({"startup_timeout": "soon"}, "startup_timeout"),
                           ({"startup_timeout": 10**6}, "startup_timeout"),
                           ({"host": "nohost"}, "host"), ({"name": "x" * 10_000}, "name"),
                           ({"name": "a\x00"}, "name"), ({"options": "x"}, "options"),
                           ({"template": "Pacing_Server"}, "template"), ({"tenants": "Environment"}, "tenants"),
                           ({"tenants": ["Nowhere"]}, "tenants"), ({"auto_restart": "perhaps"}, "auto_restart")]:
        response = send(client, "patch", url("applications", app.pk), payload)
        assert response.status_code == 400, (payload, response.content[:200])
        assert field in body(response), (payload, body(response))
    app.refresh_from_db()
    assert app.name == "Stat_Server" and app.startup_timeout == 90


@pytest.mark.parametrize("raw", [
    b"",
    b"not json",
    b"{",
    b'{"number": "VQ Bad",}',
    b"{'number': 'VQ Bad'}",
    b"\xff\xfe{}",
    b'{"number": "\\ud800"}',
    b'{"port": NaN}',
    b'{"port": 1e400}',
    b'"a string"',
    b"42",
    b"true",
    b"null",
    b"[[[[[[[[[[]]]]]]]]]]",
    b"[" * 5000 + b"]" * 5000,
    b'{"options": ' + b'{"a": ' * 5000 + b'"x"' + b"}" * 5000 + b"}",
], ids=lambda raw: repr(raw[:24]))
def test_malformed_bodies_are_400(client, raw):
    response = send(client, "post", VQ, raw)
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert isinstance(body(response), dict)


@pytest.mark.parametrize("depth", [50, 500, 900, 1000, 1020])
@pytest.mark.parametrize("field", ["number", "state", "switch", "options", "alias", "register"])
def test_deep_but_parseable_nesting_is_400_not_500(client, field, depth):
    """JSON the parser accepts (its limit is 1,024 levels) must not crash a field that turns it into text."""
    nested = "[" * depth + "]" * depth
    raw = json.dumps(queue())[:-1] + f', "{field}": {nested}}}'
    if field in queue():
        raw = json.dumps({k: v for k, v in queue().items() if k != field})[:-1] + f', "{field}": {nested}}}'
    response = send(client, "post", VQ, raw.encode())
    assert response.status_code == 400, (field, depth, response.status_code)


def test_wrong_top_level_shapes(client):
    app = Application.objects.get(name="Stat_Server")
    for method, path in (("put", url("applications", app.pk)), ("patch", url("applications", app.pk))):
        for payload in (["a"], "a", 5, [{"name": "x"}]):
            response = send(client, method, path, payload)
            assert response.status_code == 400, (method, payload, response.content[:200])


def test_non_json_content_type_is_refused(client):
    response = client.post(VQ, data="number=VQ+Bad", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    response = client.post(VQ, data="number: VQ Bad", content_type="text/plain")
    assert response.status_code == 415


def test_huge_body_is_413(client):
    raw = json.dumps(queue(alias="x" * (20 * 1024 * 1024))).encode()
    response = send(client, "post", VQ, raw)
    assert response.status_code == 413
    response = send(client, "post", VQ, [queue(number=f"VQ {n}", alias="y" * 4000) for n in range(5000)])
    assert response.status_code == 413
    assert not DN.objects.filter(number__startswith="VQ ").exists()


def test_body_over_the_limit_without_content_length_is_413(client, settings):
    """A body larger than the limit is refused even when the declared length is smaller."""
    settings.PACING_API_MAX_BODY = 1024
    raw = json.dumps(queue(alias="x" * 2000)).encode()
    response = client.generic("POST", VQ, raw, content_type="application/json", CONTENT_LENGTH="10")
    assert response.status_code in (400, 413)
    assert not DN.objects.filter(number="VQ Bad").exists()


# -- fuzzing -------------------------------------------------------------------------------------

json_leaf = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
             | st.text(max_size=40) | st.sampled_from(["MultiMediaSwitch", "Environment", "chat", "enabled", "", "1"]))
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["switch", "number", "alias", "association", "register", "route_type", "options", "state", "folder",
          "tenant", "dn_type", "id", "url", "created", "colour"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(overrides=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_value, max_size=5),
       drop=st.sets(st.sampled_from(["switch", "number", "alias", "options"])),
       counter=st.integers(0, 10**9))
def test_fuzzed_virtual_queue_payloads_never_crash(client, overrides, drop, counter):
    payload = {k: v for k, v in queue(number=f"VQ {counter}").items() if k not in drop}
    payload.update(overrides)
    response = send(client, "post", VQ, payload)
    assert response.status_code in (201, 400), (payload, response.status_code, response.content[:300])
    assert isinstance(body(response), dict)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=st.dictionaries(st.text(max_size=10), st.dictionaries(st.text(max_size=10), json_value, max_size=3)
                               | json_value, max_size=3))
def test_fuzzed_options_never_crash(client, options):
    queue_pk = DN.objects.get(number="Proactive Chat").pk
    response = send(client, "patch", url("virtual-queues", queue_pk), {"options": options})
    assert response.status_code in (200, 400), (options, response.status_code, response.content[:300])
    if response.status_code == 200:
        stored = DN.objects.get(pk=queue_pk).options
        assert all(isinstance(v, str) for keys in stored.values() for v in keys.values())


def test_unknown_fields_are_reported_with_every_other_problem(client):
    """A script author sees all of a body's problems in one answer, not one per try."""
    response = send(client, "post", "/api/v1/ports/",
                    {"application": "Stat_Server", "port_id": "x y", "port": 70000, "colour": "red"})
    assert response.status_code == 400
    assert set(body(response)) == {"colour", "port_id", "port"}


# --- found by the schemathesis fuzz (tests/pacingsite/test_fuzz_api.py) on PostgreSQL ------------------------


@pytest.mark.parametrize("route, parameter", [("skills", "modified__gte"), ("dns", "created__lte"),
                                              ("changes", "time_after"), ("alarms", "detected_before")])
def test_a_date_time_filter_with_any_offset_python_reads_is_answered(client, route, parameter):
    """PostgreSQL refuses time-zone offsets beyond ±15:59 (it was a 500); the value is converted to UTC first."""
    response = client.get(url(route), {parameter: "0601-01-16T11:09:40.401040-22:17"})
    assert response.status_code == 200, response.content
    # no UTC equivalent within years 1-9999: a 400 naming the parameter
    response = client.get(url(route), {parameter: "0001-01-01T00:00:00+01:00"})
    assert response.status_code == 400 and parameter in body(response), response.content


def test_a_converted_date_time_filter_still_filters(client):
    import datetime

    from configdb.models import Tenant

    made = Tenant.objects.get(name="Environment").created
    # one hour after it, written at +23:00: 22 hours before it in UTC
    before = (made + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f+23:00")
    after = (made + datetime.timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S.%f+23:00")
    for since, listed in ((before, True), (after, False)):
        rows = body(client.get(url("tenants"), {"created__gte": since}))["results"]
        assert ("Environment" in [t["name"] for t in rows]) is listed, since
