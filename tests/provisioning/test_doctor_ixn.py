"""The config doctor's Interaction Server cluster checker (provisioning/doctor_ixn.py): one well-formed cluster, as
the seed's steps 1–10 build it, gives no Interaction Server finding but the Event Logger info; each rule fires on
one change to it, on the object it names, with a link to that object's admin page; the load stays a fixed number of
queries."""

from __future__ import annotations

import pytest

from configdb import interaction_server as ixn
from configdb import services
from configdb.models import (
    Application,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    DBMSType,
    MediaType,
    Port,
)
from provisioning import doctor, doctor_ixn
from tests.configdb.factories import application, host, template

VERSION = "8.5.302.05"    # a build of 8.5.3, the release the seed describes
IXN_RULES = {r.code for r in doctor.RULES if r.check.__module__ == doctor_ixn.__name__}
SERVER_SETTINGS = {"not-ready-on-invitation-timeout": "false", "allow-multiple-agent-connections": "false",
                   "login-session-timeout": "1440"}


def app(name: str) -> Application:
    return Application.objects.get(name=name)


def connect(client: str, *servers: str) -> None:
    for server in servers:
        services.save_object(Connection(application=app(client), server=app(server), port_id="default"))


def disconnect(client: str, server: str) -> None:
    services.delete_object(Connection.objects.get(application__name=client, server__name=server))


def set_options(name: str, section: str, **values) -> None:
    """Options changed past the model's checks (a crafted configuration may be one the forms refuse)."""
    a = app(name)
    options = {**(a.options or {})}
    options[section] = {**options.get(section, {}), **{k.replace("_", "-"): v for k, v in values.items()}}
    Application.objects.filter(pk=a.pk).update(options=options)


def drop_option(name: str, section: str, key: str) -> None:
    a = app(name)
    options = {s: {k: v for k, v in keys.items() if k != key} for s, keys in (a.options or {}).items()}
    Application.objects.filter(pk=a.pk).update(options=options)


def set_backup(name: str, backup: str | None) -> None:
    a = app(name)
    a.backup_server = app(backup) if backup else None
    services.save_object(a)


def make(env, name, app_type, *, version=VERSION, options=None, backup=None, **extra) -> Application:
    tmpl = template(env, name=f"T_{name}", app_type=app_type)
    return application(env, name, tmpl, version=version, options=options or {},
                       backup_server=app(backup) if backup else None, **extra)


def dap(env, name, dbms=DBMSType.MSSQL, *, logger=False) -> DatabaseAccessPoint:
    driver = "Driver={ODBC Driver 17 for SQL Server}"
    section = {"logger-settings": {"delivery-protocol": "odbc", "odbc-string": driver}} if logger \
        else {"settings": {"dbprotocol": "odbc", "odbc-string": "DSN={ixn}"}}
    tmpl = template(env, name=f"T_{name}", app_type=ApplicationType.DATABASE_ACCESS_POINT)
    d = DatabaseAccessPoint(tenant=env, name=name, template=tmpl, dbms_type=dbms, database_name="ixn",
                            options=section, host=host(env))
    services.save_object(d)
    services.save_object(Port(application=d, port_id="default", port=1433))
    return d


def cluster_app(env, name, kind) -> Application:
    return make(env, name, ApplicationType.APPLICATION_CLUSTER, options={"cluster-settings": {"cluster-type": kind}})


