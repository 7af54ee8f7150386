"""Export and import of a tenant's whole configuration (the configdb/transfer package): commands and API."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from configdb import crypto, services, transfer
from configdb.models import (
    DN,
    Access,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
    Connection,
    DatabaseAccessPoint,
    Folder,
    Host,
    MediaType,
    ObjectChange,
    Person,
    Port,
    Skill,
    SkillLevel,
    Switch,
    Tenant,
    TenantGrant,
    Transaction,
    VirtualQueue,
)
from configdb.transfer.codecs import bind, unbind

from .factories import tls_material

ROOT = Path(__file__).resolve().parents[2]
EXPORT_URL = "/api/v1/config/export/"
IMPORT_URL = "/api/v1/config/import/"
#: how many records the export of the rich configuration holds (the tenant included)
RICH = 49
#: every secret the rich configuration holds, in clear
TLS_CERT, TLS_KEY = tls_material()
SECRETS = ["demo-client-secret", "s3cret-dap-pw", "dap-option-secret", "node3-api-key", "person-token-secret",
           "dn-secret", "tenant-client-secret", TLS_KEY.splitlines()[2]]


# -- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def rich(demo, other_tenant):
    """The demo plus what it lacks: a DAP with a password, a person with skills, nested folders, an
    application with two ports, connections, a backup and two served tenants, secrets everywhere."""
    env, save = demo, services.save_object
    pacing_folder = Folder.objects.get(tenant=env, name="Pacing Service")
    nodes = save(Folder(tenant=env, folder_type="application", parent=pacing_folder, name="Nodes"))
    extra = save(Folder(tenant=env, folder_type="application", parent=nodes, name="Extra", description="3 deep"))
    queues = save(Folder(tenant=env, folder_type="dn", name="Queues"))
    chat_folder = save(Folder(tenant=env, folder_type="dn", parent=queues, name="Chat", state="disabled"))
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    queue.folder = chat_folder
    save(queue)

    app = save(Application(
        tenant=env, name="Pacing_Server_Node_03", template=ApplicationTemplate.objects.get(name="Pacing_Server"),
        host=Host.objects.get(name="demosrv"), working_directory="/opt/pacing", command_line="./run.sh",
        command_line_arguments="-app Node_03", folder=extra, auto_restart=True, redundancy_type="warm_standby",
        startup_timeout=120, options={"log": {"verbose": "all"}, "security": {"api_key": "node3-api-key"}},
        annex={"gax": {"note": "annexed"}},
    ))
    save(Port(application=app, port_id="default", port=9081, connection_protocol="https",
              listening_mode="secured", certificate=TLS_CERT, certificate_key=TLS_KEY, trusted_ca=TLS_CERT))
    save(Port(application=app, port_id="clustering", port=7800, ha_sync=True, description="cluster sync"))
    save(Connection(application=app, server=Application.objects.get(name="Pacing_Service_Cluster_9.0"),
                    port_id="default", connection_protocol="http", local_timeout=30, remote_timeout=60,
                    trace_mode="both", transport_parameters="tls=1", application_parameters="x=y"))
    save(Connection(application=app, server=Application.objects.get(name="Pacing_Server_Node_01")))
    app.backup_server = Application.objects.get(name="Pacing_Server_Node_02")
    save(app)
    services.set_links(app, "tenants", [env, other_tenant])

    dap_template = save(ApplicationTemplate(tenant=env, name="DAP_8", app_type="database_access_point",
                                            version="8.5.0", default_options={"settings": {"dbprotocol": "x"}}))
    dap = save(DatabaseAccessPoint(
        tenant=env, name="Pacing_DAP", template=dap_template, dbms_name="dbhost", dbms_type="postgre",
        database_name="pacing", db_username="pacing", db_password="s3cret-dap-pw", query_timeout=30,
        folder=pacing_folder, options={"settings": {"dbprotocol": "odbc", "password": "dap-option-secret"}},
    ))
    services.set_links(dap, "tenants", [env])

    switch = Switch.objects.get(tenant=env, name="MultiMediaSwitch")
    switch.t_server = app
    save(switch)
    save(DN(tenant=env, switch=switch, number="5001", dn_type="extension", register="local", alias="desk",
            options={"tserver": {"password": "dn-secret"}}))

    spanish = save(Skill(tenant=env, name="Spanish"))
    person = save(Person(tenant=env, user_name="bilingual.agent", employee_id="E0100", first_name="Bi",
                         last_name="Lingual", email="bi@example.com", is_agent=False,
                         options={"auth": {"token": "person-token-secret"}}))
    services.set_links(person, "media_types", list(MediaType.objects.filter(tenant=env, name__in=["chat", "email"])))
    save(SkillLevel(person=person, skill=Skill.objects.get(tenant=env, name="Proactive"), level=7))
    save(SkillLevel(person=person, skill=spanish, level=900))
    group = save(AgentGroup(tenant=env, name="Spanish Speakers", group_type="virtual",
                            skill_expression="Spanish > 5", options={"pacing": {"weight": "2"}}))
    services.set_links(group, "supervisors", [person])
    services.set_links(AgentGroup.objects.get(tenant=env, name="Proactive Chat"), "supervisors", [person])
    save(AlarmCondition(tenant=env, name="No Cancel", detect_event_id=4242, category="critical"))

    env.options = {"security": {"client_secret": "tenant-client-secret"}, "general": {"region": "eu"}}
    save(env)
    return env


def export(name: str = "Environment", *args) -> tuple[str, dict]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_config", "--tenant", name, *args, stdout=out, stderr=err)
    return out.getvalue(), json.loads(out.getvalue())


def write(tmp_path: Path, document, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


def run_import(path: str, *args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_config", path, *args, stdout=out, stderr=err)
    return out.getvalue()


def failing_import(path: str, *args) -> tuple[str, list[str]]:
    """(the CommandError message, the problem lines written to stderr) of an import that must fail."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_config", path, *args, stdout=out, stderr=err)
    return str(caught.value), [line.strip() for line in err.getvalue().splitlines() if line.strip()]


