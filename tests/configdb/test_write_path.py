"""One write path: every admin action and form, every API write route and every command reaches
configdb.services with the acting user (None for a command), and a read-only grant is refused on each.

The architecture test patches the service functions with spies that record the ``user`` they were given
(and still do the work) and every configuration write made while none of them runs (a bypass); the
behavioural tests check what a staff user or an API user with a read grant gets: a refusal, and nothing
written. test_write_walk.py enumerates every route, admin action and view, command and task, and names the
test that walks each.
"""

from __future__ import annotations

import inspect
import io
import json

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import signals
from django.test import Client
from django.urls import reverse

from configdb import bulk, services
from configdb.admin.base import ServiceSaveMixin
from configdb.models import (
    AgentGroup,
    DatabaseAccessPoint,
    ObjectChange,
    Skill,
    State,
    Switch,
    Tenant,
    TenantGrant,
    VirtualQueue,
)

from .api_helpers import body, client_for, dap_template, make_user, send, url
from .test_api_crud import SPECS
from .test_api_crud import ctx as ctx  # noqa: F401  (the fixture the payloads need)

NO_USER = object()


#: configdb models whose rows are not configuration: the history itself, background-import bookkeeping, grants
NOT_CONFIGURATION = frozenset({"objectchange", "importjob", "tenantgrant"})


class Spy:
    """Wraps the service functions; ``calls`` lists (function name, user given). The user is read from the call's
    bound arguments, so a caller passing it by position (the alarms' actions) is seen as well.

    ``bypasses`` lists every configuration write (a configdb model's save, delete or many-to-many change, seen by
    Django's signals) made while no service function was running: a caller that writes around the services."""

    NAMES = ("save_object", "delete_object", "set_links", "set_state", "clone_object", "import_options")

    def __init__(self, monkeypatch):
        from alarms import services as alarm_services

        self.calls: list[tuple[str, object]] = []
        self.bypasses: list[str] = []
        self._depth = 0
        for signal in (signals.post_save, signals.post_delete, signals.m2m_changed):
            # connected for this test only: monkeypatch puts the signal's own receivers (and cache) back after it
            monkeypatch.setattr(signal, "receivers", list(signal.receivers))
            monkeypatch.setattr(signal, "sender_receivers_cache", {})
            signal.connect(self._written, weak=False)
        for name in self.NAMES:
            monkeypatch.setattr(services, name, self._wrap(name, getattr(services, name)))
        for name in ("create_many", "update_many"):
            monkeypatch.setattr(bulk, name, self._wrap(name, getattr(bulk, name)))
        for name in ("acknowledge", "clear"):  # an alarm's operator actions (alarms.services: grant, history)
            monkeypatch.setattr(alarm_services, name, self._wrap(name, getattr(alarm_services, name)))

    def _wrap(self, name, func):
        signature = inspect.signature(func)

        def spy(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs).arguments
            self.calls.append((name, bound.get("user", NO_USER)))
            self._depth += 1
            try:
                return func(*args, **kwargs)
            finally:
                self._depth -= 1

        return spy

    def _written(self, sender, instance=None, action=None, **kwargs):
        if self._depth or action in ("pre_add", "pre_remove", "pre_clear"):
            return
        meta = instance._meta if instance is not None else sender._meta
        if meta.app_label == "configdb" and meta.model_name not in NOT_CONFIGURATION:
            self.bypasses.append(f"{action or 'save/delete'} {meta.label} {instance!r}")

    def users_of_all(self) -> set:
        """Every user any service was given (a write that went through the services as someone)."""
        return {user for _, user in self.calls}

    def users(self, name: str) -> list:
        return [user for called, user in self.calls if called == name]

    def reset(self):
        """Forget the calls so far (the bypasses stay: the test's every write counts)."""
        self.calls.clear()


