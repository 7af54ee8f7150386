"""Interaction Server clusters and ODBC DAPs on every write path: the proxy type reconciled (migration 0004 and
the imports), the [cluster-settings] rules, the DAP's ODBC options, the builder, the licence capacity and the
proxy error codes (seeds/interaction-server-deployment.txt). Small objects made here; no demo."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from configdb import interaction_server as ixn
from configdb import services, transfer
from configdb.ixn_clusters import licence_report
from configdb.models import (
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    MediaType,
    Tenant,
)
from provisioning.templates import service as template_service

from . import factories as f
from .api_helpers import body, client_for, dap_template, make_user, send, url

APPS = "applications"
DAPS = "database-access-points"


@pytest.fixture
def env(env_tenant):
    for name in ("chat", "email"):
        services.save_object(MediaType(tenant=env_tenant, name=name))
    return env_tenant


@pytest.fixture
def admin_user(db):
    return make_user("root", superuser=True)


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


def ixn_template(tenant):
    return f.template(tenant, name="T_IXN", app_type=ApplicationType.INTERACTION_SERVER)


def cluster_template(tenant):
    return f.template(tenant, name="T_Cluster", app_type=ApplicationType.APPLICATION_CLUSTER)


def app_payload(tenant, name, template, **extra):
    return {"name": name, "template": template.name, "tenant": tenant.name, "host": f.host(tenant).name,
            "working_directory": ".", "command_line": ".", **extra}


# -- the proxy type -------------------------------------------------------------------------------------------------


def test_the_proxy_type_is_gone():
    assert ixn.LEGACY_PROXY_TYPE not in ApplicationType.values


def test_migration_0004_maps_stored_proxies_and_their_templates(env):
    migration = importlib.import_module("configdb.migrations.0004_interaction_server_proxy_type")
    tmpl = ixn_template(env)
    proxy = f.application(env, "IXN_Proxy_1", tmpl)
    other = f.template(env, name="T_IXN_2", app_type=ApplicationType.INTERACTION_SERVER)
    marked = f.application(env, "IXN_Proxy_2", other, component_type="Custom")
    ApplicationTemplate.objects.filter(pk__in=[tmpl.pk, marked.template_id]).update(app_type=ixn.LEGACY_PROXY_TYPE)
    Application.objects.filter(pk__in=[proxy.pk, marked.pk]).update(app_type=ixn.LEGACY_PROXY_TYPE)
    migration.forwards(django_apps, None)
    proxy.refresh_from_db()
    marked.refresh_from_db()
    tmpl.refresh_from_db()
    assert (proxy.app_type, proxy.component_type) == (ApplicationType.INTERACTION_SERVER, ixn.PROXY_COMPONENT)
    assert (marked.app_type, marked.component_type) == (ApplicationType.INTERACTION_SERVER, "Custom")
    assert tmpl.app_type == ApplicationType.INTERACTION_SERVER
    proxy.full_clean()  # a valid application again
    migration.backwards(django_apps, None)
    proxy.refresh_from_db()
    marked.refresh_from_db()
    assert proxy.app_type == ixn.LEGACY_PROXY_TYPE  # back: only what carries the proxy mark
    assert marked.app_type == ApplicationType.INTERACTION_SERVER


def test_the_config_import_reads_the_legacy_proxy_type(env):
    f.host(env, "ixnhost")
    doc = {"format": transfer.FORMAT, "version": 1, "tenant": "Environment", "objects": {
        "application-templates": [{"name": "T_Proxy_Old", "app_type": ixn.LEGACY_PROXY_TYPE, "version": "8.5.1"}],
        "applications": [{"name": "IXN_Proxy_Old", "template": "T_Proxy_Old", "app_type": ixn.LEGACY_PROXY_TYPE,
                          "host": "ixnhost", "working_directory": ".", "command_line": "."}],
    }}
    transfer.import_document(doc)
    app = Application.objects.get(name="IXN_Proxy_Old")
    assert (app.app_type, app.component_type) == (ApplicationType.INTERACTION_SERVER, ixn.PROXY_COMPONENT)
    assert ApplicationTemplate.objects.get(name="T_Proxy_Old").app_type == ApplicationType.INTERACTION_SERVER


@pytest.mark.parametrize("written", ["interaction_server_proxy", "Interaction Server Proxy"])
def test_the_template_import_reads_the_legacy_proxy_type(env, written):
    apd = (f"<application-template format=\"1\"><name>IXN_Proxy_T</name><type>{written}</type>"
           "<version>8.5.107</version><options/></application-template>").encode()
    template, _ = template_service.parse(apd)
    assert template.app_type == ApplicationType.INTERACTION_SERVER


# -- [cluster-settings] on every path -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Interaction Server", "Interaction Server Proxy"])
def test_a_cluster_with_a_known_cluster_type_is_saved(api, env, value):
    response = send(api, "post", url(APPS), app_payload(env, "IXN_Cluster", cluster_template(env),
                                                       options={"cluster-settings": {"cluster-type": value}}))
    assert response.status_code == 201, body(response)


def test_a_pacing_cluster_sets_no_cluster_type(api, env):
    response = send(api, "post", url(APPS), app_payload(env, "Pacing_Cluster", cluster_template(env),
                                                       options={"pacing": {"refreshPeriod": "5"}}))
    assert response.status_code == 201, body(response)


def test_an_unknown_cluster_type_is_refused_naming_the_key_and_the_values(api, env):
    response = send(api, "post", url(APPS), app_payload(env, "IXN_Cluster", cluster_template(env),
                                                       options={"cluster-settings": {"cluster-type": "Proxy"}}))
    assert response.status_code == 400
    [message] = body(response)["options"]
    assert "cluster-settings/cluster-type" in message and "'Interaction Server Proxy'" in message
    assert not Application.objects.filter(name="IXN_Cluster").exists()


@pytest.mark.parametrize(("value", "words"), [
    ("chat,,email", "empty item"), ("chat, chat", "twice"), ("", "is empty"),
    ("chat, Email", "'Email' is not a media type"), ("fax", "'fax' is not a media type"),
])
def test_bad_media_types_are_refused_and_nothing_is_saved(api, env, value, words):
    response = send(api, "post", url(APPS), app_payload(env, "IXN_1", ixn_template(env),
                                                       options={"cluster-settings": {"media-types": value}}))
    assert response.status_code == 400
    [message] = body(response)["options"]
    assert message.startswith("cluster-settings/media-types: ") and words in message
    assert not Application.objects.filter(name="IXN_1").exists()


def test_media_types_of_the_tenant_are_accepted(api, env):
    response = send(api, "post", url(APPS), app_payload(env, "IXN_1", ixn_template(env),
                                                       options={"cluster-settings": {"media-types": "chat, email"}}))
    assert response.status_code == 201, body(response)


def test_a_served_tenants_media_type_counts_also_on_creation(api, env):
    other = services.save_object(Tenant(name="Acme"))
    services.save_object(MediaType(tenant=other, name="sms"))
    payload = app_payload(env, "IXN_1", ixn_template(env), options={"cluster-settings": {"media-types": "sms"}})
    assert send(api, "post", url(APPS), payload).status_code == 400
    response = send(api, "post", url(APPS), {**payload, "tenants": ["Acme"]})
    assert response.status_code == 201, body(response)
    assert send(api, "post", url(APPS), [{**payload, "name": "IXN_2", "tenants": ["Acme"]}]).status_code == 201


def test_a_partial_update_is_checked_too(api, env):
    app = f.application(env, "IXN_1", ixn_template(env))
    response = send(api, "patch", url(APPS, app.pk), {"options": {"cluster-settings": {"media-types": "chat,"}}})
    assert response.status_code == 400 and "options" in body(response)
    app.refresh_from_db()
    assert app.options == {}


def test_the_config_import_is_checked_too(env):
    f.host(env, "ixnhost")
    doc = {"format": transfer.FORMAT, "version": 1, "tenant": "Environment", "objects": {
        "application-templates": [{"name": "T_IXN_X", "app_type": "interaction_server", "version": "8.5.1"}],
        "applications": [{"name": "IXN_X", "template": "T_IXN_X", "host": "ixnhost", "working_directory": ".",
                          "command_line": ".", "options": {"cluster-settings": {"media-types": "chat,,"}}}],
    }}
    with pytest.raises(transfer.TransferError) as caught:
        transfer.import_document(doc)
    assert any("options: cluster-settings/media-types" in line for line in caught.value.errors)
    assert not Application.objects.filter(name="IXN_X").exists()


def test_a_new_tenants_media_types_are_imported_before_its_applications(db):
    doc = {"format": transfer.FORMAT, "version": 1, "tenant": "Fresh", "objects": {
        "hosts": [{"name": "freshhost"}],
        "media-types": [{"name": "chat"}],
        "application-templates": [{"name": "T_IXN_F", "app_type": "interaction_server", "version": "8.5.1"}],
        "applications": [{"name": "IXN_F", "template": "T_IXN_F", "host": "freshhost", "working_directory": ".",
                          "command_line": ".", "options": {"cluster-settings": {"media-types": "chat"}}}],
    }}
    transfer.import_document(doc)
    assert Application.objects.get(name="IXN_F").options["cluster-settings"]["media-types"] == "chat"


def admin_app_data(app, options: dict[str, dict[str, str]], **extra):
    rows = [(s, k, v) for s, keys in options.items() for k, v in keys.items()]
    data = {"name": app.name, "version": app.version, "component_type": app.component_type, "is_server": "on",
            "tenant": app.tenant_id, "folder": "", "state": "enabled", "host": app.host_id,
            "working_directory": ".", "command_line": ".", "command_line_arguments": "", "startup_timeout": "90",
            "shutdown_timeout": "90", "redundancy_type": app.redundancy_type, "backup_server": "",
            "log_on_as_system": "on", "options-present": "1", "options-section": [r[0] for r in rows],
            "options-key": [r[1] for r in rows], "options-value": [r[2] for r in rows], "annex-present": "1"}
    for prefix in ("ports", "connections", "applicationtenant_set"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(extra)
    return data


def test_the_admin_form_shows_the_rule_and_saves_nothing(client, admin_user, env):
    client.force_login(admin_user)
    app = f.application(env, "IXN_1", ixn_template(env))
    change = reverse("admin:configdb_application_change", args=[app.pk])
    response = client.post(change, admin_app_data(app, {"cluster-settings": {"media-types": "chat,,email"}}))
    assert response.status_code == 200
    assert "cluster-settings/media-types" in response.content.decode() and "empty item" in response.content.decode()
    app.refresh_from_db()
    assert app.options == {}
    response = client.post(change, admin_app_data(app, {"cluster-settings": {"media-types": "chat"}}))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.options == {"cluster-settings": {"media-types": "chat"}}


def test_the_admin_form_counts_the_tenants_the_inline_adds(client, admin_user, env):
    other = services.save_object(Tenant(name="Acme"))
    services.save_object(MediaType(tenant=other, name="sms"))
    client.force_login(admin_user)
    app = f.application(env, "IXN_1", ixn_template(env))
    data = admin_app_data(app, {"cluster-settings": {"media-types": "sms"}},
                          **{"applicationtenant_set-TOTAL_FORMS": "1", "applicationtenant_set-0-tenant": other.pk})
    response = client.post(reverse("admin:configdb_application_change", args=[app.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(app.tenants.all()) == [other]


def test_a_clone_keeps_the_served_tenants_media_types(env):
    other = services.save_object(Tenant(name="Acme"))
    services.save_object(MediaType(tenant=other, name="sms"))
    app = f.application(env, "IXN_1", ixn_template(env))
    services.set_links(app, "tenants", [other])
    app.options = {"cluster-settings": {"media-types": "sms"}}
    services.save_object(app)
    copy = services.clone_object(Application.objects.get(pk=app.pk))
    assert copy.options == app.options and list(copy.tenants.all()) == [other]


# -- DAPs with ODBC ------------------------------------------------------------------------------------------------


def dap_payload(tenant, name="IXN_DAP", **extra):
    return {"name": name, "template": dap_template(tenant).name, "tenant": tenant.name, "dbms_type": "mssql",
            "database_name": "ixn", "db_username": "genesys", "db_password": "s3cret-pw", **extra}


@pytest.mark.parametrize("options", [
    {"settings": {"dbprotocol": "odbc", "odbc-string": "DSN={ci-vm410}"}},
    {"settings": {"dbprotocol": "ODBC", "odbc-string": "Driver={ODBC Driver 17 for SQL Server}"}},
    {"settings": {"dbprotocol": "dbserver"}},
    {"logger-settings": {"delivery-protocol": "odbc", "odbc-string": "Driver=/opt/microsoft/msodbcsql17/lib64/x.so"}},
    {"settings": {"connection-string": "driver=DB2 ODBC Driver; port=1234"}},
    {"logger-settings": {"connection-string": "DSN=sqltest"}},
])
def test_good_odbc_options_are_saved_and_the_password_is_never_returned(api, env, options):
    response = send(api, "post", url(DAPS), dap_payload(env, options=options))
    assert response.status_code == 201, body(response)
    assert "db_password" not in body(response) and "s3cret-pw" not in response.content.decode()
    assert DatabaseAccessPoint.objects.get(name="IXN_DAP").db_password == "s3cret-pw"


@pytest.mark.parametrize(("options", "words"), [
    ({"settings": {"dbprotocol": "jdbc"}}, "settings/dbprotocol: 'jdbc' is not a database protocol"),
    ({"logger-settings": {"delivery-protocol": ""}}, "logger-settings/delivery-protocol"),
    ({"settings": {"odbc-string": "DSN={ci-vm410"}}, "settings/odbc-string: unbalanced brace"),
    ({"settings": {"odbc-string": "DSN={a};Driver={b}"}}, "both a DSN and a driver"),
    ({"logger-settings": {"odbc-string": "ci-vm410"}}, "logger-settings/odbc-string: 'ci-vm410' has no '='"),
    ({"settings": {"connection-string": "driver=x;port"}}, "settings/connection-string: 'port' has no '='"),
    ({"logger-settings": {"connection-string": "driver={x"}}, "logger-settings/connection-string: unbalanced"),
])
def test_bad_odbc_options_are_refused_naming_the_key(api, env, options, words):
    response = send(api, "post", url(DAPS), dap_payload(env, options=options))
    assert response.status_code == 400
    assert any(words in m for m in body(response)["options"]), body(response)
    assert not DatabaseAccessPoint.objects.filter(name="IXN_DAP").exists()


def test_an_unknown_dbms_type_is_a_field_error_on_every_path(api, env):
    response = send(api, "post", url(DAPS), dap_payload(env, dbms_type="access"))
    assert response.status_code == 400
    assert list(body(response)) == ["dbms_type"]
    assert body(response)["dbms_type"][0].startswith('"access" is not a DBMS type: one of mssql (Microsoft SQL')
    dap = DatabaseAccessPoint(tenant=env, name="IXN_DAP", template=dap_template(env), dbms_type="access")
    with pytest.raises(Exception) as caught:
        services.save_object(dap)
    assert "is not a DBMS type: one of mssql" in caught.value.message_dict["dbms_type"][0]
    doc = {"format": transfer.FORMAT, "version": 1, "tenant": "Environment", "objects": {
        "database-access-points": [{"name": "IXN_DAP", "template": "T_DAP", "dbms_type": "access"}]}}
    with pytest.raises(transfer.TransferError) as caught:
        transfer.import_document(doc)
    assert any("dbms_type: 'access' is not a DBMS type" in line for line in caught.value.errors)


def test_the_dap_admin_form_names_the_key_and_saves_nothing(client, admin_user, env):
    client.force_login(admin_user)
    dap = services.save_object(DatabaseAccessPoint(tenant=env, name="IXN_DAP", template=dap_template(env),
                                                   dbms_type="mssql", db_password="pw"))
    data = {"name": dap.name, "version": dap.version, "tenant": dap.tenant_id, "folder": "", "state": "enabled",
            "dbms_name": "", "dbms_type": "mssql", "database_name": "", "db_username": "", "db_password": "",
            "query_timeout": "0", "options-present": "1", "options-section": ["settings"],
            "options-key": ["odbc-string"], "options-value": ["Driver={ODBC Driver 17"],
            "applicationtenant_set-TOTAL_FORMS": "0", "applicationtenant_set-INITIAL_FORMS": "0"}
    response = client.post(reverse("admin:configdb_databaseaccesspoint_change", args=[dap.pk]), data)
    assert response.status_code == 200
    assert "settings/odbc-string: unbalanced brace" in response.content.decode()
    dap.refresh_from_db()
    assert dap.options == {}


# -- the builder -------------------------------------------------------------------------------------------------


BUILDER = "/api/v1/database-access-points/odbc-builder/"


@pytest.mark.parametrize(("payload", "expected"), [
    ({"dbms_type": "mssql"}, ("settings", "odbc-string", "Driver={SQL Server Native Client 10.0}", "dbprotocol")),
    ({"dbms_type": "oracle", "dsn": "ora", "purpose": "logger"},
     ("logger-settings", "odbc-string", "DSN={ora}", "delivery-protocol")),
    ({"dbms_type": "db2", "version": "8.5.1", "port": 1234},
     ("settings", "connection-string", "driver=IBM DB2 ODBC DRIVER - DB2COPY1;port=1234", "dbprotocol")),
    ({"dbms_type": "oracle", "version": "8.5.1", "port": 1521},
     ("settings", "connection-string", "driver=Oracle in OraClient11g_home1", "dbprotocol")),
])
def test_the_builder_api_answers_the_option(api, db, payload, expected):
    response = send(api, "post", BUILDER, payload)
    assert response.status_code == 200, body(response)
    data = body(response)
    assert (data["section"], data["key"], data["value"], data["protocol_key"]) == expected
    assert data["protocol_value"] == "odbc"


@pytest.mark.parametrize(("payload", "field"), [
    ({"dbms_type": "sybase"}, "dbms_type"), ({}, "dbms_type"), ({"dbms_type": "mssql", "port": 0}, "port"),
    ({"dbms_type": "mssql", "dsn": "a", "driver": "b"}, "dsn"), ({"dbms_type": "mssql", "purpose": "x"}, "purpose"),
])
def test_the_builder_api_refuses_bad_input_naming_the_field(api, db, payload, field):
    response = send(api, "post", BUILDER, payload)
    assert response.status_code == 400
    assert field in body(response)


def test_the_builder_api_needs_a_login(db):
    assert send(client_for(None), "post", BUILDER, {"dbms_type": "mssql"}).status_code in (401, 403)


def test_the_admin_builder_applies_through_the_service(client, admin_user, env):
    client.force_login(admin_user)
    dap = services.save_object(DatabaseAccessPoint(tenant=env, name="IXN_DAP", template=dap_template(env),
                                                   dbms_type="postgre", db_password="pw-kept",
                                                   options={"settings": {"number-of-database-connections": "5"}}))
    change = client.get(reverse("admin:configdb_databaseaccesspoint_change", args=[dap.pk])).content.decode()
    page = reverse("admin:configdb_databaseaccesspoint_odbc_builder")
    assert f"{page}?dap={dap.pk}" in change
    assert page in client.get(reverse("admin:configdb_databaseaccesspoint_add")).content.decode()
    assert client.get(page, {"dap": dap.pk}).status_code == 200
    shown = client.post(page + f"?dap={dap.pk}", {"purpose": "main", "version": "8.5.2", "dbms_type": "postgre",
                                                  "dsn": "", "driver": "", "port": "5433", "build": "Build"})
    assert shown.status_code == 200 and "driver=PostgreSQL ANSI(x64);port=5433" in shown.content.decode()
    dap.refresh_from_db()
    assert "connection-string" not in dap.options["settings"]
    done = client.post(page + f"?dap={dap.pk}", {"purpose": "main", "version": "8.5.3", "dbms_type": "postgre",
                                                 "dsn": "ixn", "driver": "", "port": "", "apply": "Apply"})
    assert done.status_code == 302
    dap.refresh_from_db()
    assert dap.options["settings"] == {"number-of-database-connections": "5", "dbprotocol": "odbc",
                                       "odbc-string": "DSN={ixn}"}
    assert dap.db_password == "pw-kept"
    bad = client.post(page, {"purpose": "main", "version": "8.5.3", "dbms_type": "postgre", "dsn": "a",
                             "driver": "b", "port": ""})
    assert bad.status_code == 400 and "not both" in bad.content.decode()


# -- licence capacity ----------------------------------------------------------------------------------------


def test_the_seeds_licence_example_gives_10():
    result = ixn.licence_capacity(100, [(f"node{i}", 30) for i in range(4)])
    assert [n.allocated for n in result.nodes] == [30, 30, 30, 10]
    assert result.capacity == 10


def make_cluster(env, seats="100", per_node=("30", "30", "30", "30")):
    tmpl = ixn_template(env)
    cluster = f.application(env, "IXN_Server_Cluster", cluster_template(env), ports=(),
                            options={"cluster-settings": {"cluster-type": "Interaction Server"},
                                     "license": {"available-agent-seats": seats}})
    for i, count in enumerate(per_node, start=1):
        backup = f.application(env, f"IXN_{i}_B", tmpl, options={"license": {"ics_multi_media_agent_seat": count}})
        primary = f.application(env, f"IXN_{i}", tmpl, backup_server=backup,
                                options={"license": {"ics_multi_media_agent_seat": count}})
        services.save_object(Connection(application=cluster, server=primary, port_id="default"))
    return cluster


def test_the_cluster_report_follows_the_seed(env):
    report = licence_report(make_cluster(env))
    assert report.capacity == 10 and report.available == 100
    assert [(n.primary.name, n.backup.name, n.configured, n.allocated) for n in report.nodes] == [
        ("IXN_1", "IXN_1_B", 30, 30), ("IXN_2", "IXN_2_B", 30, 30), ("IXN_3", "IXN_3_B", 30, 30),
        ("IXN_4", "IXN_4_B", 30, 10)]
    assert report.as_dict()["nodes"][0]["licence_group"] == report.nodes[0].primary.pk


def test_a_bad_count_is_reported_on_its_node(env):
    report = licence_report(make_cluster(env, per_node=("30", "lots")))
    assert "not a whole number" in report.nodes[1].problem
    assert report.nodes[1].allocated == 70  # unset asks for what is left


def test_the_licence_capacity_api(api, env):
    cluster = make_cluster(env)
    response = api.get(f"/api/v1/applications/{cluster.pk}/licence-capacity/")
    assert response.status_code == 200, body(response)
    data = body(response)
    assert data["capacity"] == 10 and data["available_seats"] == 100
    assert [n["allocated"] for n in data["nodes"]] == [30, 30, 30, 10]
    assert any("DBID" in rule for rule in data["rules"])
    node = Application.objects.get(name="IXN_1")
    assert api.get(f"/api/v1/applications/{node.pk}/licence-capacity/").status_code == 404
    assert api.get("/api/v1/applications/99999999999999999999/licence-capacity/").status_code == 404


def test_the_licence_capacity_api_hides_what_the_user_may_not_read(env):
    cluster = make_cluster(env)
    outsider = client_for(make_user("outsider"))
    assert outsider.get(f"/api/v1/applications/{cluster.pk}/licence-capacity/").status_code == 404


def test_the_cluster_page_shows_the_capacity_and_links_the_error_codes(client, admin_user, env):
    client.force_login(admin_user)
    cluster = make_cluster(env)
    html = client.get(reverse("admin:configdb_application_change", args=[cluster.pk])).content.decode()
    assert 'id="licence-capacity"' in html
    assert '<strong id="licence-capacity-value">10</strong>' in html
    assert html.count('class="{}'.format("row1 licence-node")) + html.count("row2 licence-node") == 4
    assert "revokes that agent" in html and "DBID of its primary server" in html and "log agents out" in html
    assert reverse("admin:configdb_proxy_error_codes") in html


# -- proxy error codes -----------------------------------------------------------------------------------------


def test_the_error_codes_api(api, db):
    response = api.get("/api/v1/interaction-server/error-codes/")
    assert response.status_code == 200
    rows = body(response)
    assert [r["code"] for r in rows] == list(range(2000, 2007))
    assert all(set(r) == {"code", "description", "caused_by"} for r in rows)
    assert rows[1]["description"] == "There are no servers accepting this media/tenant"


def test_the_error_codes_page_renders_and_is_linked_from_the_index(client, admin_user, db):
    client.force_login(admin_user)
    page = reverse("admin:configdb_proxy_error_codes")
    html = client.get(page).content.decode()
    assert "2006" in html and "Snapshot not accessible" in html
    assert page in client.get(reverse("admin:index")).content.decode()


def test_the_schema_documents_the_new_routes(api, db):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for route in ("/api/v1/database-access-points/odbc-builder/", "/api/v1/applications/{id}/licence-capacity/",
                  "/api/v1/interaction-server/error-codes/"):
        assert route in schema