def build(env, *, event_logger: bool = True) -> None:
    """A cluster as the seed's steps build it: two nodes (primary/backup pairs: chat; email), each with its own main
    and Event Logger DAP; the Interaction Server cluster; two proxies without backup in the proxy cluster (for the
    desktop, N+1); a dedicated primary/backup proxy pair for reporting (ICON) and one for ORS; URS, Stat Server and
    Solution Control Server connected to every primary server directly."""
    for name in ("chat", "email", "voice"):
        services.save_object(MediaType(tenant=env, name=name))
    make(env, "Chat_Server", ApplicationType.CHAT_SERVER)
    make(env, "Email_Server", ApplicationType.EMAIL_SERVER)
    for node, media, esp in (("IXN_1", "chat", "Chat_Server"), ("IXN_2", "email", "Email_Server")):
        main = dap(env, f"DAP_{node}")
        logger = dap(env, f"DAP_{node}_log", logger=True) if event_logger else None
        options = {"settings": dict(SERVER_SETTINGS), "cluster-settings": {"media-types": media}}
        make(env, f"{node}_b", ApplicationType.INTERACTION_SERVER, options=options)
        make(env, node, ApplicationType.INTERACTION_SERVER, options=options, backup=f"{node}_b")
        for server in (node, f"{node}_b"):
            connect(server, main.name, esp, *([logger.name] if logger else []))
    cluster_app(env, "IXN_Cluster", ixn.SERVER_CLUSTER)
    connect("IXN_Cluster", "IXN_1", "IXN_2")
    proxy = {"settings": {"pull-hold-timeout": "2"}}
    for name in ("Proxy_A", "Proxy_B"):
        make(env, name, ApplicationType.INTERACTION_SERVER, component_type=ixn.PROXY_COMPONENT, options=proxy)
        connect(name, "IXN_Cluster")
    cluster_app(env, "Proxy_Cluster", ixn.PROXY_CLUSTER)
    connect("Proxy_Cluster", "Proxy_A", "Proxy_B")
    for pair in ("Proxy_R", "Proxy_O"):
        make(env, f"{pair}b", ApplicationType.INTERACTION_SERVER, component_type=ixn.PROXY_COMPONENT, options=proxy)
        make(env, pair, ApplicationType.INTERACTION_SERVER, component_type=ixn.PROXY_COMPONENT, options=proxy,
             backup=f"{pair}b")
        connect(pair, "IXN_Cluster")
        connect(f"{pair}b", "IXN_Cluster")
    make(env, "Desktop", ApplicationType.GENESYS_GENERIC_CLIENT)
    connect("Desktop", "Proxy_Cluster")
    make(env, "ICON", ApplicationType.INTERACTION_CONCENTRATOR)
    connect("ICON", "Proxy_R")
    make(env, "ORS", ApplicationType.ORCHESTRATION_SERVER)
    connect("ORS", "Proxy_O")
    for name, app_type in (("URS", ApplicationType.UNIVERSAL_ROUTING_SERVER),
                           ("Stat_Server", ApplicationType.STAT_SERVER),
                           ("SCS", ApplicationType.SOLUTION_CONTROL_SERVER)):
        make(env, name, app_type)
        connect(name, "IXN_1", "IXN_2")


def ixn_findings():
    return [f for f in doctor.run() if f.code in IXN_RULES]


def codes(findings) -> set[str]:
    return {f.code for f in findings}


# --- the well-formed cluster --------------------------------------------------------------------------------------


def test_a_well_formed_cluster_gives_only_the_event_logger_info(env_tenant):
    build(env_tenant)
    found = ixn_findings()
    assert [(f.code, f.object_name) for f in found] == [("IXN_EVENT_LOGGER", "IXN_Cluster")], found
    assert "one per primary/backup pair" in found[0].message
    assert [f for f in doctor.run() if f.severity == doctor.ERROR] == []


def test_a_well_formed_cluster_without_event_logger_databases_gives_no_finding(env_tenant):
    build(env_tenant, event_logger=False)
    assert ixn_findings() == []


# --- one change per rule ------------------------------------------------------------------------------------------


def member_of_another_type(env):
    make(env, "Odd_Server", ApplicationType.THIRD_PARTY_SERVER)
    connect("IXN_Cluster", "Odd_Server")


def proxy_of_another_type(env):
    make(env, "Odd_Proxy", ApplicationType.GENESYS_GENERIC_SERVER)
    connect("Odd_Proxy", "IXN_Cluster")
    connect("Proxy_Cluster", "Odd_Proxy")


