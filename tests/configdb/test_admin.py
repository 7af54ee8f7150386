"""The admin: every page renders, lists show GAX's columns, actions and the options import/export work."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from configdb import services
from configdb.models import (
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationType,
    DatabaseAccessPoint,
    Folder,
    ImportJob,
    ObjectChange,
    State,
    TenantGrant,
    Transaction,
    VirtualQueue,
)

from . import factories as f

CONFIGDB_MODELS = sorted(
    (m for m in admin.site._registry if m._meta.app_label == "configdb"), key=lambda m: m._meta.model_name
)


@pytest.fixture
def full(demo):
    """The demo plus the objects the demo has none of (a DAP), so every change page has an object."""
    tmpl = f.template(demo, name="T_DAP", app_type=ApplicationType.DATABASE_ACCESS_POINT)
    services.save_object(DatabaseAccessPoint(tenant=demo, name="IXN_DAP", template=tmpl, dbms_type="postgre",
                                             database_name="ixn", db_username="genesys", db_password="dap-pw-123",
                                             options={"settings": {"dbprotocol": "odbc"}}))
    operator = get_user_model().objects.create_user("operator", password="x")
    TenantGrant.objects.create(user=operator, tenant=demo, access="read")
    ImportJob.objects.create(user=operator, tenant="Environment", state="succeeded", summary={"tenant": "Environment"})
    return demo


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", CONFIGDB_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_add_and_change_pages_render(admin_client, full, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "changelist"), {"q": "Proactive"}).status_code == 200
    read_only = model in (ObjectChange, ImportJob)
    assert admin_client.get(url(model, "add")).status_code == (403 if read_only else 200)
    obj = model._default_manager.first()
    assert obj is not None, f"no {model.__name__} to open"
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200


def test_index_groups_objects_as_gax_does(admin_client, full):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for section in ("Environment", "Switching", "Accounts", "Routing / eServices"):
        assert section in page


def test_alarm_condition_list_has_gax_columns(admin_client, full):
    page = admin_client.get(url(AlarmCondition, "changelist")).content.decode()
    for header in ("Name", "Description", "Category", "Timeout", "Detect event", "Cancel event"):
        assert header.lower() in page.lower()
    assert "PacingRequestsFailed" in page and "100603" in page


def test_lists_filter_by_tenant_folder_type_and_state(admin_client, full):
    folder = Folder.objects.get(name="PacingService")
    page = admin_client.get(url(AlarmCondition, "changelist"), {"folder": str(folder.pk)}).content.decode()
    assert "GC Latency" in page
    page = admin_client.get(url(AlarmCondition, "changelist"), {"folder": "none"}).content.decode()
    assert "GC Latency" not in page
    page = admin_client.get(url(Application, "changelist"), {"app_type__exact": "stat_server"}).content.decode()
    assert "Stat_Server" in page and "Message_Server" not in page
    page = admin_client.get(url(VirtualQueue, "changelist"), {"tenant__id__exact": str(full.pk)}).content.decode()
    assert "Proactive Voice" in page
    page = admin_client.get(url(VirtualQueue, "changelist"), {"state__exact": "disabled"}).content.decode()
    assert "Proactive Voice" not in page


def test_virtual_queue_list_shows_pacing_options(admin_client, full):
    page = admin_client.get(url(VirtualQueue, "changelist")).content.decode()
    assert "Proactive Chat" in page and "chat" in page and "voice" in page


def test_enable_disable_and_clone_actions(admin_client, full):
    group = AgentGroup.objects.get(name="Proactive Blended")
    changelist = url(AgentGroup, "changelist")
    admin_client.post(changelist, {"action": "disable", "_selected_action": [group.pk]})
    group.refresh_from_db()
    assert group.state == State.DISABLED
    admin_client.post(changelist, {"action": "enable", "_selected_action": [group.pk]})
    group.refresh_from_db()
    assert group.state == State.ENABLED
    admin_client.post(changelist, {"action": "clone", "_selected_action": [group.pk]})
    copy = AgentGroup.objects.get(name="Proactive Blended (copy)")
    assert sorted(copy.origination_dns.values_list("number", flat=True)) == ["Proactive Chat", "Proactive Voice"]


def test_clone_application_copies_ports_connections_and_tenants(admin_client, full):
    node = Application.objects.get(name="Pacing_Server_Node_01")
    admin_client.post(url(Application, "changelist"), {"action": "clone", "_selected_action": [node.pk]})
    copy = Application.objects.get(name="Pacing_Server_Node_01 (copy)")
    assert list(copy.ports.values_list("port_id", "port")) == [("default", 9081)]
    assert [c.server.name for c in copy.connections.all()] == ["Pacing_Service_Cluster_9.0"]
    assert list(copy.tenants.values_list("name", flat=True)) == ["Environment"]
    assert copy.app_type == node.app_type and copy.template_id == node.template_id


def test_type_and_template_are_read_only_on_change(admin_client, full):
    app = Application.objects.get(name="Stat_Server")
    page = admin_client.get(url(Application, "change", app.pk)).content.decode()
    assert 'name="app_type"' not in page and 'name="template"' not in page


def _vq_form(vq, **overrides):
    data = {
        "number": vq.number, "switch": vq.switch_id, "alias": vq.alias, "association": "", "register": vq.register,
        "route_type": vq.route_type, "folder": "", "state": vq.state, "options-present": "1",
        "options-section": ["pacing", "pacing"], "options-key": ["media", "optimizationGoal"],
        "options-value": ["chat", "3"],
    }
    data.update(overrides)
    return data


def test_options_editor_saves_rows(admin_client, full):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    data = _vq_form(vq, **{"options-section": ["pacing", "pacing", "gpe", ""],
                           "options-key": ["media", "optimizationGoal", "priority", ""],
                           "options-value": ["chat", "2.5", "high", ""]})
    response = admin_client.post(url(VirtualQueue, "change", vq.pk), data)
    assert response.status_code == 302
    vq.refresh_from_db()
    assert vq.options == {"pacing": {"media": "chat", "optimizationGoal": "2.5"}, "gpe": {"priority": "high"}}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ((["pacing", ""], ["media", "k"], ["chat", "v"]), "row 2: the section name is empty"),
        ((["pacing", "pacing"], ["media", "media"], ["chat", "voice"]), "key &#x27;media&#x27; appears twice"),
        ((["pacing"], ["media"], ["x" * 5000]), "longer than 4096"),
        ((["pacing", "pacing"], ["media"], ["chat"]), "not sent whole"),
    ],
)
def test_options_editor_bad_input_shows_the_problem_and_saves_nothing(admin_client, full, rows, message):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    before = dict(vq.options)
    data = _vq_form(vq, **{"options-section": rows[0], "options-key": rows[1], "options-value": rows[2],
                           "alias": "changed alias"})
    response = admin_client.post(url(VirtualQueue, "change", vq.pk), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    vq.refresh_from_db()
    assert vq.options == before and vq.alias == "Proactive Chat"


def test_options_export_and_import_round_trip(admin_client, full):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    response = admin_client.get(url(VirtualQueue, "export_options", vq.pk, "options"))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-options.txt"')
    text = response.content.decode()
    assert text == "[pacing]\nmedia=chat\noptimizationGoal=3\n"

    vq.options = {}
    services.save_object(vq)
    upload = SimpleUploadedFile("opts.txt", text.encode(), content_type="text/plain")
    response = admin_client.post(url(VirtualQueue, "import_options", vq.pk, "options"), {"file": upload})
    assert response.status_code == 302
    vq.refresh_from_db()
    assert vq.options == {"pacing": {"media": "chat", "optimizationGoal": "3"}}


def test_options_import_merges_or_replaces(admin_client, full):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    upload = SimpleUploadedFile("opts.txt", b"[gpe]\npriority=high\n")
    admin_client.post(url(VirtualQueue, "import_options", vq.pk, "options"), {"file": upload})
    vq.refresh_from_db()
    assert set(vq.options) == {"pacing", "gpe"}
    upload = SimpleUploadedFile("opts.txt", b"[gpe]\npriority=low\n")
    admin_client.post(url(VirtualQueue, "import_options", vq.pk, "options"), {"file": upload, "replace": "on"})
    vq.refresh_from_db()
    assert vq.options == {"gpe": {"priority": "low"}}


def test_options_import_bad_file_names_the_line_and_writes_nothing(admin_client, full):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    before = dict(vq.options)
    upload = SimpleUploadedFile("opts.txt", b"[pacing]\nmedia=voice\nthis is not an option\n")
    response = admin_client.post(url(VirtualQueue, "import_options", vq.pk, "options"), {"file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page and "line 3" in page
    vq.refresh_from_db()
    assert vq.options == before
    upload = SimpleUploadedFile("opts.bin", b"\x00\x01\x02\xff")
    response = admin_client.post(url(VirtualQueue, "import_options", vq.pk, "options"), {"file": upload})
    assert response.status_code == 400 and "not UTF-8" in response.content.decode()


def test_options_pages_for_unknown_field_or_object_are_404(admin_client, full):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    assert admin_client.get(url(VirtualQueue, "export_options", vq.pk, "annex")).status_code == 404
    assert admin_client.get(url(VirtualQueue, "export_options", 999999, "options")).status_code in (302, 404)


def test_secrets_are_masked_in_the_admin_and_exports(admin_client, full):
    txn = Transaction.objects.get(name="hybrid_integration")
    page = admin_client.get(url(Transaction, "change", txn.pk)).content.decode()
    assert "demo-client-secret" not in page
    text = admin_client.get(url(Transaction, "export_options", txn.pk, "annex")).content.decode()
    assert "demo-client-secret" not in text and "password=********" in text
    upload = SimpleUploadedFile("annex.txt", text.encode())
    admin_client.post(url(Transaction, "import_options", txn.pk, "annex"), {"file": upload})
    txn.refresh_from_db()
    assert txn.annex["ewt"]["password"] == "demo-client-secret"

    dap = DatabaseAccessPoint.objects.get(name="IXN_DAP")
    page = admin_client.get(url(DatabaseAccessPoint, "change", dap.pk)).content.decode()
    assert "dap-pw-123" not in page
    changelist = admin_client.get(url(DatabaseAccessPoint, "changelist")).content.decode()
    assert "dap-pw-123" not in changelist


def test_dap_password_is_kept_when_left_blank(admin_client, full):
    dap = DatabaseAccessPoint.objects.get(name="IXN_DAP")
    data = {
        "name": dap.name, "version": dap.version, "tenant": dap.tenant_id, "folder": "", "state": "enabled",
        "dbms_name": "pg1", "dbms_type": "postgre", "database_name": "ixn", "db_username": "genesys",
        "db_password": "", "query_timeout": "0", "options-present": "1", "options-section": ["settings"],
        "options-key": ["dbprotocol"], "options-value": ["odbc"],
        "applicationtenant_set-TOTAL_FORMS": "0", "applicationtenant_set-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url(DatabaseAccessPoint, "change", dap.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    dap.refresh_from_db()
    assert dap.dbms_name == "pg1" and dap.db_password == "dap-pw-123"


def test_saving_without_changes_records_no_change_to_a_secret(admin_client, full):
    from django.contrib.admin.models import LogEntry

    txn = Transaction.objects.get(name="hybrid_integration")
    data = {"name": txn.name, "alias": txn.alias, "transaction_type": txn.transaction_type, "description": "",
            "tenant": txn.tenant_id, "folder": txn.folder_id, "state": txn.state, "annex-present": "1",
            "annex-section": ["ewt", "ewt", "general", "general"],
            "annex-key": ["client_id", "password", "base_auth_url", "base_service_url"],
            "annex-value": [txn.annex["ewt"]["client_id"], "", txn.annex["general"]["base_auth_url"],
                            txn.annex["general"]["base_service_url"]]}
    assert admin_client.post(url(Transaction, "change", txn.pk), data).status_code == 302
    entry = LogEntry.objects.filter(object_id=str(txn.pk)).latest("action_time")
    assert "Annex" not in entry.get_change_message()
    txn.refresh_from_db()
    assert txn.annex["ewt"]["password"] == "demo-client-secret"


def test_an_object_with_the_most_option_keys_the_model_allows_is_saved_in_the_admin(admin_client, full):
    """10,000 keys (configdb.options.MAX_KEYS), posted as a browser posts the form (url-encoded, three fields a
    row): saved, not refused by Django's field limit (which the settings size for two such tables: an
    application's options and annex)."""
    from urllib.parse import urlencode

    from django.conf import settings

    from configdb import options as opts

    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS >= 2 * 3 * opts.MAX_KEYS
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    keys = [f"key{i:05d}" for i in range(opts.MAX_KEYS - 2)]
    data = _vq_form(vq, **{"options-section": ["pacing", "pacing", *["custom"] * len(keys)],
                           "options-key": ["media", "optimizationGoal", *keys],
                           "options-value": ["chat", "3", *[f"value of {k}" for k in keys]]})
    body = urlencode(data, doseq=True)
    response = admin_client.post(url(VirtualQueue, "change", vq.pk), body,
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302, response.content[:500]
    vq.refresh_from_db()
    assert sum(len(k) for k in vq.options.values()) == opts.MAX_KEYS
    assert vq.options["custom"]["key09997"] == "value of key09997"
    page = admin_client.get(url(VirtualQueue, "change", vq.pk))
    assert page.status_code == 200 and b"key09997" in page.content

    data["options-section"].append("custom")  # one more key than the model allows: a message, not a 400
    data["options-key"].append("one too many")
    data["options-value"].append("x")
    response = admin_client.post(url(VirtualQueue, "change", vq.pk), urlencode(data, doseq=True),
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert b"too many options" in response.content
