"""The Interaction Server cluster wizard (provisioning/wizard/ixn_steps.py) through the API: every step, the
refusals (field named, nothing written), a read-only grant, and the whole walk giving every object and connection."""

from __future__ import annotations

import pytest

from configdb import interaction_server as ixn
from configdb.models import (
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    Host,
    MediaType,
    Tenant,
)
from tests.configdb.api_helpers import client_for, make_user, send

NAME = "IXN_Cluster"
API = f"/api/v1/provisioning/interaction-cluster/{NAME}/"


def make_config() -> Tenant:
    """A tenant, a host and the templates and servers the wizard connects (URS, ORS, Stat Server, a desktop)."""
    tenant = Tenant.objects.create(name="T1")
    for media in ("chat", "email"):                    # a server's media-types must name the tenant's own
        MediaType.objects.create(name=media, tenant=tenant)
    Host.objects.create(name="h1", tenant=tenant)
    for name, app_type in (("Cluster_T", ApplicationType.APPLICATION_CLUSTER),
                           ("IXN_T", ApplicationType.INTERACTION_SERVER),
                           ("DAP_T", ApplicationType.DATABASE_ACCESS_POINT),
                           ("URS_T", ApplicationType.UNIVERSAL_ROUTING_SERVER),
                           ("ORS_T", ApplicationType.ORCHESTRATION_SERVER),
                           ("Stat_T", ApplicationType.STAT_SERVER),
                           ("Desk_T", ApplicationType.GENESYS_GENERIC_CLIENT)):
        ApplicationTemplate.objects.create(name=name, app_type=app_type, version="8.5.300", tenant=tenant)
    host = Host.objects.get(name="h1")
    for name, t in (("URS", "URS_T"), ("ORS", "ORS_T"), ("Stat", "Stat_T")):
        Application.objects.create(name=name, template=ApplicationTemplate.objects.get(name=t),
                                   app_type=ApplicationTemplate.objects.get(name=t).app_type, host=host,
                                   working_directory=".", command_line=".", tenant=tenant)
    Application.objects.create(name="Desktop", template=ApplicationTemplate.objects.get(name="Desk_T"),
                               app_type=ApplicationType.GENESYS_GENERIC_CLIENT, is_server=False, tenant=tenant)
    return tenant


@pytest.fixture
def setup(db):
    return make_config()


CLUSTERS = {"template": "Cluster_T", "host": "h1", "tenant": "T1", "port": 7100}
PAIR = {"name": "IXN_1", "backup": "IXN_1_B", "template": "IXN_T", "host": "h1", "backup_host": "h1", "port": 7120,
        "media_types": "chat, email", "dap_template": "DAP_T", "dbms_type": "mssql", "dbms_name": "sql1",
        "database_name": "ixn1", "logger_database_name": "ixn1log", "db_username": "u", "db_password": "s3cret"}


def walk(c):
    r = send(c, "post", API + "clusters/", CLUSTERS)
    assert r.status_code == 200, r.content
    r = send(c, "post", API + "pairs/", PAIR)
    assert r.status_code == 200, r.content
    assert "s3cret" not in r.content.decode()
    r = send(c, "post", API + "pairs/", {**PAIR, "name": "IXN_2", "backup": "", "media_types": ""})
    assert r.status_code == 200, r.content
    r = send(c, "post", API + "proxies/", {"name": "Proxy_1", "template": "IXN_T", "host": "h1", "port": 7130})
    assert r.status_code == 200, r.content
    r = send(c, "post", API + "proxies/", {"name": "Proxy_D", "backup": "Proxy_D_B", "backup_host": "h1",
                                           "template": "IXN_T", "host": "h1", "port": 7131})
    assert r.status_code == 200, r.content
    for step, data in (("clients", {"clients": ["Desktop"]}), ("dedicated", {"proxy": "Proxy_D", "clients": ["URS"]}),
                       ("urs", {"urs": "URS"}), ("ors", {"ors": "ORS", "proxy": "Proxy_1"}),
                       ("stat", {"stat_server": "Stat", "target": "servers"})):
        r = send(c, "post", API + step + "/", data)
        assert r.status_code == 200, (step, r.content)


def links(app):
    return set(Connection.objects.filter(application__name=app).values_list("server__name", flat=True))