def proxy_cluster_empty(env):
    disconnect("Proxy_Cluster", "Proxy_A")
    disconnect("Proxy_Cluster", "Proxy_B")


def server_cluster_empty(env):
    disconnect("IXN_Cluster", "IXN_1")
    disconnect("IXN_Cluster", "IXN_2")


def node_without_backup(env):
    set_backup("IXN_2", None)


def cluster_lists_a_backup(env):
    connect("IXN_Cluster", "IXN_1_b")


def cluster_lists_the_backup_instead(env):
    disconnect("IXN_Cluster", "IXN_2")
    connect("IXN_Cluster", "IXN_2_b")


def proxy_reaches_no_server(env):
    disconnect("Proxy_A", "IXN_Cluster")


def proxy_reaches_some_servers(env):
    disconnect("Proxy_A", "IXN_Cluster")
    connect("Proxy_A", "IXN_1")


def urs_misses_a_server(env):
    disconnect("URS", "IXN_2")


def urs_through_the_proxy(env):
    disconnect("URS", "IXN_1")
    disconnect("URS", "IXN_2")
    connect("URS", "Proxy_A")


def media_nobody_serves(env):
    services.save_object(MediaType(tenant=env, name="sms"))


def media_types_malformed(env):
    set_options("IXN_1", "cluster-settings", media_types="chat,,email")


def media_types_unknown(env):
    set_options("IXN_1", "cluster-settings", media_types="chat, fax")


def media_type_disabled(env):
    services.set_state([MediaType.objects.get(name="chat")], "disabled")


def multiple_agent_connections(env):
    set_options("IXN_1", "settings", allow_multiple_agent_connections="true")


def login_session_timeout(env):
    set_options("IXN_2_b", "settings", login_session_timeout="60")


def login_control_differs(env):
    set_options("IXN_2", "settings", agent_login_control="strict")


def esp_asymmetric(env):
    set_options("IXN_2", "cluster-settings", media_types="chat,email")


def engines_differ(env):
    DatabaseAccessPoint.objects.filter(name="DAP_IXN_1_log").update(dbms_type=DBMSType.ORACLE)


def db2(env):
    DatabaseAccessPoint.objects.filter(name="DAP_IXN_1").update(dbms_type=DBMSType.DB2)
    DatabaseAccessPoint.objects.filter(name="DAP_IXN_1_log").update(dbms_type=DBMSType.DB2)


def no_dbprotocol(env):
    drop_option("DAP_IXN_2", "settings", "dbprotocol")


def db_server(env):
    make(env, "DB_Server", ApplicationType.DB_SERVER)
    connect("IXN_1", "DB_Server")


def main_database_shared(env):
    for server in ("IXN_2", "IXN_2_b"):
        disconnect(server, "DAP_IXN_2")
        connect(server, "DAP_IXN_1")


def node_without_database(env):
    for server in ("IXN_2", "IXN_2_b"):
        disconnect(server, "DAP_IXN_2")


def event_logger_shared_outside_the_cluster(env):
    make(env, "IXN_Single", ApplicationType.INTERACTION_SERVER)
    connect("IXN_Single", "DAP_IXN_1_log")


def one_event_logger_for_the_cluster(env):
    for server in ("IXN_2", "IXN_2_b"):
        disconnect(server, "DAP_IXN_2_log")
        connect(server, "DAP_IXN_1_log")


def server_too_old(env):
    Application.objects.filter(name="IXN_1").update(version="8.5.105.10")


def proxy_too_old(env):
    Application.objects.filter(name="Proxy_A").update(version="8.5.106.01")


def version_unreadable(env):
    Application.objects.filter(name="IXN_1").update(version="latest")


def no_snapshots(env):
    Application.objects.filter(name="IXN_2").update(version="8.5.106.20")


def snapshot_limit(env):
    set_options("IXN_1", "settings", max_interactions_per_snapshot="100")


def pull_hold_high(env):
    set_options("Proxy_A", "settings", pull_hold_timeout="30")


