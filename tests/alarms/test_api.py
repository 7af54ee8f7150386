"""``/api/v1/alarms/``: list (filters, pagination, tenant scope), acknowledge and clear with permissions, the
history record of an operator's action; ``/metrics``, ``/healthz`` and ``/readyz``."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from alarms import catalog, runtime
from alarms.models import Alarm, AlarmState, ClearReason
from configdb.models import ObjectChange
from tests.configdb.api_helpers import body, client_for, make_user, send

ALARMS = "/api/v1/alarms/"
CLUSTER = "Pacing_Service_Cluster_9.0"


@pytest.fixture
def alarms(demo, other_tenant):
    from alarms.services import provision_conditions

    provision_conditions(other_tenant)
    return {
        "failed": runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "GPE refused", source=CLUSTER, node="node-1",
                                      tenant="Environment"),
        "gc": runtime.raise_alarm(catalog.GC_LATENCY, "pause 1500 ms", source="node-2", node="node-2",
                                  tenant="Environment"),
        "other": runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "their GPE", source="Their_Cluster",
                                     node="node-9", tenant="Other"),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in body(response)["results"])


def test_list_shows_active_alarms_with_every_field(alarms):
    admin = client_for(make_user("root", superuser=True))
    response = admin.get(ALARMS)
    assert ids(response) == sorted(a.pk for a in alarms.values())
    row = next(r for r in body(response)["results"] if r["id"] == alarms["failed"].pk)
    assert row["condition"]["name"] == "PacingRequestsFailed"
    assert row["condition"]["url"].endswith(f"/api/v1/alarm-conditions/{alarms['failed'].condition_id}/")
    assert (row["state"], row["severity"], row["source"], row["node"], row["count"], row["detect_event_id"],
            row["cancel_event_id"], row["acknowledged"]) == ("active", "major", CLUSTER, "node-1", 1, 100603,
                                                              100604, False)
    assert row["tenant"]["name"] == "Environment"


def test_filters_and_pagination(alarms):
    admin = client_for(make_user("root", superuser=True))
    assert ids(admin.get(ALARMS, {"condition": "GC Latency"})) == [alarms["gc"].pk]
    assert ids(admin.get(ALARMS, {"node": "node-1"})) == [alarms["failed"].pk]
    assert ids(admin.get(ALARMS, {"tenant": "Other"})) == [alarms["other"].pk]
    assert ids(admin.get(ALARMS, {"severity": "critical"})) == []
    assert ids(admin.get(ALARMS, {"severity": "major", "source": CLUSTER})) == [alarms["failed"].pk]
    assert ids(admin.get(ALARMS, {"q": "refused"})) == [alarms["failed"].pk]
    runtime.clear_alarm(catalog.GC_LATENCY, source="node-2")
    assert alarms["gc"].pk not in ids(admin.get(ALARMS))
    assert ids(admin.get(ALARMS, {"state": "cleared"})) == [alarms["gc"].pk]
    assert len(ids(admin.get(ALARMS, {"state": "all"}))) == 3
    page = body(admin.get(ALARMS, {"limit": 1, "ordering": "id"}))
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


@pytest.mark.parametrize("params, field", [({"state": "maybe"}, "state"), ({"severity": "huge"}, "severity"),
                                           ({"nope": "1"}, "nope"), ({"ordering": "password"}, "ordering"),
                                           ({"acknowledged": "perhaps"}, "acknowledged"),
                                           ({"limit": "-1"}, "limit"), ({"detected_after": "soon"}, "detected_after"),
                                           ({"condition_id": "99999999999999999999"}, "condition_id"),
                                           ({"tenant": "99999999999999999999"}, "tenant")])
def test_bad_filters_are_400_naming_the_parameter(alarms, params, field):
    response = client_for(make_user("root", superuser=True)).get(ALARMS, params)
    assert response.status_code == 400, response.content
    assert field in body(response)


def test_reader_sees_only_its_tenant_and_cannot_act(alarms, demo):
    reader = client_for(make_user("reader", grants={demo: "read"}))
    assert ids(reader.get(ALARMS)) == sorted([alarms["failed"].pk, alarms["gc"].pk])
    assert reader.get(f"{ALARMS}{alarms['other'].pk}/").status_code == 404
    for verb in ("acknowledge", "clear"):
        response = send(reader, "post", f"{ALARMS}{alarms['failed'].pk}/{verb}/")
        assert response.status_code == 403, response.content
        assert "grant" in body(response)["detail"]
        response = send(reader, "post", f"{ALARMS}{alarms['other'].pk}/{verb}/")
        assert response.status_code == 404
    alarms["failed"].refresh_from_db()
    assert alarms["failed"].state == AlarmState.ACTIVE and alarms["failed"].acknowledged_at is None


def test_writer_acknowledges_and_clears_and_both_are_recorded(alarms, demo):
    writer_user = make_user("operator", grants={demo: "write"})
    writer = client_for(writer_user)
    pk = alarms["failed"].pk
    response = send(writer, "post", f"{ALARMS}{pk}/acknowledge/")
    assert response.status_code == 200, response.content
    assert (body(response)["acknowledged"], body(response)["acknowledged_by"]) == (True, "operator")
    assert body(response)["state"] == "active"
    response = send(writer, "post", f"{ALARMS}{pk}/clear/", {})
    assert response.status_code == 200, response.content
    assert (body(response)["state"], body(response)["clear_reason"], body(response)["cleared_by"]) == (
        "cleared", ClearReason.USER, "operator")
    changes = ObjectChange.objects.filter(content_type__app_label="alarms", object_id=str(pk)).order_by("time", "pk")
    assert [(c.actor, c.action) for c in changes] == [("operator", "update"), ("operator", "update")]
    assert changes[0].postchange["acknowledged_by"] == "operator"
    assert (changes[1].prechange["state"], changes[1].postchange["state"]) == ("active", "cleared")
    # A cleared alarm can be neither acknowledged nor cleared again: 400 naming the state.
    for verb in ("acknowledge", "clear"):
        response = send(writer, "post", f"{ALARMS}{pk}/{verb}/")
        assert response.status_code == 400 and "state" in body(response)


@pytest.mark.parametrize("payload", [{"force": True}, [1, 2], "not json"])
def test_actions_take_no_body(alarms, payload):
    admin = client_for(make_user("root", superuser=True))
    response = send(admin, "post", f"{ALARMS}{alarms['failed'].pk}/acknowledge/", payload)
    assert response.status_code == 400, response.content
    alarms["failed"].refresh_from_db()
    assert alarms["failed"].acknowledged_at is None


def test_alarms_are_read_only(alarms):
    admin = client_for(make_user("root", superuser=True))
    pk = alarms["failed"].pk
    assert send(admin, "post", ALARMS, {"condition_name": "x"}).status_code == 405
    assert send(admin, "patch", f"{ALARMS}{pk}/", {"state": "cleared"}).status_code == 405
    assert send(admin, "delete", f"{ALARMS}{pk}/").status_code == 405
    assert client_for(None).get(ALARMS).status_code == 401


def test_list_clears_expired_alarms(alarms):
    from datetime import timedelta

    from django.utils import timezone

    Alarm.objects.filter(pk=alarms["gc"].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert alarms["gc"].pk not in ids(client_for(make_user("root", superuser=True)).get(ALARMS))
    alarms["gc"].refresh_from_db()
    assert alarms["gc"].clear_reason == ClearReason.TIMEOUT


# -- the admin -------------------------------------------------------------------------------------------------


def staff(username, grants):
    user = make_user(username, staff=True, grants=grants)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_alarm"]))
    client = Client()
    client.force_login(user)
    return client


def test_admin_list_and_home_page(alarms, demo):
    client = staff("watcher", {demo: "read"})
    response = client.get(reverse("admin:alarms_alarm_changelist"))
    assert response.status_code == 200
    assert sorted(a.pk for a in response.context["cl"].result_list) == sorted([alarms["failed"].pk,
                                                                               alarms["gc"].pk])
    home = client.get(reverse("admin:index"))
    assert home.status_code == 200
    assert home.context["active_alarm_count"] == 2
    assert "PacingRequestsFailed" in home.content.decode() and "Their_Cluster" not in home.content.decode()
    detail = client.get(reverse("admin:alarms_alarm_change", args=[alarms["failed"].pk]))
    assert detail.status_code == 200 and "GPE refused" in detail.content.decode()


def test_admin_action_with_a_read_grant_changes_nothing(alarms, demo):
    client = staff("watcher", {demo: "read"})
    response = client.post(reverse("admin:alarms_alarm_changelist"),
                           {"action": "acknowledge", "_selected_action": [alarms["failed"].pk]}, follow=True)
    assert response.status_code == 200
    alarms["failed"].refresh_from_db()
    assert alarms["failed"].acknowledged_at is None


# -- /metrics, /healthz, /readyz -------------------------------------------------------------------------------


def test_metrics_parse_and_count_active_alarms(alarms):
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    samples = {(s.labels["condition"], s.labels["severity"]): s.value for s in families["pacing_active_alarms"].samples}
    assert samples == {("PacingRequestsFailed", "major"): 2.0, ("GC Latency", "major"): 1.0}


def test_metrics_allow_list(db, settings):
    import ipaddress

    settings.PACING_METRICS_ALLOW = [ipaddress.ip_network("10.0.0.0/8")]
    assert Client().get("/metrics").status_code == 403
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200


def test_metrics_allow_list_setting_is_checked(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from pacingsite import settings as site_settings

    monkeypatch.setenv("PACING_METRICS_ALLOW", "127.0.0.1, 10.0.0.0/8")
    assert [str(n) for n in site_settings._metrics_allow()] == ["127.0.0.1/32", "10.0.0.0/8"]
    monkeypatch.setenv("PACING_METRICS_ALLOW", "localhost")
    with pytest.raises(ImproperlyConfigured, match="PACING_METRICS_ALLOW: 'localhost'"):
        site_settings._metrics_allow()


def test_readyz_names_database_and_redis(db, settings, tmp_path):
    from pacing import redis as pacing_redis

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        response = Client().get("/readyz")
    finally:
        pacing_redis.reset_clients("redis://127.0.0.1:1/0")
    assert response.status_code == 503
    data = body(response)
    assert data["status"] == "unavailable"
    assert data["checks"]["database"] == {"status": "ok"}
    assert data["checks"]["redis"]["status"] == "error" and "127.0.0.1:1" in data["checks"]["redis"]["error"]
    assert Client().get("/healthz").status_code == 200


def test_readyz_names_no_redis_password(db, settings):
    from pacing import redis as pacing_redis

    settings.REDIS_URL = "redis://:s3cret-pw@127.0.0.1:1/0"
    try:
        response = Client().get("/readyz")
    finally:
        pacing_redis.reset_clients(settings.REDIS_URL)
    assert response.status_code == 503
    assert "s3cret-pw" not in response.content.decode()
    assert "redis://127.0.0.1:1/0" in body(response)["checks"]["redis"]["error"]


def test_readyz_ok(db, settings, tmp_path):
    import os

    from pacing import redis as pacing_redis

    settings.REDIS_URL = os.environ.get("PACING_TEST_REDIS_URL", "")
    settings.VAR_DIR = tmp_path  # without a Redis URL: an embedded Redis of the test's own
    try:
        response = Client().get("/readyz")
    finally:
        pacing_redis.reset_clients(pacing_redis.redis_target())
    assert response.status_code == 200, response.content
    assert body(response)["checks"] == {"database": {"status": "ok"}, "redis": {"status": "ok"}}
