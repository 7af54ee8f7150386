"""The provisioning service (provisioning/services.py): idempotent, overwrite, dry run, grants, hybrid_integration."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from alarms import catalog
from configdb import services
from configdb.models import (
    AlarmCondition,
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    Folder,
    ObjectChange,
    Port,
    Transaction,
)
from provisioning import statserver
from provisioning.environment import environment_file
from provisioning.services import ProvisioningError, provision
from tests.configdb.api_helpers import make_user

CLUSTER, NODE = "Pacing_Service_Cluster_9.0", "Pacing_Server_Node_01"


def snapshot():
    conditions = {c.name: (c.folder_id, c.description, c.category, c.timeout, c.detect_event_id, c.cancel_event_id,
                           c.state) for c in AlarmCondition.objects.all()}
    return conditions, Application.objects.get(name="Stat_Server").options, ObjectChange.objects.count()


def unprovision():
    """The demo without what provisioning writes."""
    AlarmCondition.objects.all().delete()
    Folder.objects.filter(name=catalog.FOLDER).delete()
    Application.objects.filter(name="Stat_Server").update(options={})


def test_the_demo_is_provisioned_and_a_second_run_changes_nothing(demo):
    rows = {c.name: c for c in AlarmCondition.objects.filter(tenant=demo)}
    assert set(rows) == {c.code for c in catalog.CONDITIONS}
    for spec in catalog.CONDITIONS:
        row = rows[spec.code]
        assert (row.folder.name, row.category, row.timeout, row.detect_event_id, row.cancel_event_id) == (
            "PacingService", "major", 86400, spec.detect_event_id, spec.cancel_event_id)
    options = Application.objects.get(name="Stat_Server").options
    for section, keys in statserver.STATISTICS.items():
        assert options[section] == keys
    assert options["filters"] == statserver.FILTERS
    before = snapshot()
    for name in (CLUSTER, NODE):
        plan = provision(name)
        assert plan.changes == [] and plan.kept == [] and plan.applied
    assert snapshot() == before  # nothing written, not even a history row


def test_first_run_creates_everything_then_nothing(demo):
    unprovision()
    plan = provision(NODE)
    assert (plan.kind, plan.cluster, plan.tenant, plan.stat_servers) == ("node", CLUSTER, "Environment",
                                                                       ["Stat_Server"])
    assert plan.counts() == {"create": 1 + 5 + 3 + 1, "replace": 0}
    objects = {c.object for c in plan.changes}
    assert "PacingService / GC Latency" in objects and "Stat_Server [PACS_VQ_Current]" in objects
    assert "Stat_Server [filters] PACS_Proactive_Interaction" in objects
    assert AlarmCondition.objects.count() == 5
    before = snapshot()
    again = provision(NODE)
    assert again.changes == [] and snapshot() == before


def test_existing_objects_are_kept_unless_overwrite_which_replaces_them_and_says_what_is_lost(demo):
    condition = AlarmCondition.objects.get(name="GC Latency")
    condition.timeout, condition.description = 60, "tuned by hand"
    condition.save()
    stat = Application.objects.get(name="Stat_Server")
    stat.options = {**stat.options, "PACS_VQ_Current": {"Category": "Mine", "Extra": "1"},
                    "filters": {"PACS_Proactive_Interaction": "PairExists(mine)", "Other": "keep me"},
                    "statserver": {"own": "x"}}
    stat.save()
    kept = provision(CLUSTER)
    assert kept.changes == []
    assert {k.object for k in kept.kept} == {"PacingService / GC Latency", "Stat_Server [PACS_VQ_Current]",
                                             "Stat_Server [filters] PACS_Proactive_Interaction"}
    assert AlarmCondition.objects.get(name="GC Latency").timeout == 60

    dry = provision(CLUSTER, overwrite=True, dry_run=True)
    assert {c.action for c in dry.changes} == {"replace"}
    lost = {c.object: c.lost for c in dry.changes}
    assert set(lost["PacingService / GC Latency"]) == {"description: 'tuned by hand'", "timeout: 60"}
    assert set(lost["Stat_Server [PACS_VQ_Current]"]) == {"Category=Mine", "Extra=1 (removed)"}
    assert lost["Stat_Server [filters] PACS_Proactive_Interaction"] == ("PACS_Proactive_Interaction=PairExists(mine)",)
    assert AlarmCondition.objects.get(name="GC Latency").timeout == 60  # the dry run wrote nothing

    pk = condition.pk
    plan = provision(CLUSTER, overwrite=True)
    assert plan.applied and len(plan.changes) == 3
    condition = AlarmCondition.objects.get(name="GC Latency")
    assert (condition.pk, condition.timeout) == (pk, 86400)
    assert condition.description == catalog.get("GC Latency").description
    options = Application.objects.get(name="Stat_Server").options
    assert options["PACS_VQ_Current"] == statserver.STATISTICS["PACS_VQ_Current"]
    assert options["filters"] == {"PACS_Proactive_Interaction": "PairExists(_pacing_proactive)", "Other": "keep me"}
    assert options["statserver"] == {"own": "x"}  # not ours: never touched
    assert provision(CLUSTER, overwrite=True).changes == []


def test_dry_run_lists_the_changes_and_writes_nothing(demo):
    unprovision()
    before = snapshot()
    plan = provision(CLUSTER, dry_run=True)
    assert plan.dry_run and not plan.applied
    assert plan.counts()["create"] == 10
    assert all(c.object for c in plan.changes)
    assert snapshot() == before
    assert "dry_run" in plan.as_dict() and len(plan.as_dict()["changes"]) == 10


def test_a_read_only_grant_can_dry_run_but_not_apply(demo):
    AlarmCondition.objects.filter(name="GC Latency").delete()
    reader = make_user("reader", grants={demo: "read"})
    plan = provision(CLUSTER, user=reader, dry_run=True)
    assert [c.object for c in plan.changes] == ["PacingService / GC Latency"]
    with pytest.raises(PermissionDenied, match="read-only grant allows the dry run only"):
        provision(CLUSTER, user=reader)
    assert not AlarmCondition.objects.filter(name="GC Latency").exists()
    call_command("load_demo", stdout=io.StringIO())
    with pytest.raises(PermissionDenied):  # nothing to change: still refused, applying is a write
        provision(CLUSTER, user=reader)
    writer = make_user("writer", grants={demo: "write"})
    assert provision(CLUSTER, user=writer).applied
    stranger = make_user("stranger")
    with pytest.raises(ProvisioningError, match="No application named"):
        provision(CLUSTER, user=stranger, dry_run=True)


def test_hybrid_integration_is_never_touched(demo):
    txn = Transaction.objects.get(name="hybrid_integration")
    txn.annex = {"general": {"base_auth_url": "https://x/oauth/token"}}  # incomplete: still not provisioning's
    txn.save()
    stored = (txn.annex, txn.modified)
    history = ObjectChange.objects.filter(content_type__model="transaction").count()
    AlarmCondition.objects.all().delete()
    for kwargs in ({}, {"overwrite": True}):
        provision(CLUSTER, **kwargs)
    txn.refresh_from_db()
    assert (txn.annex, txn.modified) == stored
    assert ObjectChange.objects.filter(content_type__model="transaction").count() == history


def test_a_backup_stat_server_gets_the_statistics_too(demo):
    stat = Application.objects.get(name="Stat_Server")
    backup = services.save_object(Application(tenant=demo, name="Stat_Server_Backup", template=stat.template,
                                              host=stat.host, working_directory=".", command_line="."))
    stat.backup_server = backup
    stat.save()
    plan = provision(CLUSTER)
    assert plan.stat_servers == ["Stat_Server", "Stat_Server_Backup"]
    assert Application.objects.get(name="Stat_Server_Backup").options["PACS_VQ_Abandoned"] == \
        statserver.STATISTICS["PACS_VQ_Abandoned"]


def test_what_cannot_be_provisioned_is_refused_with_a_reason(demo):
    with pytest.raises(ProvisioningError, match="No application named 'Nope'"):
        provision("Nope")
    with pytest.raises(ProvisioningError, match="is a Stat Server"):
        provision("Stat_Server")
    Connection.objects.filter(application__name=CLUSTER, server__name="Stat_Server").delete()
    with pytest.raises(ProvisioningError, match="no connection to a Stat Server"):
        provision(CLUSTER)
    template = ApplicationTemplate.objects.get(name="Pacing_Server")
    lonely = services.save_object(Application(tenant=demo, name="Lonely_Node", template=template,
                                              host=Application.objects.get(name=NODE).host,
                                              working_directory=".", command_line="."))
    assert lonely.app_type == ApplicationType.GENESYS_GENERIC_SERVER
    with pytest.raises(ProvisioningError, match="no connection to a pacing cluster"):
        provision("Lonely_Node")


def test_two_stat_servers_that_are_not_a_pair_are_refused(demo):
    stat = Application.objects.get(name="Stat_Server")
    other = services.save_object(Application(tenant=demo, name="Stat_Server_2", template=stat.template,
                                             host=stat.host, working_directory=".", command_line="."))
    services.save_object(Port(application=other, port_id="default", port=7001))
    services.save_object(Connection(application=Application.objects.get(name=CLUSTER), server=other,
                                    port_id="default"))
    with pytest.raises(ProvisioningError, match="uses only one"):
        provision(CLUSTER, dry_run=True)


def test_the_environment_file_of_a_node(demo, monkeypatch, settings):
    monkeypatch.setenv("DATABASE_URL", "postgres://pacing:s3cret@db.example:5432/pacing")
    settings.REDIS_URL = "redis://:r3dis@redis.example:6379/0"
    text = environment_file(NODE)
    lines = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert lines["PACING_NODE_APPLICATION"] == NODE and lines["PACING_NODE_NAME"] == NODE
    assert lines["DATABASE_URL"] == "postgres://pacing:CHANGE_ME@db.example:5432/pacing"
    assert lines["REDIS_URL"] == "redis://:CHANGE_ME@redis.example:6379/0"
    assert lines["PACING_SECRETS_KEY"] == "" and lines["SECRET_KEY"] == ""
    assert "s3cret" not in text and "r3dis" not in text
    with pytest.raises(ProvisioningError, match="is the cluster"):
        environment_file(CLUSTER)


def test_the_environment_file_of_a_sentinel_console(demo, settings):
    """A Sentinel target keeps its multi-host URL (password replaced), and the password variables the console
    uses are named, empty, for the operator to copy."""
    settings.REDIS_URL = "redis+sentinel://:r3dis@s1.example:26379,s2.example:26379/pacing/2"
    settings.REDIS_PASSWORD, settings.REDIS_SENTINEL_PASSWORD = "", "s3ntinel"
    text = environment_file(NODE)
    lines = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert lines["REDIS_URL"] == "redis+sentinel://:CHANGE_ME@s1.example:26379,s2.example:26379/pacing/2"
    assert lines["REDIS_SENTINEL_PASSWORD"] == "" and "REDIS_PASSWORD" not in lines
    assert "r3dis" not in text and "s3ntinel" not in text


def test_manage_py_provision(demo):
    AlarmCondition.objects.filter(name="GC Latency").delete()
    out = io.StringIO()
    call_command("provision", CLUSTER, "--dry-run", stdout=out)
    assert "create alarm condition 'PacingService / GC Latency'" in out.getvalue()
    assert "nothing was written" in out.getvalue()
    assert not AlarmCondition.objects.filter(name="GC Latency").exists()
    out = io.StringIO()
    call_command("provision", "--app", NODE, stdout=out)
    assert out.getvalue().splitlines()[-1] == "Provisioning script successfully finished his work"
    assert AlarmCondition.objects.filter(name="GC Latency").exists()
    change = ObjectChange.objects.filter(object_repr="GC Latency", action="create").latest("pk")
    assert change.actor == "command:provision"
    with pytest.raises(CommandError, match="No application named 'Nope'"):
        call_command("provision", "Nope", stdout=io.StringIO())