def totals(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(("Imported:", "Dry run:")))


def without_time(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported"}


def wipe(tenant: Tenant) -> None:
    """Delete everything the tenant owns, dependents first, and reset the tenant to its defaults.

    The tenant row itself stays: deleting a tenant records an ObjectChange naming the deleted tenant,
    which fails the foreign-key check at commit (reported; configdb/history.py). A new tenant is
    covered by test_import_into_a_new_tenant_creates_it."""
    for model in (Transaction, AlarmCondition, AgentGroup, Person, Skill, MediaType, DN, Switch):
        model.objects.filter(tenant=tenant).delete()
    Connection.objects.filter(application__tenant=tenant).delete()
    for model in (Application, ApplicationTemplate, Host):
        model.objects.filter(tenant=tenant).delete()
    # one by one, the deepest first: the history names a deleted folder by its path (Folder.__str__),
    # which a cascade from its parent has already cut
    for folder in sorted(Folder.objects.filter(tenant=tenant), key=lambda f: -f.path.count(" / ")):
        folder.delete()
    tenant.description, tenant.state, tenant.options = "", "disabled", {}
    services.save_object(tenant)


def _ref(obj):
    if obj is None:
        return None
    if isinstance(obj, Folder):
        return f"{obj.folder_type}:{obj.path}"
    if isinstance(obj, DN):
        return f"{obj.switch.name}:{obj.number}"
    return str(obj)


def plain(obj) -> dict:
    """Every stored value of an object (secrets decrypted, as the ORM reads them), relations by name."""
    values = {}
    for f in obj._meta.concrete_fields:
        if f.name in ("id", "created", "modified") or f.name.endswith("_ptr"):
            continue
        values[f.name] = _ref(getattr(obj, f.name)) if f.is_relation else getattr(obj, f.attname)
    for f in obj._meta.many_to_many:
        values[f.name] = sorted(_ref(o) for o in getattr(obj, f.name).all())
    return values


def rows(manager) -> list[str]:
    return sorted(json.dumps(plain(row), sort_keys=True, default=str) for row in manager.all())


def db_state(name: str = "Environment") -> dict:
    tenant = Tenant.objects.get(name=name)
    state = {("Tenant", name): plain(tenant)}
    for model in (Folder, Host, ApplicationTemplate, Application, DatabaseAccessPoint, Switch, DN, MediaType, Skill,
                  Person, AgentGroup, AlarmCondition, Transaction):
        for obj in model.objects.filter(tenant=tenant):
            entry = plain(obj)
            if isinstance(obj, Application):
                entry["ports"], entry["connections"] = rows(obj.ports), rows(obj.connections)
            if isinstance(obj, Person):
                entry["skill_levels"] = rows(obj.skill_levels)
            state[(model.__name__, _ref(obj))] = entry
    return state


def make_user(name: str, *, superuser: bool = False, grants=()):
    model = get_user_model()
    user = model.objects.create_superuser(name, None, None) if superuser else model.objects.create_user(name)
    for tenant, level in grants:
        TenantGrant.objects.create(user=user, tenant=tenant, access=level)
    return user


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def post_import(client: APIClient, body) -> object:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(IMPORT_URL, data=data, content_type="application/json")


# -- round trip ---------------------------------------------------------------------------------------


def test_round_trip_reproduces_the_document_and_the_database(rich, other_tenant, tmp_path):
    text, document = export()
    before = db_state()
    assert set(document) == {"format", "version", "exported", "tenant", "objects"}
    assert list(document["objects"]) == ["tenant", *transfer.LIST_KEYS]
    assert len(document["objects"]["applications"]) == 6 and len(document["objects"]["database-access-points"]) == 1

    wipe(Tenant.objects.get(name="Environment"))
    assert not Application.objects.exists() and not Folder.objects.exists()
    stdout = run_import(write(tmp_path, text))
    assert "Tenant 'Environment':" in stdout
    assert totals(stdout) == f"Imported: {RICH - 1} created, 1 updated, 0 deleted, 0 unchanged."

    text_again, document_again = export()
    assert without_time(document_again) == without_time(document)
    assert text_again.replace(document_again["exported"], "") == text.replace(document["exported"], "")
    assert db_state() == before
    # the secrets themselves, decrypted
    assert DatabaseAccessPoint.objects.get(name="Pacing_DAP").db_password == "s3cret-dap-pw"
    assert Port.objects.get(application__name="Pacing_Server_Node_03", port_id="default").certificate_key == TLS_KEY
    assert Transaction.objects.get(name="hybrid_integration").annex["ewt"]["password"] == "demo-client-secret"
    assert Tenant.objects.get(name="Environment").options["security"]["client_secret"] == "tenant-client-secret"
    # ... and what the rich fixture added, by natural key
    node3 = Application.objects.get(name="Pacing_Server_Node_03")
    assert node3.folder.path == "Pacing Service / Nodes / Extra"
    assert node3.backup_server.name == "Pacing_Server_Node_02"
    assert sorted(t.name for t in node3.tenants.all()) == ["Environment", "Other"]
    assert Switch.objects.get(name="MultiMediaSwitch").t_server == node3
    assert {(s.skill.name, s.level) for s in SkillLevel.objects.filter(person__user_name="bilingual.agent")} == {
        ("Proactive", 7), ("Spanish", 900)}
    assert Tenant.objects.get(name="Other") == other_tenant  # a served tenant is named, never re-created


def test_export_holds_no_secret_in_clear_and_repeats(rich):
    text, document = export()
    for secret in SECRETS:
        assert secret not in text, secret
    annex = document["objects"]["transactions"][0]["annex"]
    token = annex["ewt"]["password"]
    assert token.startswith("enc:v1:") and crypto.decrypt(token) == "demo-client-secret"
    assert annex["ewt"]["client_id"] == "pacing-demo"  # only secret keys are encrypted
    dap = document["objects"]["database-access-points"][0]
    assert crypto.decrypt(dap["db_password"]) == "s3cret-dap-pw"
    node3 = next(a for a in document["objects"]["applications"] if a["name"] == "Pacing_Server_Node_03")
    tls = next(p for p in node3["ports"] if p["port_id"] == "default")
    assert crypto.decrypt(tls["certificate_key"]) == TLS_KEY  # a port's key: a token, as every secret
    assert (tls["certificate"], tls["trusted_ca"]) == (TLS_CERT, TLS_CERT)
    assert "is_server" not in dap and "app_type" not in dap
    # the stored tokens are written, so exporting twice gives the same file
    assert without_time(export()[1]) == without_time(document)


def test_export_names_related_objects_never_ids(rich):
    _text, document = export()
    objects = document["objects"]
    node3 = next(a for a in objects["applications"] if a["name"] == "Pacing_Server_Node_03")
    assert node3["folder"] == ["Pacing Service", "Nodes", "Extra"]
    assert node3["template"] == "Pacing_Server" and node3["host"] == "demosrv"
    assert node3["backup_server"] == "Pacing_Server_Node_02" and node3["tenants"] == ["Environment", "Other"]
    assert [p["port_id"] for p in node3["ports"]] == ["clustering", "default"]
    assert node3["connections"][0] == {"server": "Pacing_Server_Node_01", "port_id": "default",
                                       "connection_protocol": "", "local_timeout": 0, "remote_timeout": 0,
                                       "trace_mode": "off", "transport_parameters": "", "application_parameters": ""}
    assert node3["connections"][1] == {
        "server": "Pacing_Service_Cluster_9.0", "port_id": "default", "connection_protocol": "http",
        "local_timeout": 30, "remote_timeout": 60, "trace_mode": "both", "transport_parameters": "tls=1",
        "application_parameters": "x=y"}
    blended = next(g for g in objects["agent-groups"] if g["name"] == "Proactive Blended")
    assert blended["origination_dns"] == [{"switch": "MultiMediaSwitch", "number": "Proactive Chat"},
                                          {"switch": "MultiMediaSwitch", "number": "Proactive Voice"}]
    assert blended["agents"] == ["blended.agent1"]
    queue = next(q for q in objects["virtual-queues"] if q["number"] == "Proactive Chat")
    assert queue["switch"] == "MultiMediaSwitch" and queue["folder"] == ["Queues", "Chat"] and "dn_type" not in queue
    assert [d["number"] for d in objects["dns"]] == ["5001"]
    assert objects["folders"][:2] == [
        {"type": "alarmcondition", "path": ["PacingService"], "description": "", "state": "enabled"},
        {"type": "application", "path": ["Pacing Service"], "description": "", "state": "enabled"}]
    person = next(p for p in objects["persons"] if p["user_name"] == "bilingual.agent")
    assert person["media_types"] == ["chat", "email"]
    assert person["skill_levels"] == [{"skill": "Proactive", "level": 7}, {"skill": "Spanish", "level": 900}]

    def ids(value):
        if isinstance(value, dict):
            assert not {"id", "pk"} & set(value), value
            for item in value.values():
                ids(item)
        elif isinstance(value, list):
            for item in value:
                ids(item)

    ids(objects)


# -- import: idempotence, history, dry run ----------------------------------------------------------


def test_import_twice_changes_nothing_the_second_time(rich, tmp_path):
    path = write(tmp_path, export()[0])
    wipe(Tenant.objects.get(name="Environment"))
    run_import(path)
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    stdout = run_import(path)
    assert totals(stdout) == f"Imported: 0 created, 0 updated, 0 deleted, {RICH} unchanged."
    assert not ObjectChange.objects.filter(pk__gt=last).exists()


def test_import_into_the_same_database_is_all_unchanged(rich, tmp_path):
    stdout = run_import(write(tmp_path, export()[0]))
    assert totals(stdout) == f"Imported: 0 created, 0 updated, 0 deleted, {RICH} unchanged."


def test_command_import_is_recorded_as_the_command(rich, tmp_path):
    path = write(tmp_path, export()[0])
    wipe(Tenant.objects.get(name="Environment"))
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    run_import(path)
    changes = ObjectChange.objects.filter(pk__gt=last)
    assert changes.count() > RICH
    assert set(changes.values_list("actor", flat=True)) == {"command:import_config"}
    assert set(changes.values_list("via", flat=True)) == {"command"}
    created = changes.filter(action="create", content_type__model="transaction").get()
    assert created.postchange["annex"]["ewt"]["password"] == "********"  # history never holds the secret


def test_updates_are_counted_and_written(rich, tmp_path):
    _text, document = export()
    objects = document["objects"]
    objects["hosts"][0]["ip_address"] = "10.0.0.7"
    objects["skills"].append({"name": "French"})
    person = next(p for p in objects["persons"] if p["user_name"] == "bilingual.agent")
    person["skill_levels"] = [{"skill": "French", "level": 3}]
    node3 = next(a for a in objects["applications"] if a["name"] == "Pacing_Server_Node_03")
    node3["ports"] = [p for p in node3["ports"] if p["port_id"] == "default"]
    node3["connections"] = node3["connections"][:1]
    stdout = run_import(write(tmp_path, document))
    assert totals(stdout) == f"Imported: 1 created, 3 updated, 0 deleted, {RICH + 1 - 4} unchanged."
    assert Host.objects.get(name="demosrv").ip_address == "10.0.0.7"
    assert [(s.skill.name, s.level) for s in SkillLevel.objects.filter(person__user_name="bilingual.agent")] == [
        ("French", 3)]
    node3 = Application.objects.get(name="Pacing_Server_Node_03")
    assert list(node3.ports.values_list("port_id", flat=True)) == ["default"]
    assert node3.connections.count() == 1


def test_dry_run_reports_and_writes_nothing(rich, tmp_path):
    _text, document = export()
    document["objects"]["hosts"][0]["ip_address"] = "10.0.0.7"
    document["objects"]["skills"].append({"name": "French"})
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    stdout = run_import(write(tmp_path, document), "--dry-run", "--replace")
    assert totals(stdout) == (f"Dry run: nothing was written (1 created, 1 updated, 0 deleted, {RICH - 1} "
                              "unchanged if imported).")
    assert Host.objects.get(name="demosrv").ip_address == "demosrv.genesyslab.com"
    assert not Skill.objects.filter(name="French").exists()
    assert not ObjectChange.objects.filter(pk__gt=last).exists()


def test_an_application_with_no_options_keeps_none(demo, tmp_path):
    """A new application starts with its template's options; the file's empty table wins."""
    _text, document = export()
    node = next(a for a in document["objects"]["applications"] if a["name"] == "Pacing_Server_Node_02")
    node["options"] = {}
    wipe(Tenant.objects.get(name="Environment"))
    run_import(write(tmp_path, document))
    assert Application.objects.get(name="Pacing_Server_Node_02").options == {}
    assert Application.objects.get(name="Pacing_Server_Node_01").options == {
        "log": {"all": "stdout", "verbose": "standard"}}


# -- replace ------------------------------------------------------------------------------------------


def test_replace_deletes_what_the_file_does_not_list(rich, tmp_path):
    path = write(tmp_path, export()[0])
    env = rich
    save = services.save_object
    save(Skill(tenant=env, name="Extra Skill"))
    switch = Switch.objects.get(name="MultiMediaSwitch")
    save(VirtualQueue(tenant=env, switch=switch, number="Extra Queue"))
    save(Folder(tenant=env, folder_type="dn", parent=Folder.objects.get(name="Chat"), name="Deeper"))
    extra = save(Application(tenant=env, name="Extra_App", host=Host.objects.get(name="demosrv"),
                             template=ApplicationTemplate.objects.get(name="Pacing_Server"), working_directory=".",
                             command_line="."))
    save(Port(application=extra, port_id="default", port=1234))
    save(Connection(application=Application.objects.get(name="Pacing_Server_Node_03"), server=extra))

    stdout = run_import(path)  # without --replace the extras stay
    assert totals(stdout) == f"Imported: 0 created, 1 updated, 0 deleted, {RICH - 1} unchanged."  # Node_03 lost one
    assert Skill.objects.filter(name="Extra Skill").exists() and Application.objects.filter(name="Extra_App").exists()

    stdout = run_import(path, "--replace")
    assert totals(stdout) == f"Imported: 0 created, 0 updated, 4 deleted, {RICH} unchanged."
    for line in ("skills", "virtual-queues", "folders", "applications"):
        assert next(r for r in stdout.splitlines() if r.strip().startswith(line + " ")).split()[3] == "1", line
    assert not Skill.objects.filter(name="Extra Skill").exists()
    assert not DN.objects.filter(number="Extra Queue").exists()
    assert not Folder.objects.filter(name="Deeper").exists()
    assert not Application.objects.filter(name="Extra_App").exists()
    assert Tenant.objects.get(name="Other")  # other tenants are never touched


def test_replace_with_an_empty_document_empties_the_tenant(rich, tmp_path):
    document = {"format": "pacing-console-config", "version": 1, "tenant": "Environment", "objects": {}}
    stdout = run_import(write(tmp_path, document), "--replace")
    assert totals(stdout) == f"Imported: 0 created, 1 updated, {RICH - 1} deleted, 0 unchanged."  # not the tenant
    env = Tenant.objects.get(name="Environment")
    assert env.options == {}
    for model in (Folder, Host, ApplicationTemplate, Application, Switch, DN, Person, Transaction):
        assert not model.objects.filter(tenant=env).exists(), model


def test_replace_refuses_a_reference_to_an_object_it_would_delete(rich, tmp_path):
    _text, document = export()
    document["objects"]["switches"] = []
    message, errors = failing_import(write(tmp_path, document), "--replace")
    assert message == "Nothing was imported: 4 problems."  # the last: the switch cannot go while its DNs stay
    assert "dns[0] (5001): switch: switch named 'MultiMediaSwitch' is not in the file, and replace deletes the " \
           "tenant's objects that the file does not list." in errors
    assert Switch.objects.filter(name="MultiMediaSwitch").exists()


# -- atomicity and problems ---------------------------------------------------------------------------


def test_one_bad_record_writes_nothing_and_is_named(rich, tmp_path):
    _text, document = export()
    document["objects"]["skills"].append({"name": "Brand New"})
    document["objects"]["hosts"][0]["ip_address"] = "10.9.9.9"
    document["objects"]["virtual-queues"][1]["switch"] = "X"
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    message, errors = failing_import(write(tmp_path, document))
    assert message == "Nothing was imported: 1 problem."
    assert errors == ["virtual-queues[1] (Proactive Voice): switch: no switch named 'X'."]
    assert not Skill.objects.filter(name="Brand New").exists()
    assert Host.objects.get(name="demosrv").ip_address == "demosrv.genesyslab.com"
    assert not ObjectChange.objects.filter(pk__gt=last).exists()


def test_every_problem_is_reported_with_its_record(rich, tmp_path):
    _text, document = export()
    objects = document["objects"]
    objects["alarm-conditions"][1]["colour"] = "blue"                # unknown key
    objects["alarm-conditions"][1]["timeout"] = "86400"              # wrong type
    objects["skills"].append({"folder": None})                       # missing name
    objects["skills"].append({"name": "Spanish"})                    # a duplicate
    objects["alarm-conditions"][0]["category"] = "apocalyptic"       # refused by full_clean
    objects["persons"][0]["media_types"] = ["chat", "fax"]           # no such media type
    objects["applications"][0]["tenants"] = ["Environment", "Nope"]  # no such tenant
    objects["agent-groups"][0]["agents"] = ["ghost"]                 # no such person
    objects["folders"].append({"type": "socks", "path": ["Drawer"]})
    objects["transactions"][0]["annex"]["ewt"]["password"] = "in clear"
    message, errors = failing_import(write(tmp_path, document))
    assert message == "Nothing was imported: 10 problems."
    assert errors == [  # the document's order: first what the checks find, then what writing finds
        "folders[7] (Drawer): type: 'socks' is not a folder type (one of: host, applicationtemplate, application, "
        "switch, dn, person, agentgroup, skill, mediatype, alarmcondition, transaction).",
        "skills[2]: name: missing; it is required.",
        "skills[3] (Spanish): the same skill named 'Spanish' as skills[1] (Spanish).",
        "alarm-conditions[1] (Heap Memory Usage): unknown key 'colour' (known: name, description, category, timeout, "
        "detect_event_id, detect_selection, cancel_event_id, folder, state, options).",
        "alarm-conditions[1] (Heap Memory Usage): timeout: must be a whole number, not text.",
        "transactions[0] (hybrid_integration): annex: section 'ewt', key 'password': a secret must be written as "
        "an encrypted enc:v1:… token; this format never holds a secret in clear.",
        "applications[0] (Message_Server): tenants: no tenant named 'Nope'.",
        "persons[0] (bilingual.agent): media_types: no media type named 'fax'.",
        "agent-groups[0] (Proactive Blended): agents: no person named 'ghost'.",
        "alarm-conditions[0] (GC Latency): category: Value 'apocalyptic' is not a valid choice.",
    ]


def test_a_secret_from_another_key_is_refused(rich, tmp_path, settings):
    _text, document = export()
    foreign = Fernet(Fernet.generate_key()).encrypt(b"other-secret").decode()
    # bound to the tenant (as this installation binds), but encrypted with a key it does not have
    document["objects"]["database-access-points"][0]["db_password"] = bind(f"enc:v1:{foreign}", "Environment")
    message, errors = failing_import(write(tmp_path, document))
    assert errors == ["database-access-points[0] (Pacing_DAP): db_password: the secret does not decrypt with this "
                      "installation's PACING_SECRETS_KEY (the file was exported with another key, or the token "
                      "is damaged)."]
    # a file exported by an installation with another key: every secret is named
    other = Fernet(Fernet.generate_key())

    def foreign(value):
        if isinstance(value, dict):
            return {k: foreign(v) for k, v in value.items()}
        if isinstance(value, list):
            return [foreign(v) for v in value]
        if crypto.is_encrypted(value):
            token = unbind(value, "Environment")
            return bind("enc:v1:" + other.encrypt(crypto.decrypt(token).encode()).decode(), "Environment")
        return value

    message, errors = failing_import(write(tmp_path, foreign(export()[1]), "foreign.json"))
    assert message == "Nothing was imported: 8 problems."
    assert "applications[3] (Pacing_Server_Node_03): ports[1] (default): certificate_key: the secret does not " \
           "decrypt with this installation's PACING_SECRETS_KEY (the file was exported with another key, or the " \
           "token is damaged)." in errors, errors
    assert "transactions[0] (hybrid_integration): annex: section 'ewt', key 'password': the secret does not " \
           "decrypt with this installation's PACING_SECRETS_KEY (the file was exported with another key, or the " \
           "token is damaged)." in errors
    assert "tenant: options: section 'security', key 'client_secret': the secret does not decrypt with this " \
           "installation's PACING_SECRETS_KEY (the file was exported with another key, or the token is " \
           "damaged)." in errors


def test_a_stored_secret_that_does_not_decrypt_is_kept_sealed(rich, tmp_path, settings):
    """This installation lost its key: stored secrets read as sealed (configdb.crypto.open_stored) instead of
    failing every read, an import of other objects still works, and the sealed tokens stay as they were."""
    from django.db import connection

    def raw_annexes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, annex FROM configdb_transaction ORDER BY id")
            return cursor.fetchall()

    document = {"format": "pacing-console-config", "version": 1, "tenant": "Environment",
                "objects": {"skills": [{"name": "Spanish"}]}}
    before = raw_annexes()
    settings.PACING_SECRETS_KEYS = [Fernet.generate_key().decode()]
    call_command("import_config", str(write(tmp_path, document)), stdout=io.StringIO(), stderr=io.StringIO())
    assert Skill.objects.filter(name="Spanish").exists()
    assert raw_annexes() == before


def test_a_name_another_tenant_owns_is_refused(rich, other_tenant, tmp_path):
    services.save_object(Host(tenant=other_tenant, name="otherhost"))
    _text, document = export()
    document["objects"]["hosts"].append({"name": "otherhost"})
    _message, errors = failing_import(write(tmp_path, document))
    assert errors == ["hosts[1] (otherhost): name: host named 'otherhost' already exists and belongs to another "
                      "tenant."]


def test_a_missing_served_tenant_is_named(rich, other_tenant, tmp_path):
    path = write(tmp_path, export()[0])
    wipe(Tenant.objects.get(name="Environment"))
    other_tenant.name = "Renamed"
    services.save_object(other_tenant)
    _message, errors = failing_import(path)
    assert errors == ["applications[3] (Pacing_Server_Node_03): tenants: no tenant named 'Other'."]
    assert not Application.objects.exists()


def test_import_into_a_new_tenant_creates_it(rich, other_tenant, tmp_path):
    save = services.save_object
    switch = save(Switch(tenant=other_tenant, name="OtherSwitch", options={"x": {"token": "switch-token"}}))
    queue = save(VirtualQueue(tenant=other_tenant, switch=switch, number="Q1", alias="Q1"))
    person = save(Person(tenant=other_tenant, user_name="other.agent", employee_id="1"))
    group = save(AgentGroup(tenant=other_tenant, name="G"))
    services.set_links(group, "agents", [person])
    services.set_links(group, "origination_dns", [queue])
    _text, document = export("Other")
    assert "switch-token" not in _text
    document["tenant"] = "Copy of Other"
    document["objects"]["persons"][0]["user_name"] = "copy.agent"
    document["objects"]["agent-groups"][0]["agents"] = ["copy.agent"]
    # the switch's secret is bound to tenant Other: it does not move into the copy
    _message, errors = failing_import(write(tmp_path, document))
    assert errors == ["switches[0] (OtherSwitch): options: section 'x', key 'token': the secret token was not "
                      "exported from tenant 'Copy of Other' by this installation (copied from another tenant's "
                      "document, exported with another PACING_SECRETS_KEY, or altered): a secret cannot move between "
                      "tenants through a document; set it in the admin or the API."]
    assert not Tenant.objects.filter(name="Copy of Other").exists()
    document["objects"]["switches"][0]["options"]["x"]["token"] = ""      # no secret: the copy is made
    stdout = run_import(write(tmp_path, document))
    assert "Tenant 'Copy of Other' (created):" in stdout
    copy_tenant = Tenant.objects.get(name="Copy of Other")
    group = AgentGroup.objects.get(tenant=copy_tenant, name="G")
    assert [p.user_name for p in group.agents.all()] == ["copy.agent"]
    assert [(d.switch.name, d.number, d.tenant) for d in group.origination_dns.all()] == [
        ("OtherSwitch", "Q1", copy_tenant)]
    assert Switch.objects.get(tenant=copy_tenant).options == {"x": {"token": ""}}
    # the same person name as the original is another tenant's
    document["tenant"] = "Third"
    document["objects"]["persons"][0]["user_name"] = "other.agent"
    document["objects"]["agent-groups"][0]["agents"] = ["other.agent"]
    _message, errors = failing_import(write(tmp_path, document))
    assert errors == ["persons[0] (other.agent): user_name: person named 'other.agent' already exists and belongs "
                      "to another tenant."]
    assert not Tenant.objects.filter(name="Third").exists()


# -- documents that are not documents -----------------------------------------------------------------


@pytest.mark.parametrize(("content", "message", "problem"), [
    ("{not json", "Malformed JSON.", "line 1, column 2: Expecting property name enclosed in double quotes."),
    ("", "The document is empty; expected JSON.", None),
    (b"\xff\xfe{}", "The document is not UTF-8 text.", "invalid UTF-8 at byte 0."),
    ('{"a": 1, "a": 2}', "Malformed JSON.", "the key 'a' appears twice in one object."),
    ('{"version": NaN}', "Malformed JSON.", "NaN is not a JSON number."),
    ("[" * 100_000, "Malformed JSON.", "the document is nested too deeply."),
    ("[]", "Not a configuration document.", "the document must be a JSON object, not a list."),
    ('{"format": "gax", "version": 1}', "Not a Pacing Console configuration document.",
     "format: expected 'pacing-console-config', found \"gax\"."),
    ('{"format": "pacing-console-config", "version": 2}',
     "Unsupported document version: this installation reads version 1.", "version: expected 1, found 2."),
    ('{"format": "pacing-console-config", "version": 1, "tenant": "", "objects": [], "extra": 1}',
     "The document is not valid.", "tenant: must not be empty."),
    ('{"format": "pacing-console-config", "version": 1, "tenant": "T", "objects": {"hosts": {}, "cars": []}}',
     "Nothing was imported: 2 problems.", "hosts: must be a list, not an object."),
])
def test_documents_that_cannot_be_read(db, tmp_path, content, message, problem):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    got, errors = failing_import(str(path))
    assert got == message
    if problem:
        assert problem in errors
    assert not Tenant.objects.filter(name="T").exists()


def test_a_file_over_the_limit_is_refused_unread(db, tmp_path, monkeypatch):
    monkeypatch.setattr(transfer.document, "MAX_DOCUMENT_BYTES", 1024)
    message, _errors = failing_import(write(tmp_path, " " * 2000))
    assert message == "The document is larger than 0 MiB."
    assert transfer.document.MAX_DOCUMENT_BYTES == 1024
    monkeypatch.undo()
    assert transfer.document.MAX_DOCUMENT_BYTES == 64 * 1024 * 1024


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    message, _errors = failing_import(str(tmp_path / "nope.json"))
    assert message == f"Cannot read {tmp_path / 'nope.json'}: No such file or directory."


def test_the_command_exits_1_without_a_traceback(tmp_path):
    path = write(tmp_path, "{oops")
    done = subprocess.run([sys.executable, "manage.py", "import_config", path], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "line 1, column 2" in done.stderr and "CommandError: Malformed JSON." in done.stderr


# -- the commands' surface ------------------------------------------------------------------------------


def test_export_to_a_file_and_unknown_tenant(rich, tmp_path):
    target = tmp_path / "env.json"
    out, err = io.StringIO(), io.StringIO()
    call_command("export_config", "--tenant", "Environment", "--output", str(target), stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert json.loads(target.read_text())["tenant"] == "Environment"
    assert f"Exported tenant 'Environment': {RICH} objects to" in err.getvalue()
    with pytest.raises(CommandError, match="No tenant named 'Nobody'."):
        call_command("export_config", "--tenant", "Nobody", stdout=out, stderr=err)


def test_progress_bar_only_on_request_when_not_a_terminal(rich, tmp_path):
    err = io.StringIO()
    call_command("export_config", "--tenant", "Environment", stdout=io.StringIO(), stderr=err)
    assert "obj/s" not in err.getvalue() and "%|" not in err.getvalue()
    err = io.StringIO()
    call_command("export_config", "--tenant", "Environment", "--progress", stdout=io.StringIO(), stderr=err)
    assert "export" in err.getvalue() and "100%" in err.getvalue()
    err = io.StringIO()
    call_command("import_config", write(tmp_path, export()[0]), "--progress", stdout=io.StringIO(), stderr=err)
    assert "import" in err.getvalue() and "100%" in err.getvalue()


def test_help_says_what_the_commands_do():
    export_help = io.StringIO()
    from configdb.management.commands import export_config, import_config

    export_config.Command().create_parser("manage.py", "export_config").print_help(export_help)
    text = " ".join(export_help.getvalue().split())
    for words in ("--tenant NAME", "--output FILE", "standard output", "enc:v1:", "PACING_SECRETS_KEY",
                  "--progress", "natural key"):
        assert words in text, words
    import_help = io.StringIO()
    import_config.Command().create_parser("manage.py", "import_config").print_help(import_help)
    text = " ".join(import_help.getvalue().split())
    for words in ("--replace", "--dry-run", "All or nothing", "created, updated, deleted and unchanged",
                  "status 1", "64 MiB", "standard input", "command:import_config"):
        assert words in text, words


# -- the API ----------------------------------------------------------------------------------------------


def test_api_export_is_the_commands_document(rich):
    response = api(make_user("root", superuser=True)).get(EXPORT_URL, {"tenant": "Environment"})
    assert response.status_code == 200
    assert without_time(json.loads(response.content)) == without_time(export()[1])
    for secret in SECRETS:
        assert secret not in response.content.decode()


def test_api_export_needs_read_access(rich, other_tenant):
    reader = make_user("reader", grants=[(rich, Access.READ)])
    assert api(reader).get(EXPORT_URL, {"tenant": "Environment"}).status_code == 200
    outsider = make_user("outsider", grants=[(other_tenant, Access.WRITE)])
    response = api(outsider).get(EXPORT_URL, {"tenant": "Environment"})
    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "No tenant named 'Environment'."}
    assert api(outsider).get(EXPORT_URL, {"tenant": "Nobody"}).status_code == 404
    assert api(outsider).get(EXPORT_URL).status_code == 400
    assert api(outsider).get(EXPORT_URL, {"tenant": "Other", "colour": "x"}).status_code == 400


def test_api_import_all_or_nothing(rich):
    client = api(make_user("root", superuser=True))
    _text, document = export()
    response = post_import(client, {"document": document, "dry_run": True})
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["totals"] == {"created": 0, "updated": 0, "deleted": 0, "unchanged": RICH}
    assert body["dry_run"] is True and body["replace"] is False and body["tenant"] == "Environment"
    assert body["counts"]["virtual-queues"] == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 2}

    document["objects"]["skills"].append({"name": "Brand New"})
    document["objects"]["virtual-queues"][0]["switch"] = "X"
    response = post_import(client, {"document": document})
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "detail": "Nothing was imported: 1 problem.",
        "errors": ["virtual-queues[0] (Proactive Chat): switch: no switch named 'X'."]}
    assert not Skill.objects.filter(name="Brand New").exists()

    document["objects"]["virtual-queues"][0]["switch"] = "MultiMediaSwitch"
    response = post_import(client, {"document": document, "replace": True})
    assert response.status_code == 200
    assert json.loads(response.content)["counts"]["skills"]["created"] == 1
    assert Skill.objects.filter(name="Brand New").exists()