def test_whole_wizard_gives_every_object_and_connection(setup):
    c = client_for(make_user("root", superuser=True))
    assert send(c, "get", API).json()["next"] == "clusters"
    walk(c)
    status = send(c, "get", API).json()
    assert status["next"] is None and all(s["done"] for s in status["steps"])
    cluster, proxy_cluster = Application.objects.get(name=NAME), Application.objects.get(name=f"{NAME}_Proxy")
    assert ixn.cluster_type(cluster.options) == ixn.SERVER_CLUSTER
    assert ixn.cluster_type(proxy_cluster.options) == ixn.PROXY_CLUSTER
    assert links(NAME) == {"IXN_1", "IXN_2"}                                  # 5 c: primaries only
    assert links(f"{NAME}_Proxy") == {"Proxy_1", "Proxy_D"}                   # 5 e
    assert links("Proxy_1") == {NAME} and links("Proxy_D_B") == {NAME}         # 5 f
    ixn1 = Application.objects.get(name="IXN_1")
    assert ixn1.backup_server.name == "IXN_1_B" and ixn1.redundancy_type == "hot_standby"
    assert ixn.media_types(ixn1.options) == ("chat", "email")
    assert links("IXN_1") == links("IXN_1_B") == {"IXN_1_DAP", "IXN_1_Log_DAP"}
    main, log = DatabaseAccessPoint.objects.get(name="IXN_1_DAP"), DatabaseAccessPoint.objects.get(name="IXN_1_Log_DAP")
    assert main.options["settings"] == {"dbprotocol": "odbc", "odbc-string": "Driver={SQL Server Native Client 10.0}"}
    assert log.options["logger-settings"]["delivery-protocol"] == "odbc" and log.database_name == "ixn1log"
    assert Application.objects.get(name="Proxy_1").component_type == ixn.PROXY_COMPONENT
    assert links("Desktop") == {f"{NAME}_Proxy"}                              # 6
    assert links("URS") == {"IXN_1", "IXN_2", "Proxy_D"}                      # 7 (as a client) and 8
    assert links("ORS") == {"Proxy_1"} and links("Stat") == {"IXN_1", "IXN_2"}


@pytest.mark.parametrize("change, field", [({"media_types": "chat,,email"}, "media_types"),
                                           ({"dbms_type": "nosql"}, "dbms_type"),
                                           ({"port": 0}, "port"), ({"host": "elsewhere"}, "host"),
                                           ({"bogus": 1}, "bogus")])
def test_bad_pair_names_the_field_and_writes_nothing(setup, change, field):
    c = client_for(make_user("root", superuser=True))
    send(c, "post", API + "clusters/", CLUSTERS)
    before = Application.objects.count()
    r = send(c, "post", API + "pairs/", {**PAIR, **change})
    assert r.status_code == 400 and field in r.json(), r.content
    assert Application.objects.count() == before


def test_name_taken_refused_and_nothing_written(setup):
    c = client_for(make_user("root", superuser=True))
    send(c, "post", API + "clusters/", CLUSTERS)
    before = Application.objects.count()
    r = send(c, "post", API + "pairs/", {**PAIR, "backup": "URS"})
    assert r.status_code == 400 and "backup" in r.json()
    assert Application.objects.count() == before


def test_steps_are_gated(setup):
    c = client_for(make_user("root", superuser=True))
    assert send(c, "post", API + "pairs/", PAIR).status_code == 409
    assert send(c, "post", API + "nope/", {}).status_code == 404


def test_read_only_grant_is_refused(setup):
    reader = make_user("reader", grants={setup: "read"})
    c = client_for(reader)
    assert send(c, "get", API).status_code == 200
    r = send(c, "post", API + "clusters/", CLUSTERS)
    assert r.status_code == 403 and "read-only" in r.content.decode()
    assert not Application.objects.filter(name=NAME).exists()


def test_pacing_wizard_urls_unchanged(setup):
    c = client_for(make_user("root", superuser=True))
    assert len(send(c, "get", "/api/v1/provisioning/deploy/X/").json()["steps"]) == 9


ADMIN = f"/admin/pacing/interaction-cluster/{NAME}/"