# -- the API -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", sorted(SPECS))
def test_every_api_write_route_goes_through_the_services(ctx, route, monkeypatch):  # noqa: F811
    spec = SPECS[route]
    root = make_user("root", superuser=True)
    client = client_for(root)
    spy = Spy(monkeypatch)
    payload = spec.build(ctx)

    response = send(client, "post", url(route), [payload])  # bulk create
    assert response.status_code == 201, response.content
    assert spy.users("create_many") == [root]
    pk = body(response)[0]["id"]
    spy.reset()
    assert client.delete(url(route, pk)).status_code == 204
    assert spy.users("delete_object") == [root]

    spy.reset()
    response = send(client, "post", url(route), payload)
    assert response.status_code == 201, response.content
    pk = body(response)["id"]
    assert spy.users("save_object") == [root]
    assert set(spy.users("set_links")) <= {root}

    for method, change in (("put", {**payload, spec.put[0]: spec.put[1]}), ("patch", dict([spec.patch]))):
        spy.reset()
        response = send(client, method, url(route, pk), change)
        assert response.status_code == 200, (method, response.content)
        assert spy.users("save_object") == [root], method
        assert set(spy.users("set_links")) <= {root}

    spy.reset()
    assert client.delete(url(route, pk)).status_code == 204
    assert spy.users("delete_object") == [root]
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


@pytest.mark.parametrize("route", sorted(SPECS))
def test_a_read_grant_is_refused_on_every_api_write_route(ctx, route):  # noqa: F811
    spec = SPECS[route]
    created = send(client_for(make_user("root", superuser=True)), "post", url(route), spec.build(ctx))
    assert created.status_code == 201, created.content
    pk = body(created)["id"]
    reader = client_for(make_user("reader", grants=dict.fromkeys(Tenant.objects.all(), "read")))
    before = reader.get(url(route, pk))
    assert before.status_code == 200
    changes = ObjectChange.objects.count()
    payload = spec.build(ctx)
    if "name" in payload and isinstance(payload["name"], str):
        payload["name"] += " 2"
    attempts = {
        "POST": send(reader, "post", url(route), payload),
        "POST list": send(reader, "post", url(route), [payload]),
        "PUT": send(reader, "put", url(route, pk), {**spec.build(ctx), spec.put[0]: spec.put[1]}),
        "PATCH": send(reader, "patch", url(route, pk), dict([spec.patch])),
        "DELETE": reader.delete(url(route, pk)),
    }
    assert {what: r.status_code for what, r in attempts.items()} == dict.fromkeys(attempts, 403), \
        {what: r.content[:200] for what, r in attempts.items()}
    assert ObjectChange.objects.count() == changes
    assert body(reader.get(url(route, pk))) == body(before)


def test_config_import_goes_through_the_services(demo, monkeypatch):
    root = make_user("root", superuser=True)
    client = client_for(root)
    document = body(client.get("/api/v1/config/export/", {"tenant": "Environment"}))
    document["objects"]["skills"].append({"name": "Imported"})
    spy = Spy(monkeypatch)
    response = send(client, "post", "/api/v1/config/import/", {"document": document})
    assert response.status_code == 200, response.content
    assert spy.users("create_many") == [root]  # new objects: the services' bulk path
    assert set(spy.users("save_object")) <= {root}
    reader = client_for(make_user("reader", grants={demo: "read"}))
    document["objects"]["skills"].append({"name": "Not imported"})
    response = send(reader, "post", "/api/v1/config/import/", {"document": document})
    assert response.status_code == 403
    assert not Skill.objects.filter(name="Not imported").exists()
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


# -- commands --------------------------------------------------------------------------------------------


def test_commands_go_through_the_services_as_no_user(demo, tmp_path, monkeypatch):
    out = io.StringIO()
    call_command("export_config", "--tenant", "Environment", "-o", str(tmp_path / "env.json"), stdout=out)
    document = json.loads((tmp_path / "env.json").read_text())
    document["objects"]["skills"].append({"name": "From a command"})
    (tmp_path / "env.json").write_text(json.dumps(document))
    spy = Spy(monkeypatch)
    call_command("import_config", str(tmp_path / "env.json"), stdout=out, stderr=io.StringIO())
    assert spy.users("create_many") == [None]  # the new skill, through the services' bulk path
    assert Skill.objects.filter(name="From a command").exists()
    spy.reset()
    services.delete_object(AgentGroup.objects.get(name="Proactive Chat"))
    call_command("load_demo", stdout=out)
    assert spy.users("save_object") and set(spy.users("save_object")) == {NO_USER}  # the default: None
    assert spy.users("set_links") and set(spy.users("set_links")) == {NO_USER}  # the group's links too
    assert spy.bypasses == []


# -- the admin -------------------------------------------------------------------------------------------


def configdb_admins():
    return sorted(((m, a) for m, a in admin.site._registry.items() if m._meta.app_label == "configdb"),
                  key=lambda item: item[0]._meta.model_name)