def test_api_import_needs_a_read_write_grant(demo, other_tenant):
    _text, document = export()
    reader = make_user("reader", grants=[(demo, Access.READ)])
    response = post_import(api(reader), {"document": document})
    assert response.status_code == 403
    assert json.loads(response.content)["detail"].startswith("You have no read-write grant on tenant 'Environment'")
    writer = make_user("writer", grants=[(demo, Access.WRITE)])
    document["objects"]["hosts"][0]["os_version"] = "12"
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = post_import(api(writer), {"document": document})
    assert response.status_code == 200, response.content
    assert Host.objects.get(name="demosrv").os_version == "12"
    assert set(ObjectChange.objects.filter(pk__gt=last).values_list("actor", flat=True)) == {"writer"}
    # a tenant that does not exist yet: only a superuser creates one
    document["tenant"] = "Fresh"
    assert post_import(api(writer), {"document": document}).status_code == 403
    assert not Tenant.objects.filter(name="Fresh").exists()


def test_api_restricted_user_cannot_reach_other_tenants(demo, other_tenant):
    services.save_object(Person(tenant=other_tenant, user_name="hidden.agent", employee_id="H1"))
    writer = make_user("writer", grants=[(demo, Access.WRITE)])
    _text, document = export()
    document["objects"]["agent-groups"][0]["agents"].append("hidden.agent")
    document["objects"]["applications"][0]["tenants"].append("Other")
    response = post_import(api(writer), {"document": document})
    assert response.status_code == 400
    assert json.loads(response.content)["errors"] == [
        "applications[0] (Message_Server): tenants: no tenant named 'Other'.",
        "agent-groups[0] (Proactive Blended): agents: no person named 'hidden.agent'.",
    ]