def test_walk_every_step_in_the_admin(setup, client):
    client.force_login(make_user("root", superuser=True))
    start = client.get("/admin/pacing/interaction-cluster/")
    assert start.status_code == 200 and b"Interaction Server" in start.content
    assert client.get("/admin/pacing/interaction-cluster/", {"cluster": NAME})["Location"] == ADMIN
    assert client.get(ADMIN)["Location"] == ADMIN + "clusters/"
    assert b"Configure an Interaction Server cluster" in client.get("/admin/").content
    r = client.post(ADMIN + "clusters/", CLUSTERS)
    assert r.status_code == 302 and r["Location"] == ADMIN + "pairs/"
    r = client.post(ADMIN + "pairs/", {**PAIR, "media_types": "chat,,email"})
    assert r.status_code == 400 and b"empty item" in r.content and b"s3cret" not in r.content
    assert not Application.objects.filter(name="IXN_1").exists()
    r = client.post(ADMIN + "pairs/", PAIR)
    assert r.status_code == 302 and r["Location"] == ADMIN + "pairs/"        # repeated: one pair at a time
    r = client.post(ADMIN + "proxies/", {"name": "Proxy_1", "template": "IXN_T", "host": "h1", "port": 7130,
                                         "redundancy": "hot_standby"})
    assert r.status_code == 302, r.content.decode()[:3000]
    r = client.post(ADMIN + "clients/", {"clients": ["Desktop"]})
    assert r.status_code == 302 and r["Location"] == ADMIN + "dedicated/"
    assert client.post(ADMIN + "clients/", {}).status_code == 400          # nothing chosen: refused
    for step, data in (("urs", {"urs": "URS"}), ("ors", {"ors": "ORS", "proxy": "Proxy_1"}),
                       ("stat", {"stat_server": "Stat", "target": "proxy", "proxy": "Proxy_1"})):
        r = client.post(ADMIN + step + "/", data)
        assert r.status_code == 302, (step, r.content.decode()[:3000])
    assert r["Location"] == ADMIN + "summary/"
    assert client.get(ADMIN + "summary/").status_code == 200
    status = send(client_for(make_user("root2", superuser=True)), "get", API).json()
    dedicated = next(s for s in status["steps"] if s["key"] == "dedicated")
    assert not dedicated["done"] and dedicated["optional"]                 # ORS → proxy is step 9, not step 7
    assert links("Stat") == {"Proxy_1"}


def test_admin_read_only_sees_no_form(setup, client):
    send(client_for(make_user("root", superuser=True)), "post", API + "clusters/", CLUSTERS)
    client.force_login(make_user("reader", staff=True, grants={setup: "read"}))
    page = client.get(ADMIN + "pairs/")
    assert page.status_code == 200 and b"wizard-form" not in page.content
    r = client.post(ADMIN + "pairs/", PAIR)
    assert r.status_code in (400, 403) and not Application.objects.filter(name="IXN_1").exists()


def test_choices_only_from_readable_tenants(setup):
    other = Tenant.objects.create(name="Other")
    Host.objects.create(name="secret_host", tenant=other)
    writer = make_user("writer", grants={setup: "write"})
    c = client_for(writer)
    r = send(c, "post", API + "clusters/", {**CLUSTERS, "host": "secret_host"})
    assert r.status_code == 400 and "host" in r.json()
    r = send(c, "post", API + "clusters/", {**CLUSTERS, "tenant": "Other"})
    assert r.status_code == 400 and "tenant" in r.json()


def test_another_tenants_cluster_is_hidden(setup):
    send(client_for(make_user("root", superuser=True)), "post", API + "clusters/", CLUSTERS)
    other = Tenant.objects.create(name="Other")
    c = client_for(make_user("outsider", grants={other: "write"}))
    assert send(c, "get", API).status_code == 404
    assert send(c, "post", API + "pairs/", PAIR).status_code == 404


def test_older_server_gets_connection_string(setup):
    ApplicationTemplate.objects.create(name="IXN_Old", app_type=ApplicationType.INTERACTION_SERVER, version="8.5.106",
                                       tenant=setup)
    c = client_for(make_user("root", superuser=True))
    send(c, "post", API + "clusters/", CLUSTERS)
    r = send(c, "post", API + "pairs/", {**PAIR, "template": "IXN_Old", "dbms_type": "oracle", "db_port": 1600})
    assert r.status_code == 200, r.content
    dap = DatabaseAccessPoint.objects.get(name="IXN_1_DAP")
    assert dap.options["settings"]["connection-string"] == "driver=Oracle in OraClient11g_home1;port=1600"
    assert dap.ports.get(port_id="default").port == 1600