def test_every_configdb_admin_that_writes_saves_through_the_services():
    """Grants, the change history and the import jobs are administration (superuser only, or read-only), not
    configuration."""
    exempt = {"tenantgrant", "objectchange", "importjob"}
    for model, model_admin in configdb_admins():
        if model._meta.model_name not in exempt:
            assert isinstance(model_admin, ServiceSaveMixin), model


def staff(username: str, grants: dict) -> Client:
    user = make_user(username, staff=True, grants=grants)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="configdb"))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def action_objects():
    """One object per admin with actions, and the names of its actions."""
    for model, model_admin in configdb_admins():
        names = {a.__name__ if callable(a) else a for a in model_admin.actions or ()}
        actions = [name for name in ("enable", "disable", "clone") if name in names]
        if actions:
            yield model, actions


@pytest.fixture
def switchboard(demo):
    """The demo, plus a DAP (the demo has none), so every admin with actions has an object."""
    services.save_object(DatabaseAccessPoint(tenant=demo, name="DAP", template=dap_template(demo), dbms_type="postgre",
                                             db_password="pw-1"))
    return demo


def _object_for(model):
    if model is Tenant:
        return Tenant.objects.get(name="Environment")
    if model is Switch:
        return Switch.objects.get(name="MultiMediaSwitch")
    return model._default_manager.filter(tenant__name="Environment").order_by("pk").first()


@pytest.mark.parametrize("model", [m for m, _ in action_objects()], ids=lambda m: m._meta.model_name)
def test_admin_actions_go_through_the_services(switchboard, model, monkeypatch):
    actions = dict(action_objects())[model]
    client = staff("writer", {switchboard: "write"})
    obj = _object_for(model)
    assert obj is not None, model
    changelist = reverse(f"admin:configdb_{model._meta.model_name}_changelist")
    spy = Spy(monkeypatch)
    for action in actions:
        spy.reset()
        response = client.post(changelist, {"action": action, "_selected_action": [obj.pk]})
        assert response.status_code == 302, (action, response.status_code)
        service = {"enable": "set_state", "disable": "set_state", "clone": "clone_object"}[action]
        assert spy.users(service) == [client.user], action
    copy = model._default_manager.filter(**{model.name_field() + "__endswith":
                                            "(copy)"}).first() if "clone" in actions else None
    if copy is not None:
        spy.reset()
        response = client.post(changelist, {"action": "delete_selected", "_selected_action": [copy.pk],
                                            "post": "yes"})
        assert response.status_code == 302
        assert spy.users("delete_object") == [client.user]
        assert not model._default_manager.filter(pk=copy.pk).exists()
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


@pytest.mark.parametrize("model", [m for m, _ in action_objects()], ids=lambda m: m._meta.model_name)
def test_admin_actions_refuse_a_read_grant(switchboard, model):
    actions = dict(action_objects())[model]
    client = staff("reader", {switchboard: "read"})
    obj = _object_for(model)
    before = (model._default_manager.count(), ObjectChange.objects.count(), obj.state)
    changelist = reverse(f"admin:configdb_{model._meta.model_name}_changelist")
    for action in actions:
        response = client.post(changelist, {"action": action, "_selected_action": [obj.pk]}, follow=True)
        assert response.status_code == 200, action
        page = response.content.decode()
        assert "no read-write grant" in page or "Creating a tenant needs a superuser" in page, action
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
    assert response.status_code in (200, 403)
    obj.refresh_from_db()
    assert (model._default_manager.count(), ObjectChange.objects.count(), obj.state) == before


def test_disable_by_a_reader_leaves_the_switch_enabled(switchboard):
    """The issue's case: a read-only staff user disabled and cloned a tenant's switch."""
    client = staff("reader", {switchboard: "read"})
    switch = Switch.objects.get(name="MultiMediaSwitch")
    changelist = reverse("admin:configdb_switch_changelist")
    client.post(changelist, {"action": "disable", "_selected_action": [switch.pk]})
    client.post(changelist, {"action": "clone", "_selected_action": [switch.pk]})
    switch.refresh_from_db()
    assert switch.state == State.ENABLED
    assert not Switch.objects.filter(name__startswith="MultiMediaSwitch (copy").exists()


