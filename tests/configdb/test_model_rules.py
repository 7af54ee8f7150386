"""The rules of the object model, enforced in clean() so every path (admin, API, commands) has them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from configdb import services
from configdb.models import (
    DN,
    AgentGroup,
    AgentGroupType,
    AlarmCondition,
    Application,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    DNType,
    Folder,
    FolderType,
    Port,
    Transaction,
    TransactionType,
    VirtualQueue,
    validate_skill_expression,
)

from . import factories as f


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


def test_application_names_are_unique(env_tenant):
    f.application(env_tenant, "App1")
    tmpl = f.template(env_tenant, name="T2")
    with pytest.raises(ValidationError) as err:
        services.save_object(Application(tenant=env_tenant, name="App1", template=tmpl, host=f.host(env_tenant),
                                         working_directory=".", command_line="."))
    assert "name" in errors_of(err)


def test_type_comes_from_the_template_and_must_match_it(env_tenant):
    tmpl = f.template(env_tenant, name="T_Stat", app_type=ApplicationType.STAT_SERVER)
    app = Application(tenant=env_tenant, name="Stat", template=tmpl, host=f.host(env_tenant),
                      working_directory=".", command_line=".")
    services.save_object(app)
    assert (app.app_type, app.version) == (ApplicationType.STAT_SERVER, "9.0.0")
    other = Application(tenant=env_tenant, name="Mismatch", template=tmpl, app_type=ApplicationType.MESSAGE_SERVER,
                        host=f.host(env_tenant), working_directory=".", command_line=".")
    with pytest.raises(ValidationError) as err:
        services.save_object(other)
    assert "is for Stat Server" in errors_of(err)["template"][0]


def test_new_application_starts_with_the_template_options(env_tenant):
    tmpl = f.template(env_tenant, name="T_Opts", default_options={"log": {"verbose": "all"}})
    app = f.application(env_tenant, "WithDefaults", tmpl=tmpl)
    assert app.options == {"log": {"verbose": "all"}}


def test_type_and_template_cannot_change_after_creation(env_tenant):
    app = f.application(env_tenant, "Fixed")
    app.app_type = ApplicationType.STAT_SERVER
    with pytest.raises(ValidationError) as err:
        services.save_object(app)
    assert "cannot change after creation" in " ".join(errors_of(err)["app_type"])
    app.refresh_from_db()
    app.template = f.template(env_tenant, name="T_Other")
    with pytest.raises(ValidationError) as err:
        services.save_object(app)
    assert "cannot change after creation" in " ".join(errors_of(err)["template"])


def test_a_server_needs_host_directory_and_command_line(env_tenant):
    tmpl = f.template(env_tenant)
    with pytest.raises(ValidationError) as err:
        services.save_object(Application(tenant=env_tenant, name="Bare", template=tmpl))
    assert {"host", "working_directory", "command_line"} <= set(errors_of(err))


def test_port_id_is_unique_per_application(env_tenant):
    one = f.application(env_tenant, "One")
    two = f.application(env_tenant, "Two")
    services.save_object(Port(application=two, port_id="clustering", port=7800))
    with pytest.raises(ValidationError) as err:
        services.save_object(Port(application=one, port_id="default", port=9999))
    assert "already has a port with this ID" in str(err.value)
    with pytest.raises(ValidationError) as err:
        services.save_object(Port(application=one, port_id="bad id!", port=70000))
    assert {"port_id", "port"} <= set(errors_of(err))


def test_connection_names_a_port_the_target_has(env_tenant):
    cluster = f.application(env_tenant, "Cluster", ports=(("default", 9081),))
    node = f.application(env_tenant, "Node")
    services.save_object(Connection(application=node, server=cluster, port_id="default"))
    with pytest.raises(ValidationError) as err:
        services.save_object(Connection(application=node, server=cluster, port_id="clustering"))
    assert "has no port with ID 'clustering' (its ports: default)" in errors_of(err)["port_id"][0]
    with pytest.raises(ValidationError) as err:
        services.save_object(Connection(application=node, server=node, port_id="default"))
    assert "cannot connect to itself" in errors_of(err)["server"][0]


def test_dn_number_is_unique_per_switch(env_tenant):
    sw1, sw2 = f.switch(env_tenant, "SW1"), f.switch(env_tenant, "SW2")
    services.save_object(DN(switch=sw1, number="1000", dn_type=DNType.EXTENSION))
    services.save_object(DN(switch=sw2, number="1000", dn_type=DNType.EXTENSION))
    with pytest.raises(ValidationError) as err:
        services.save_object(DN(switch=sw1, number="1000", dn_type=DNType.ACD_QUEUE))
    assert "already has a DN with this number" in str(err.value)


def test_dn_belongs_to_its_switchs_tenant(env_tenant, other_tenant):
    sw = f.switch(env_tenant)
    dn = services.save_object(DN(switch=sw, number="2000", dn_type=DNType.EXTENSION))
    assert dn.tenant == env_tenant
    with pytest.raises(ValidationError) as err:
        services.save_object(DN(switch=sw, number="2001", dn_type=DNType.EXTENSION, tenant=other_tenant))
    assert "switch" in errors_of(err)


def test_virtual_queue_is_a_dn_of_type_virtual_queue(env_tenant):
    sw = f.switch(env_tenant)
    vq = services.save_object(VirtualQueue(switch=sw, number="VQ1", alias="VQ1"))
    services.save_object(DN(switch=sw, number="3000", dn_type=DNType.EXTENSION))
    assert DN.objects.get(pk=vq.pk).dn_type == DNType.VIRTUAL_QUEUE
    assert list(VirtualQueue.objects.values_list("number", flat=True)) == ["VQ1"]


@pytest.mark.parametrize("field", ["options"])
def test_options_are_validated_on_every_save(env_tenant, field):
    sw = f.switch(env_tenant)
    vq = VirtualQueue(switch=sw, number="VQ2", options={"pacing": {"": "chat"}})
    with pytest.raises(ValidationError) as err:
        services.save_object(vq)
    assert "key name is empty" in errors_of(err)[field][0]
    vq.options = {"pacing": {"media": "x" * 5000}}
    with pytest.raises(ValidationError) as err:
        services.save_object(vq)
    assert "longer than 4096" in errors_of(err)[field][0]
    assert not VirtualQueue.objects.filter(number="VQ2").exists()


def test_annex_is_validated_too(env_tenant):
    with pytest.raises(ValidationError) as err:
        services.save_object(Transaction(tenant=env_tenant, name="t", transaction_type=TransactionType.LIST,
                                         annex={"ewt": {"password": "a\x00b"}}))
    assert "NUL" in errors_of(err)["annex"][0]


def test_folder_must_hold_the_objects_type(env_tenant):
    apps = services.save_object(Folder(tenant=env_tenant, name="Apps", folder_type=FolderType.APPLICATIONS))
    with pytest.raises(ValidationError) as err:
        services.save_object(AlarmCondition(tenant=env_tenant, name="A", detect_event_id=1, folder=apps))
    assert "holds Applications, not Alarm Conditions" in errors_of(err)["folder"][0]


def test_folders_nest_without_cycles_and_names_are_unique_per_parent(env_tenant):
    top = services.save_object(Folder(tenant=env_tenant, name="Top", folder_type=FolderType.DNS))
    child = services.save_object(Folder(tenant=env_tenant, name="Child", folder_type=FolderType.DNS, parent=top))
    assert child.path == "Top / Child"
    top.parent = child
    with pytest.raises(ValidationError, match="inside itself"):
        services.save_object(top)
    with pytest.raises(ValidationError, match="already exists"):
        services.save_object(Folder(tenant=env_tenant, name="Top", folder_type=FolderType.DNS))
    services.save_object(Folder(tenant=env_tenant, name="Top", folder_type=FolderType.HOSTS))


def test_virtual_agent_group_needs_a_valid_skill_expression(env_tenant):
    with pytest.raises(ValidationError) as err:
        services.save_object(AgentGroup(tenant=env_tenant, name="V", group_type=AgentGroupType.VIRTUAL))
    assert "needs a skill expression" in errors_of(err)["skill_expression"][0]
    group = AgentGroup(tenant=env_tenant, name="V", group_type=AgentGroupType.VIRTUAL, skill_expression="Spanish >")
    with pytest.raises(ValidationError):
        services.save_object(group)
    group.skill_expression = "Spanish > 5"
    services.save_object(group)
    with pytest.raises(ValidationError) as err:
        services.save_object(AgentGroup(tenant=env_tenant, name="R", skill_expression="Spanish > 5"))
    assert "Only a virtual agent group" in errors_of(err)["skill_expression"][0]


@pytest.mark.parametrize("expression", ["Spanish > 5", "Spanish >= 5 & (Sales = 3 | Chat != 1)",
                                        "Tech Support > 2 AND Billing < 9", "((A > 1))"])
def test_valid_skill_expressions(expression):
    validate_skill_expression(expression)


@pytest.mark.parametrize("expression", ["Spanish", "> 5", "Spanish > 5 &", "(Spanish > 5", "Spanish > 5)",
                                        "Spanish > five", "Spanish > 5 ; drop"])
def test_invalid_skill_expressions(expression):
    with pytest.raises(ValidationError):
        validate_skill_expression(expression)


def test_alarm_condition_events(env_tenant):
    with pytest.raises(ValidationError) as err:
        services.save_object(AlarmCondition(tenant=env_tenant, name="A", detect_event_id=5, cancel_event_id=5))
    assert "cancel_event_id" in errors_of(err)
    services.save_object(AlarmCondition(tenant=env_tenant, name="A", detect_event_id=5, cancel_event_id=6))
    with pytest.raises(ValidationError, match="already has an alarm condition"):
        services.save_object(AlarmCondition(tenant=env_tenant, name="A", detect_event_id=7))


def test_transaction_name_is_unique_per_type(env_tenant):
    services.save_object(Transaction(tenant=env_tenant, name="hybrid_integration",
                                     transaction_type=TransactionType.LIST))
    services.save_object(Transaction(tenant=env_tenant, name="hybrid_integration",
                                     transaction_type=TransactionType.MAP))
    with pytest.raises(ValidationError, match="already has a transaction"):
        services.save_object(Transaction(tenant=env_tenant, name="hybrid_integration",
                                         transaction_type=TransactionType.LIST))


def test_database_access_point_is_an_application(env_tenant):
    tmpl = f.template(env_tenant, name="T_DAP", app_type=ApplicationType.DATABASE_ACCESS_POINT)
    dap = services.save_object(DatabaseAccessPoint(tenant=env_tenant, name="IXN_DAP", template=tmpl,
                                                   dbms_type="postgre", database_name="ixn", db_username="genesys",
                                                   db_password="pw", options={"settings": {"dbprotocol": "odbc"}}))
    assert dap.app_type == ApplicationType.DATABASE_ACCESS_POINT and not dap.is_server
    assert Application.objects.filter(name="IXN_DAP").exists()
    tmpl2 = f.template(env_tenant, name="T_GGS2")
    with pytest.raises(ValidationError):
        services.save_object(DatabaseAccessPoint(tenant=env_tenant, name="Bad_DAP", template=tmpl2,
                                                 dbms_type="postgre"))


def test_a_port_in_use_cannot_be_renamed_or_deleted(env_tenant):
    cluster = f.application(env_tenant, "Cluster")
    node = f.application(env_tenant, "Node")
    services.save_object(Connection(application=node, server=cluster, port_id="default"))
    port = cluster.ports.get(port_id="default")
    port.port_id = "renamed"
    with pytest.raises(ValidationError, match="used by connections of Node"):
        services.save_object(port)
    port.refresh_from_db()
    with pytest.raises(ValidationError, match="used by connections of Node"):
        port.delete()
    assert cluster.ports.filter(port_id="default").exists()


def test_a_folder_with_contents_keeps_its_type(env_tenant):
    folder = services.save_object(Folder(tenant=env_tenant, name="Alarms", folder_type=FolderType.ALARM_CONDITIONS))
    services.save_object(AlarmCondition(tenant=env_tenant, name="A", detect_event_id=1, folder=folder))
    folder.folder_type = FolderType.HOSTS
    with pytest.raises(ValidationError, match="cannot change while it holds objects"):
        services.save_object(folder)
    empty = services.save_object(Folder(tenant=env_tenant, name="Empty", folder_type=FolderType.HOSTS))
    empty.folder_type = FolderType.DNS
    services.save_object(empty)


def test_links_stay_inside_one_tenant_on_every_path(env_tenant, other_tenant):
    mine = services.save_object(AgentGroup(tenant=env_tenant, name="Mine"))
    foreign_queue = services.save_object(VirtualQueue(switch=f.switch(other_tenant, "OtherSW"), number="VQx"))
    with pytest.raises(ValidationError, match="another tenant: VQx"), transaction.atomic():
        mine.origination_dns.add(foreign_queue)
    with pytest.raises(ValidationError, match="another tenant"), transaction.atomic():
        foreign_queue.origination_for.add(mine)
    assert not mine.origination_dns.exists()


def test_an_unknown_type_is_a_field_error_not_a_crash(env_tenant):
    tmpl = f.template(env_tenant)
    app = Application(tenant=env_tenant, name="Odd", template=tmpl, app_type="nonsense", host=f.host(env_tenant),
                      working_directory=".", command_line=".")
    with pytest.raises(ValidationError) as err:
        services.save_object(app)
    assert "app_type" in errors_of(err)


def test_cloning_a_person_copies_skills_and_media(demo):
    from configdb.models import Person

    person = Person.objects.get(user_name="blended.agent1")
    copy = services.clone_object(person)
    assert copy.user_name == "blended.agent1 (copy)" and copy.employee_id != person.employee_id
    assert list(copy.skill_levels.values_list("skill__name", "level")) == [("Proactive", 5)]
    assert sorted(copy.media_types.values_list("name", flat=True)) == ["chat", "voice"]