def pull_hold_left_to_the_servers(env):
    drop_option("Proxy_B", "settings", "pull-hold-timeout")
    set_options("IXN_1", "settings", pull_hold_timeout="30")


def cluster_proxy_with_backup(env):
    make(env, "Proxy_Ab", ApplicationType.INTERACTION_SERVER, component_type=ixn.PROXY_COMPONENT,
         options={"settings": {"pull-hold-timeout": "2"}})
    connect("Proxy_Ab", "IXN_Cluster")
    set_backup("Proxy_A", "Proxy_Ab")


def dedicated_proxy_alone(env):
    set_backup("Proxy_O", None)
    Application.objects.filter(name="Proxy_Ob").update(component_type="")


def media_server_on_the_proxy_cluster(env):
    connect("Chat_Server", "Proxy_Cluster")


def reporting_proxy_shared(env):
    connect("Desktop", "Proxy_R")


def reporting_through_the_proxy_cluster(env):
    connect("ICON", "Proxy_Cluster")


def client_of_another_tenant(env, other):
    services.set_links(app("ICON"), "tenants", [other])


def email_shared(env):
    set_options("IXN_1", "cluster-settings", media_types="chat,email")


def stat_server_through_a_proxy(env):
    disconnect("Stat_Server", "IXN_2")
    connect("Stat_Server", "Proxy_R")


def monitor_on_the_proxy(env):
    connect("SCS", "Proxy_Cluster")


CRAFTED = [
    ("IXN_MEMBER_TYPE", member_of_another_type, "Odd_Server"),
    ("IXN_MEMBER_TYPE", proxy_of_another_type, "Odd_Proxy"),
    ("IXN_CLUSTER_EMPTY", proxy_cluster_empty, "Proxy_Cluster"),
    ("IXN_CLUSTER_EMPTY", server_cluster_empty, "IXN_Cluster"),
    ("IXN_NODE_PAIR", node_without_backup, "IXN_2"),
    ("IXN_NODE_PAIR", cluster_lists_a_backup, "IXN_Cluster"),
    ("IXN_NODE_PAIR", cluster_lists_the_backup_instead, "IXN_Cluster"),
    ("IXN_PROXY_SERVERS", proxy_reaches_no_server, "Proxy_A"),
    ("IXN_PROXY_SERVERS", proxy_reaches_some_servers, "Proxy_A"),
    ("IXN_URS_DIRECT", urs_misses_a_server, "URS"),
    ("IXN_URS_DIRECT", urs_through_the_proxy, "URS"),
    ("IXN_MEDIA_UNSERVED", media_nobody_serves, "IXN_Cluster"),
    ("IXN_MEDIA_NAMES", media_types_malformed, "IXN_1"),
    ("IXN_MEDIA_NAMES", media_types_unknown, "IXN_1"),
    ("IXN_MEDIA_NAMES", media_type_disabled, "IXN_1"),
    ("IXN_RECOMMENDED", multiple_agent_connections, "IXN_1"),
    ("IXN_RECOMMENDED", login_session_timeout, "IXN_2_b"),
    ("IXN_LOGIN_CONTROL", login_control_differs, "IXN_Cluster"),
    ("IXN_ESP_SYMMETRY", esp_asymmetric, "IXN_2"),
    ("IXN_DB_ENGINES", engines_differ, "IXN_1"),
    ("IXN_DB2", db2, "DAP_IXN_1"),
    ("IXN_DB_SERVER", no_dbprotocol, "DAP_IXN_2"),
    ("IXN_DB_SERVER", db_server, "IXN_1"),
    ("IXN_OWN_DATABASES", main_database_shared, "DAP_IXN_1"),
    ("IXN_OWN_DATABASES", node_without_database, "IXN_2"),
    ("IXN_OWN_DATABASES", event_logger_shared_outside_the_cluster, "DAP_IXN_1_log"),
    ("IXN_VERSION", server_too_old, "IXN_1"),
    ("IXN_VERSION", proxy_too_old, "Proxy_A"),
    ("IXN_VERSION_UNKNOWN", version_unreadable, "IXN_1"),
    ("IXN_SNAPSHOTS", no_snapshots, "IXN_2"),
    ("IXN_SNAPSHOT_LIMIT", snapshot_limit, "IXN_Cluster"),
    ("IXN_PULL_HOLD_TIMEOUT", pull_hold_high, "Proxy_A"),
    ("IXN_PULL_HOLD_TIMEOUT", pull_hold_left_to_the_servers, "Proxy_B"),
    ("IXN_CLUSTER_PROXY_BACKUP", cluster_proxy_with_backup, "Proxy_A"),
    ("IXN_DEDICATED_PROXY_PAIR", dedicated_proxy_alone, "Proxy_O"),
    ("IXN_DEDICATED_PROXY_PAIR", media_server_on_the_proxy_cluster, "Chat_Server"),
    ("IXN_DEDICATED_REPORTING", reporting_proxy_shared, "Proxy_R"),
    ("IXN_DEDICATED_REPORTING", reporting_through_the_proxy_cluster, "ICON"),
    ("IXN_PROXY_TENANTS", client_of_another_tenant, "ICON"),
    ("IXN_EMAIL_FIFO", email_shared, "IXN_Cluster"),
    ("IXN_STAT_SERVER_DIRECT", stat_server_through_a_proxy, "Stat_Server"),
    ("IXN_MONITOR_PING", monitor_on_the_proxy, "SCS"),
]
#: rules the well-formed cluster itself triggers (an info: which Event Logger choice it made)
ON_CLUSTER = {"IXN_EVENT_LOGGER": "IXN_Cluster"}
#: the proxy error code a finding names (deliverable 7), where the misconfiguration causes one
NAMES_CODE = {media_nobody_serves: 2001, media_type_disabled: 2001, media_types_malformed: 2001,
              monitor_on_the_proxy: 2000, no_snapshots: 2006, node_without_backup: 2002,
              proxy_reaches_no_server: 2001, proxy_reaches_some_servers: 2003, server_cluster_empty: 2001}