@pytest.mark.parametrize("version, refused", [("8.5.300", True), ("8.5.200.11", True), ("8.5.106", False)])
def test_db2_is_refused_from_852_and_nothing_written(setup, version, refused):
    ApplicationTemplate.objects.create(name="IXN_V", app_type=ApplicationType.INTERACTION_SERVER, version=version,
                                       tenant=setup)
    c = client_for(make_user("root", superuser=True))
    send(c, "post", API + "clusters/", CLUSTERS)
    before = Application.objects.count()
    r = send(c, "post", API + "pairs/", {**PAIR, "template": "IXN_V", "dbms_type": "db2"})
    if refused:
        assert r.status_code == 400 and "8.5.2" in r.json()["dbms_type"][0], r.content
        assert Application.objects.count() == before
    else:
        assert r.status_code == 200, r.content


def test_the_summary_shows_the_cluster_checkers_findings_on_this_cluster(setup, client):
    from provisioning.wizard import ixn_steps

    c = client_for(make_user("root", superuser=True))
    walk(c)
    Application.objects.create(name="Elsewhere", template=ApplicationTemplate.objects.get(name="IXN_T"),
                               app_type=ApplicationType.INTERACTION_SERVER, host=Host.objects.get(name="h1"),
                               working_directory=".", command_line=".", tenant=setup)
    found = ixn_steps.findings(NAME, None)
    assert found and all(f.code.startswith("IXN_") for f in found)
    assert "IXN_RECOMMENDED" not in {f.code for f in found}             # the wizard wrote the seed's advice
    assert "Elsewhere" not in {f.object_name for f in found}            # not of this cluster
    client.force_login(make_user("admin", superuser=True))
    page = client.get(f"/admin/pacing/interaction-cluster/{NAME}/summary/").content.decode()
    assert 'id="wizard-findings"' in page and found[0].code in page


def test_servers_get_the_recommended_settings_their_release_has(setup):
    ApplicationTemplate.objects.create(name="IXN_106", app_type=ApplicationType.INTERACTION_SERVER, version="8.5.106",
                                       tenant=setup)
    c = client_for(make_user("root", superuser=True))
    send(c, "post", API + "clusters/", CLUSTERS)
    assert send(c, "post", API + "pairs/", PAIR).status_code == 200
    assert Application.objects.get(name="IXN_1_B").options["settings"] == {
        "login-session-timeout": "1440", "not-ready-on-invitation-timeout": "false",
        "allow-multiple-agent-connections": "false"}
    r = send(c, "post", API + "pairs/", {**PAIR, "name": "IXN_2", "backup": "", "template": "IXN_106"})
    assert r.status_code == 200, r.content
    assert "login-session-timeout" not in Application.objects.get(name="IXN_2").options["settings"]   # from 8.5.107


@pytest.mark.parametrize("step, version, what", [("pairs", "8.5.105", "Interaction Server 8.5.106"),
                                                 ("proxies", "8.5.106", "Interaction Server Proxy 8.5.107")])
def test_a_release_older_than_clusters_allow_is_refused_on_the_template(setup, step, version, what):
    ApplicationTemplate.objects.create(name="IXN_Too_Old", app_type=ApplicationType.INTERACTION_SERVER,
                                       version=version, tenant=setup)
    c = client_for(make_user("root", superuser=True))
    send(c, "post", API + "clusters/", CLUSTERS)
    if step == "proxies":
        assert send(c, "post", API + "pairs/", PAIR).status_code == 200
    before = Application.objects.count()
    data = {**PAIR, "template": "IXN_Too_Old"} if step == "pairs" else {
        "name": "Proxy_1", "template": "IXN_Too_Old", "host": "h1", "port": 7130}
    r = send(c, "post", API + step + "/", data)
    assert r.status_code == 400 and what in r.json()["template"][0], r.content
    assert Application.objects.count() == before