@pytest.mark.parametrize(("body", "detail", "errors"), [
    (b"", "The request body is empty; expected JSON.", []),
    (b"{nope", "Malformed JSON.", ["line 1, column 2: Expecting property name enclosed in double quotes."]),
    (b"[]", "The body must be an object: {\"document\": {\u2026}, \"replace\": false, \"dry_run\": false}.", []),
    (b'{"document": {}, "replace": "yes", "force": 1}', "The request is not valid.",
     ["force: unknown key.", "replace: must be true or false."]),
    (b'{"document": {"format": "x"}}', "Not a Pacing Console configuration document.",
     ["format: expected 'pacing-console-config', found \"x\"."]),
])
def test_api_import_bad_bodies(db, body, detail, errors):
    response = post_import(api(make_user("root", superuser=True)), body)
    assert response.status_code == 400
    assert json.loads(response.content) == {"detail": detail, "errors": errors}


def test_api_import_body_over_the_limit(db, monkeypatch):
    monkeypatch.setattr(transfer, "MAX_DOCUMENT_BYTES", 1024)
    response = post_import(api(make_user("root", superuser=True)), {"document": {"pad": "x" * 2000}})
    assert response.status_code == 413
    assert "larger than" in json.loads(response.content)["detail"]


def test_api_anonymous_is_401(demo):
    client = api()
    assert client.get(EXPORT_URL, {"tenant": "Environment"}).status_code == 401
    response = post_import(client, {"document": export()[1]})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_api_session_login_works(demo):
    user = make_user("sessions", superuser=True)
    client = APIClient()
    client.force_login(user)
    assert client.get(EXPORT_URL, {"tenant": "Environment"}).status_code == 200
    document = copy.deepcopy(export()[1])
    response = post_import(client, {"document": document, "dry_run": True})
    assert response.status_code == 200


# -- at scale: statements per import, not per object ------------------------------------------------------


def _sized_document(name: str, count: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        from config_import import document
    finally:
        sys.path.pop(0)
    return document(count, name)


@pytest.mark.parametrize("step", ["create", "re-import", "update"])
def test_an_import_issues_statements_per_batch_not_per_object(db, step):
    """The bench's document (bench/config_import.py) of 300 and of 1,200 objects: the 900 objects more cost a few
    dozen statements more at most (batches of 500–1,000 rows, one read per namespace), not one or more each, on
    create, re-import and update."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (300, 1200):
        doc = _sized_document(f"Scale{size}", size)
        if step != "create":
            transfer.import_document(doc)
        if step == "update":
            doc = copy.deepcopy(doc)
            for record in doc["objects"]["dns"]:
                record["alias"] += " (changed)"
        with CaptureQueriesContext(connection) as queries:
            summary = transfer.import_document(doc)
        expected = {"create": "created", "re-import": "unchanged", "update": "updated"}[step]
        assert summary.totals[expected] >= (len(doc["objects"]["dns"]) if step == "update" else size)
        counts.append(len(queries))
    assert counts[1] - counts[0] <= 60, counts