def test_every_rule_is_exercised():
    assert {code for code, _, _ in CRAFTED} | set(ON_CLUSTER) == IXN_RULES
    assert all(r.code.startswith("IXN_") for r in doctor.RULES if r.code in IXN_RULES)


@pytest.mark.parametrize(("code", "craft", "where"), CRAFTED, ids=[f"{c}-{f.__name__}" for c, f, _ in CRAFTED])
def test_rule_fires_on_a_crafted_configuration(env_tenant, other_tenant, code, craft, where):
    build(env_tenant)
    assert code not in codes(ixn_findings())
    craft(env_tenant, other_tenant) if craft.__code__.co_argcount == 2 else craft(env_tenant)
    hits = [f for f in ixn_findings() if f.code == code]
    assert hits, f"{code} did not fire"
    hit = next((f for f in hits if f.object_name == where), None)
    assert hit is not None, [f.object_name for f in hits]
    rule = next(r for r in doctor.RULES if r.code == code)
    assert hit.severity == rule.severity and hit.message and f"'{where}'" in hit.message
    assert hit.url and hit.url.startswith("/admin/configdb/") and hit.url.endswith("/change/")
    if craft in NAMES_CODE:
        number = NAMES_CODE[craft]
        assert f"error {number} ({ixn.PROXY_ERRORS_BY_CODE[number].description})" in hit.message


def test_one_event_logger_for_the_cluster_is_said_with_its_limitations(env_tenant):
    build(env_tenant)
    one_event_logger_for_the_cluster(env_tenant)
    found = ixn_findings()
    assert codes(found) == {"IXN_EVENT_LOGGER"}, found
    assert "one Event Logger database for the entire cluster" in found[0].message
    assert "EventAgentLogout" in found[0].message