def test_admin_forms_and_options_import_go_through_the_services(switchboard, monkeypatch):
    client = staff("writer", {switchboard: "write"})
    spy = Spy(monkeypatch)
    switch = Switch.objects.get(name="MultiMediaSwitch")
    change = reverse("admin:configdb_switch_change", args=[switch.pk])
    form = client.get(change).context["adminform"].form
    data = {"name": "MultiMediaSwitch", "switch_type": "sip", "tenant": switch.tenant_id, "state": "enabled",
            "pacing_version": form.initial["pacing_version"], "options-present": "1"}
    response = client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert spy.users("save_object") == [client.user]
    spy.reset()
    response = client.post(reverse("admin:configdb_skill_add"),
                           {"name": "Added", "tenant": switchboard.pk, "state": "enabled"})
    assert response.status_code == 302
    assert spy.users("save_object") == [client.user]
    spy.reset()
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    upload = SimpleUploadedFile("o.txt", b"[pacing]\nmedia=chat\n")
    response = client.post(reverse("admin:configdb_virtualqueue_import_options", args=[queue.pk, "options"]),
                           {"file": upload})
    assert response.status_code == 302
    assert spy.users("import_options") == [client.user]
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_a_read_grant_cannot_post_the_admin_forms(switchboard):
    client = staff("reader", {switchboard: "read"})
    switch = Switch.objects.get(name="MultiMediaSwitch")
    response = client.post(reverse("admin:configdb_switch_change", args=[switch.pk]),
                           {"name": "Renamed", "switch_type": "sip", "tenant": switch.tenant_id, "state": "enabled"})
    assert response.status_code == 403
    response = client.post(reverse("admin:configdb_skill_add"),
                           {"name": "Added", "tenant": switchboard.pk, "state": "enabled"})
    assert response.status_code == 403
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    upload = SimpleUploadedFile("o.txt", b"[pacing]\nmedia=voice\n")
    response = client.post(reverse("admin:configdb_virtualqueue_import_options", args=[queue.pk, "options"]),
                           {"file": upload})
    assert response.status_code == 403
    assert Switch.objects.get(pk=switch.pk).name == "MultiMediaSwitch"
    assert not Skill.objects.filter(name="Added").exists()
    assert VirtualQueue.objects.get(pk=queue.pk).options["pacing"]["media"] == "chat"


def test_the_services_refuse_a_read_grant_whoever_calls_them(switchboard):
    reader = make_user("reader", grants={switchboard: "read"})
    switch = Switch.objects.get(name="MultiMediaSwitch")
    from django.core.exceptions import PermissionDenied

    for call in (lambda: services.set_state([switch], State.DISABLED, user=reader),
                 lambda: services.clone_object(switch, user=reader),
                 lambda: services.save_object(Skill(tenant=switchboard, name="X"), user=reader),
                 lambda: services.delete_object(switch, user=reader),
                 lambda: services.import_options(switch, "options", "[a]\nb=c\n", user=reader),
                 lambda: services.set_links(AgentGroup.objects.first(), "agents", [], user=reader)):
        with pytest.raises(PermissionDenied):
            call()
    assert Switch.objects.get(pk=switch.pk).state == State.ENABLED
    assert TenantGrant.objects.get(user=reader).access == "read"
    assert services.set_state([switch], State.DISABLED) == 1  # a command (no user) may


def test_every_configdb_model_has_restrict(demo, other_tenant):
    """NetBox's restrict(user, action) on every configdb model's manager: reads scoped by grant, writes by a
    read-write grant; None (a command) sees everything."""
    from django.apps import apps

    from .api_helpers import other_tenant_objects

    other_tenant_objects(other_tenant)
    reader = make_user("reader", grants={demo: "read"})
    writer = make_user("writer", grants={demo: "write"})
    for model in apps.get_app_config("configdb").get_models():
        manager = model._default_manager
        everything = set(manager.values_list("pk", flat=True))
        assert set(manager.restrict(None, "change").values_list("pk", flat=True)) == everything, model
        visible = set(manager.restrict(reader, "view").values_list("pk", flat=True))
        assert visible <= everything, model
        assert not manager.restrict(reader, "change").exists(), model
        assert set(manager.restrict(writer, "change").values_list("pk", flat=True)) == \
            set(manager.restrict(writer, "view").values_list("pk", flat=True)), model
        assert not manager.restrict(make_user(f"nobody-{model._meta.model_name}"), "view").exists(), model
    assert list(Switch.objects.restrict(reader).values_list("name", flat=True)) == ["MultiMediaSwitch"]
    with pytest.raises(ValueError):
        Switch.objects.restrict(reader, "destroy")