def test_a_cluster_listing_a_backup_still_knows_the_node(env_tenant):
    build(env_tenant)
    cluster_lists_the_backup_instead(env_tenant)
    assert [(f.code, f.object_name) for f in ixn_findings() if f.severity != doctor.INFO] == [
        ("IXN_NODE_PAIR", "IXN_Cluster")]


def test_a_dap_finding_links_the_dap_admin_page(env_tenant):
    build(env_tenant)
    db2(env_tenant)
    hit = next(f for f in ixn_findings() if f.code == "IXN_DB2")
    assert hit.object_type == "database access point"
    assert hit.url == f"/admin/configdb/databaseaccesspoint/{app('DAP_IXN_1').pk}/change/"


def test_older_servers_may_keep_db_server_and_db2(env_tenant):
    """DB Server is refused from 8.5.3, DB2 from 8.5.2: an 8.5.1 server outside a cluster may use both."""
    make(env_tenant, "IXN_Old", ApplicationType.INTERACTION_SERVER, version="8.5.101.02")
    make(env_tenant, "DB_Server", ApplicationType.DB_SERVER)
    legacy = dap(env_tenant, "DAP_Old", DBMSType.DB2)
    connect("IXN_Old", "DB_Server", legacy.name)
    assert not {"IXN_DB2", "IXN_DB_SERVER"} & codes(ixn_findings())


def test_the_load_stays_a_fixed_number_of_queries(env_tenant, django_assert_max_num_queries):
    build(env_tenant)
    with django_assert_max_num_queries(25) as small:
        doctor.run()
    for i in range(3):    # a third node and more proxies: the same number of queries
        main = dap(env_tenant, f"DAP_X{i}")
        make(env_tenant, f"IXN_X{i}", ApplicationType.INTERACTION_SERVER, options={"settings": dict(SERVER_SETTINGS)})
        connect(f"IXN_X{i}", main.name)
        make(env_tenant, f"Proxy_X{i}", ApplicationType.INTERACTION_SERVER, component_type=ixn.PROXY_COMPONENT)
        connect(f"Proxy_X{i}", "IXN_Cluster")
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        doctor.run()
    assert len(large.captured_queries) == len(small.captured_queries)


def test_troubleshooting_lists_the_checker():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text()
    assert "## Interaction Server cluster checker" in text
    for code in IXN_RULES:
        assert f"| `{code}` |" in text, code


@pytest.mark.parametrize(("version", "minimum", "expected"), [
    ("8.5.106.03", (8, 5, 200), False),   # a build of 8.5.1: DB2 and DB Server still supported
    ("8.5.109.01", (8, 5, 300), False),
    ("8.5.200.11", (8, 5, 200), True),
    ("8.5.301.04", (8, 5, 300), True),
    ("8.5.107", (8, 5, 106), True),
    ("8.5.105.9", (8, 5, 106), False),
    ("8.5.3", (8, 5, 107), True),         # the seed's way of writing a release
    ("latest", (8, 5, 300), None),
])
def test_releases_compare_in_build_numbers(version, minimum, expected):
    assert doctor_ixn.release_at_least(version, minimum) is expected


def test_releases_are_named_as_the_seed_writes_them():
    assert doctor_ixn.release((8, 5, 300)) == "8.5.3" and doctor_ixn.release((8, 5, 106)) == "8.5.106"


def test_the_api_and_the_command_show_the_checker(env_tenant):
    import io

    from django.core.management import CommandError, call_command

    from tests.configdb.api_helpers import body, client_for, make_user

    build(env_tenant)
    server_too_old(env_tenant)
    data = body(client_for(make_user("root", superuser=True)).get("/api/v1/doctor/", {"code": "IXN_VERSION"}))
    assert [(f["code"], f["object"]["name"]) for f in data["findings"]] == [("IXN_VERSION", "IXN_1")]
    assert data["findings"][0]["url"] == f"/admin/configdb/application/{app('IXN_1').pk}/change/"
    out = io.StringIO()
    with pytest.raises(CommandError, match="error"):
        call_command("doctor", stdout=out)
    assert "[IXN_VERSION]" in out.getvalue()
