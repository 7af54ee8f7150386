"""The walk of every write path, enumerated from the running project rather than listed by hand.

Four inventories are read from the code itself: the API's write operations (every POST, PUT, PATCH and DELETE of
the OpenAPI schema drf-spectacular generates, checked against the URL resolver so a view left out of the schema
is not missed), the admin's actions (``get_actions`` of every ModelAdmin in ``admin.site._registry``) and custom
views (each ModelAdmin's ``get_urls()`` beyond Django's own, and the admin site's extra URLs), and the management
commands and Celery tasks of our apps. Every entry is either

- *probed*: named below with the test that proves it reaches the services (``Spy`` from test_write_path) with the
  acting user (None for a command) and that a read-only grant is refused with nothing written, or
- *allowed*: listed with the reason it writes no configuration (a download, a read-only page, run-time state).

``test_*_are_classified`` fails for a new route, action, view, command or task until someone puts it in one of the
two tables, and for a table entry that no longer exists. The probes reuse the fixtures of the other tests
(``demo``, ``switchboard``, the provisioning wizards' walks).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, get_commands
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from configdb import services
from configdb.admin.base import ServiceSaveMixin
from configdb.models import (
    AlarmCondition,
    Application,
    ApplicationTemplate,
    DatabaseAccessPoint,
    ObjectChange,
    Skill,
    Tenant,
)
from tests.provisioning.helpers import shipped
from tests.provisioning.test_wizard import DEPLOY_WALK

from . import test_write_path
from .api_helpers import body, client_for, make_user, send
from .test_api_crud import SPECS
from .test_write_path import Spy, _object_for, configdb_admins, staff
from .test_write_path import switchboard as switchboard  # noqa: F401  (the fixture the admin probes need)

WRITE_METHODS = ("post", "put", "patch", "delete")
DEMO_CLUSTER = "Pacing_Service_Cluster_9.0"

# -- the inventories ---------------------------------------------------------------------------------------------


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    return generator, generator.get_schema(request=None, public=True)


def api_write_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every write operation the API's schema lists."""
    _, schema = _schema()
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations
            if method in WRITE_METHODS}


def _resolved_views(patterns=None, prefix: str = ""):
    """(route, view class, write methods) of every URL under /api/, walked from the URL resolver."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _resolved_views(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.lstrip("^").startswith("api/"):
            callback = entry.callback
            cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            if cls is None:  # a function view: its methods are unknown, so it counts as writing (and is flagged)
                yield route, callback, {"post"}
                continue
            actions = getattr(callback, "actions", None)
            methods = set(actions) if actions else {m for m in cls.http_method_names if hasattr(cls, m)}
            writes = methods & set(WRITE_METHODS)
            if writes:
                yield route, cls, writes


def admin_actions() -> set[tuple[str, str]]:
    """(app_label.model_name, action) of every action every registered ModelAdmin offers a superuser."""
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    return {(model._meta.label_lower, name) for model, model_admin in admin.site._registry.items()
            for name in model_admin.get_actions(request)}


#: the views every ModelAdmin has (Django's own, through the ServiceSaveMixin when the admin writes)
STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")


def admin_views() -> set[str]:
    """URL names of the admin's views beyond Django's own: each ModelAdmin's extra ``get_urls()`` and the admin
    site's extra pages."""
    names = set()
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name is None:  # only Django's redirect of an object's bare URL to its change page has no name
                assert str(pattern.pattern) == "<path:object_id>/", (model, str(pattern.pattern))
            if name is not None and not (name.startswith(prefix) and name[len(prefix):] in STANDARD_VIEWS):
                names.add(name)
    django_own = {getattr(p, "name", None) for p in AdminSite().get_urls()}
    names |= {p.name for p in admin.site.get_urls()
              if isinstance(p, URLPattern) and p.name not in django_own and p.name != "app_list"}
    return names


def our_apps() -> set[str]:
    """The project's apps: under the project's folder, not in the environment's packages (a fresh clone keeps its
    virtual environment inside the project's folder, .venv, so Django's own apps are under it too)."""
    root, packages = Path(settings.BASE_DIR).resolve(), Path(sys.prefix).resolve()
    return {c.name for c in apps.get_app_configs()
            if Path(c.path).resolve().is_relative_to(root) and not Path(c.path).resolve().is_relative_to(packages)}


def our_commands() -> set[str]:
    ours = our_apps()
    return {name for name, app in get_commands().items() if app in ours}


def our_tasks() -> set[str]:
    from pacingsite.celery import app

    app.loader.import_default_modules()
    # celery.*: Celery's own; tests.*: tasks the test suite defines for itself (tests/configdb/test_history.py)
    return {name for name in app.tasks if not name.startswith(("celery.", "tests."))}


# -- the tables ----------------------------------------------------------------------------------------------------
# Probed: the entry → the test (in this module or test_write_path) that proves it goes through the services with the
# acting user and refuses a read-only grant. Allowed: the entry → why it writes no configuration.

_CRUD = "test_write_path: test_every_api_write_route_goes_through_the_services, " \
        "test_a_read_grant_is_refused_on_every_api_write_route"

API_PROBED: dict[tuple[str, str], str] = {
    **{(method, f"/api/v1/{route}/{tail}"): _CRUD for route in SPECS
       for method, tail in (("POST", ""), ("PUT", "{id}/"), ("PATCH", "{id}/"), ("DELETE", "{id}/"))},
    ("POST", "/api/v1/alarms/{id}/acknowledge/"): "test_alarm_actions_over_the_api",
    ("POST", "/api/v1/alarms/{id}/clear/"): "test_alarm_actions_over_the_api",
    ("POST", "/api/v1/config/import/"): "test_write_path: test_config_import_goes_through_the_services; "
                                        "test_a_background_import_job_goes_through_the_services_as_its_user",
    ("POST", "/api/v1/provisioning/provision/"): "test_provision_over_the_api",
    ("POST", "/api/v1/provisioning/templates/import/"): "test_template_import_over_the_api",
    ("POST", "/api/v1/provisioning/deploy/{cluster}/{step}/"): "test_every_deploy_wizard_step_over_the_api",
    ("POST", "/api/v1/provisioning/interaction-cluster/{cluster}/{step}/"):
        "test_every_interaction_cluster_wizard_step_over_the_api",
}

API_ALLOWED: dict[tuple[str, str], str] = {
    # a POST because its inputs are a body; it computes the engine's answer, stores nothing (pacing/whatif.py)
    ("POST", "/api/v1/pacing/what-if/"): "computes invitations from the latest stats with the user's changes; "
                                         "writes nothing (tests/pacing/test_dashboard.py)",
    # a POST because its inputs are a form; it answers the option's text (the admin's Apply writes it, probed)
    ("POST", "/api/v1/database-access-points/odbc-builder/"): "builds an option's text, writes nothing "
                                                               "(test_the_odbc_builder_route_writes_nothing)",
    # a pacing node's statistics go to Redis for the engine: run-time state, not configuration (its grant check:
    # tests/pacing/test_pacing_api.py, test_push_needs_a_read_write_grant)
    ("POST", "/api/v1/pacing/stats/"): "run-time statistics in Redis, not configuration",
}

#: (model, action) → test; every configdb admin with the ServiceSaveMixin is added below (enable, disable, clone:
#: its ``save``/``set_state``/``clone_object``; delete_selected: its ``delete_queryset``)
ADMIN_ACTIONS_PROBED: dict[tuple[str, str], str] = {
    ("alarms.alarm", "acknowledge"): "test_alarm_actions_in_the_admin",
    ("alarms.alarm", "clear"): "test_alarm_actions_in_the_admin",
}
for _model, _admin in configdb_admins():
    if isinstance(_admin, ServiceSaveMixin):
        for _action in {getattr(a, "__name__", a) for a in _admin.actions or ()} & {"enable", "disable", "clone"}:
            ADMIN_ACTIONS_PROBED[(_model._meta.label_lower, _action)] = (
                "test_write_path: test_admin_actions_go_through_the_services, test_admin_actions_refuse_a_read_grant")
        ADMIN_ACTIONS_PROBED[(_model._meta.label_lower, "delete_selected")] = "test_delete_selected_in_every_admin"

ADMIN_ACTIONS_ALLOWED: dict[tuple[str, str], str] = {
    # accounts and grants are administration, superuser-only (SuperuserOnlyMixin, Django's auth admin), not
    # configuration of a tenant; Django's own delete_selected deletes them
    ("auth.group", "delete_selected"): "accounts: Django's auth admin, not configuration",
    ("auth.user", "delete_selected"): "accounts: Django's auth admin, not configuration",
    ("configdb.tenantgrant", "delete_selected"): "grants: superuser-only administration, not configuration",
}

ADMIN_VIEWS_PROBED: dict[str, str] = {
    "configdb_databaseaccesspoint_odbc_builder": "test_the_odbc_builders_apply_in_the_admin",
    "configdb_applicationtemplate_import": "test_template_import_in_the_admin",
    "pacing-deploy-step": "test_the_wizards_steps_in_the_admin",
    "pacing-interaction-cluster-step": "test_the_wizards_steps_in_the_admin",
}
ADMIN_VIEWS_ALLOWED: dict[str, str] = {
    "pacing-what-if": "GET: the engine's answer for a target with the user's changes; writes nothing",
    "configdb_application_ports": "GET: an application's ports as JSON (the connection inline's picker)",
    "configdb_proxy_error_codes": "GET: the vendor's error codes, a reference page",
    "auth_user_password_change": "accounts: Django's own password form, not configuration",
    "pacing-nodes": "GET: the pacing nodes' run-time status",
    "pacing-doctor": "GET: the config doctor's findings",
    "gax-section": "GET: a section's list of admins",
    "pacing-deploy": "GET: the wizard's start page (a name in the query string, a redirect)",
    "pacing-deploy-cluster": "GET: a redirect to the first incomplete step",
    "pacing-deploy-summary": "GET: the summary of a finished walk",
    "pacing-interaction-cluster": "GET: the wizard's start page (a name in the query string, a redirect)",
    "pacing-interaction-cluster-cluster": "GET: a redirect to the first incomplete step",
    "pacing-interaction-cluster-summary": "GET: the summary of a finished walk",
}
for _model, _admin in admin.site._registry.items():
    if hasattr(_admin, "import_options_view"):  # OptionsAdminMixin: an import and an export page per options field
        _name = f"{_model._meta.app_label}_{_model._meta.model_name}"
        ADMIN_VIEWS_ALLOWED[f"{_name}_export_options"] = "GET: the options as a text download"
        if services.options_fields(_model):
            ADMIN_VIEWS_PROBED[f"{_name}_import_options"] = "test_every_options_import_page"
        else:
            ADMIN_VIEWS_ALLOWED[f"{_name}_import_options"] = "404 for every field: the model has no options field"

COMMANDS_PROBED: dict[str, str] = {
    "import_config": "test_write_path: test_commands_go_through_the_services_as_no_user",
    "load_demo": "test_write_path: test_commands_go_through_the_services_as_no_user",
    "provision": "test_provision_and_import_template_commands_as_no_user",
    "import_template": "test_provision_and_import_template_commands_as_no_user",
    "first_start": "test_first_start_writes_through_the_services_as_no_user",
}
COMMANDS_ALLOWED: dict[str, str] = {
    "export_config": "reads: writes the document to a file or standard output",
    "doctor": "reads: prints the config doctor's findings",
    "gpe_simulator": "a simulated GPE service for demos; feeds run-time stats into Redis, no configuration",
    "api_token": "accounts: issues, lists and revokes API tokens (pacingsite.models.ApiToken), not configuration",
    "ensure_admin": "accounts: creates the administrator account if there is none, not configuration",
    "wait_for_services": "reads: waits until the database and Redis answer",
    "prune_history": "upkeep: deletes change records past their retention and run-time Redis keys, not "
                     "configuration (tests/pacing/test_retention.py)",
    "rotate_secrets_key": "upkeep: re-encrypts stored tokens under the newest key; no value changes, so no "
                          "configuration change and no history (configdb/rotation.py; tests/configdb/test_rotation.py)",
}

TASKS_PROBED: dict[str, str] = {
    "configdb.import_job": "test_a_background_import_job_goes_through_the_services_as_its_user",
}
TASKS_ALLOWED: dict[str, str] = {
    "pacing.dispatch": "run-time: sends each cluster's cycle to its node's queue; no configuration",
    "pacing.cycle": "run-time: one pacing cycle (Redis leases and stats, alarms raised by events); no configuration",
    "pacing.prune_history": "upkeep: the histories' retention (pacing/retention.py), not configuration",
}


# -- every entry classified, every table entry real ------------------------------------------------------------------


def _check_tables(found: set, probed: dict, allowed: dict, what: str) -> None:
    both = set(probed) & set(allowed)
    assert not both, f"{what} both probed and allowed: {sorted(both)}"
    unclassified = found - set(probed) - set(allowed)
    assert not unclassified, (f"{what} not classified: {sorted(unclassified)}. Prove it reaches configdb.services "
                              f"with the acting user (and refuses a read-only grant) in a test named in the probed "
                              f"table, or say in the allowed table why it writes no configuration.")
    stale = (set(probed) | set(allowed)) - found
    assert not stale, f"{what} in the tables but no longer in the project: {sorted(stale)}"
    for reference in probed.values():
        for part in reference.split(";"):
            module, _, names = part.strip().rpartition(": ")
            where = test_write_path if module == "test_write_path" else globals()
            for name in names.split(", "):
                assert callable(where.get(name) if isinstance(where, dict) else getattr(where, name, None)), name


def test_an_unclassified_or_stale_entry_fails_the_walk():
    """What a new route (or a removed one) meets: the tables' check names it."""
    probed = {"a": "test_every_api_write_operation_is_classified"}
    _check_tables({"a"}, probed, {}, "things")
    with pytest.raises(AssertionError, match=r"not classified: \['b'\]"):
        _check_tables({"a", "b"}, probed, {}, "things")
    with pytest.raises(AssertionError, match=r"no longer in the project: \['c'\]"):
        _check_tables({"a"}, probed, {"c": "a reason"}, "things")
    with pytest.raises(AssertionError, match="both probed and allowed"):
        _check_tables({"a"}, probed, {"a": "a reason"}, "things")


def test_every_api_write_operation_is_classified():
    _check_tables(api_write_operations(), API_PROBED, API_ALLOWED, "API write operations")


def test_the_schema_lists_every_view_that_writes():
    """A view left out of the schema (``extend_schema(exclude=True)``) would escape the walk above: every view
    class the URL resolver routes a write to is one of the schema's."""
    generator, schema = _schema()
    in_schema = {(callback.cls, method.lower()) for path, _regex, method, callback in generator.endpoints
                 if method.lower() in schema["paths"].get(path.replace("{pk}", "{id}"), {})}
    routed = {(route, cls, method) for route, cls, methods in _resolved_views() for method in methods}
    assert len(routed) > 70, "the resolver walk found too few write views"
    missing = sorted((route, cls.__name__, method) for route, cls, method in routed
                     if (getattr(cls, "cls", cls), method) not in in_schema)
    assert not missing, f"views that write but are not in the API schema: {missing}"


def test_every_admin_action_is_classified():
    _check_tables(admin_actions(), ADMIN_ACTIONS_PROBED, ADMIN_ACTIONS_ALLOWED, "admin actions")


def test_every_admin_view_is_classified():
    _check_tables(admin_views(), ADMIN_VIEWS_PROBED, ADMIN_VIEWS_ALLOWED, "admin views")


def test_every_command_is_classified():
    _check_tables(our_commands(), COMMANDS_PROBED, COMMANDS_ALLOWED, "management commands")


def test_every_celery_task_is_classified():
    _check_tables(our_tasks(), TASKS_PROBED, TASKS_ALLOWED, "Celery tasks")


def test_every_admin_that_changes_configuration_saves_through_the_services():
    """Django's own add, change and delete views: every admin of a configuration model (ours, not accounts) is a
    ServiceSaveMixin, and so is each model's admin in the other apps that write configuration."""
    exempt = {"configdb.tenantgrant", "configdb.objectchange", "configdb.importjob"}  # administration, read-only
    ours = our_apps()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if model._meta.app_config.name not in ours or label in exempt:
            continue
        if model._meta.app_label == "alarms":  # read-only; its actions are probed (alarms.services)
            assert not model_admin.has_change_permission(RequestFactory().get("/")), label
            continue
        assert isinstance(model_admin, ServiceSaveMixin), label


# -- the API ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def alarms(demo):
    from alarms import catalog, runtime

    return [runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "GPE refused", source=DEMO_CLUSTER, node="node-1",
                                tenant="Environment"),
            runtime.raise_alarm(catalog.GC_LATENCY, "pause 1500 ms", source="node-2", node="node-2",
                                tenant="Environment")]


def test_alarm_actions_over_the_api(alarms, demo, monkeypatch):
    from alarms.models import AlarmState

    reader = client_for(make_user("reader", grants={demo: "read"}))
    writer_user = make_user("writer", grants={demo: "write"})
    writer = client_for(writer_user)
    spy = Spy(monkeypatch)
    for action in ("acknowledge", "clear"):
        changes = ObjectChange.objects.count()
        refused = send(reader, "post", f"/api/v1/alarms/{alarms[0].pk}/{action}/")
        assert refused.status_code == 403, (action, refused.content)
        assert ObjectChange.objects.count() == changes
        spy.reset()
        response = send(writer, "post", f"/api/v1/alarms/{alarms[0].pk}/{action}/")
        assert response.status_code == 200, (action, response.content)
        assert spy.users(action) == [writer_user]
    alarms[0].refresh_from_db()
    assert alarms[0].state == AlarmState.CLEARED and alarms[0].acknowledged_by == "writer"
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


@pytest.fixture
def document(demo):
    root = make_user("root", superuser=True)
    document = body(client_for(root).get("/api/v1/config/export/", {"tenant": "Environment"}))
    document["objects"]["skills"].append({"name": "From a job"})
    return document


def test_a_background_import_job_goes_through_the_services_as_its_user(demo, document, monkeypatch):
    """The Celery task ``configdb.import_job`` (run here as the worker would, synchronously) imports as the user
    who sent the document: a reader's job ends failed with nothing written, a writer's through the services."""
    from configdb import import_jobs, tasks
    from configdb.models import JobState

    raw = json.dumps({"document": document}).encode()
    reader = make_user("reader", grants={demo: "read"})
    spy = Spy(monkeypatch)
    job = import_jobs.create(reader, raw, tenant="Environment", replace=False, dry_run=False)
    assert tasks.import_job(str(job.pk)) == JobState.FAILED
    job.refresh_from_db()
    assert "grant" in job.detail.lower() or "permission" in job.detail.lower() or "read" in job.detail.lower(), \
        job.detail
    assert not Skill.objects.filter(name="From a job").exists()
    assert spy.users_of_all() <= {reader}  # refused by the services themselves, or before any write
    writer = make_user("writer", grants={demo: "write"})
    spy.reset()
    job = import_jobs.create(writer, raw, tenant="Environment", replace=False, dry_run=False)
    assert tasks.import_job(str(job.pk)) == JobState.SUCCEEDED
    assert Skill.objects.filter(name="From a job").exists()
    assert spy.users("create_many") == [writer]
    assert spy.users_of_all() == {writer}
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_the_odbc_builder_route_writes_nothing(demo, monkeypatch):
    spy = Spy(monkeypatch)
    changes = ObjectChange.objects.count()
    response = send(client_for(make_user("root", superuser=True)), "post",
                    "/api/v1/database-access-points/odbc-builder/", {"dbms_type": "mssql", "dsn": "ixn"})
    assert response.status_code == 200, response.content
    assert spy.calls == [] and ObjectChange.objects.count() == changes
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


@pytest.fixture
def unprovisioned(demo):
    """The demo without its alarm conditions, so provisioning the cluster has something to write."""
    AlarmCondition.objects.all().delete()
    return demo


def test_provision_over_the_api(unprovisioned, monkeypatch):
    reader = client_for(make_user("reader", grants={unprovisioned: "read"}))
    refused = send(reader, "post", "/api/v1/provisioning/provision/", {"application": DEMO_CLUSTER})
    assert refused.status_code == 403, refused.content
    assert not AlarmCondition.objects.exists()
    writer_user = make_user("writer", grants={unprovisioned: "write"})
    spy = Spy(monkeypatch)
    response = send(client_for(writer_user), "post", "/api/v1/provisioning/provision/", {"application": DEMO_CLUSTER})
    assert response.status_code == 200, response.content
    assert AlarmCondition.objects.exists()
    assert spy.users("save_object") and spy.users_of_all() == {writer_user}
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def _template_upload():
    return {"apd": SimpleUploadedFile("Pacing_Server.apd", shipped("Pacing_Server", "apd")),
            "metadata": SimpleUploadedFile("Pacing_Server.xml", shipped("Pacing_Server", "xml"))}


def test_template_import_over_the_api(demo, monkeypatch):
    ApplicationTemplate.objects.filter(name="Pacing_Server").update(version="0.1")
    reader = client_for(make_user("reader", grants={demo: "read"}))
    changes = ObjectChange.objects.count()
    refused = reader.post("/api/v1/provisioning/templates/import/", _template_upload(), format="multipart")
    assert refused.status_code == 403, refused.content
    assert ObjectChange.objects.count() == changes
    writer_user = make_user("writer", grants={demo: "write"})
    spy = Spy(monkeypatch)
    response = client_for(writer_user).post("/api/v1/provisioning/templates/import/", _template_upload(),
                                            format="multipart")
    assert response.status_code in (200, 201), response.content
    assert spy.users("save_object") and spy.users_of_all() == {writer_user}
    assert ApplicationTemplate.objects.get(name="Pacing_Server").version != "0.1"
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def _walk_with_a_reader(walk, api: str, writer_user, reader, monkeypatch, step_keys: set[str]) -> None:
    """Before each step the writer applies, the reader sends the same payload: refused (403; 200 for the install's
    preview, which writes nothing), nothing written. Each step the writer applies reaches the services as the
    writer, and only as the writer."""
    writer = client_for(writer_user)
    spy = Spy(monkeypatch)
    walked = set()
    for step, payload in walk:
        changes = ObjectChange.objects.count()
        refused = send(reader, "post", f"{api}{step}/", payload)
        preview = step == "install" and payload.get("dry_run") is True
        assert refused.status_code == (200 if preview else 403), (step, refused.content)
        assert ObjectChange.objects.count() == changes, step
        spy.reset()
        response = send(writer, "post", f"{api}{step}/", payload)
        assert response.status_code == 200, (step, response.content)
        assert spy.users_of_all() <= {writer_user}, (step, spy.calls)
        if not preview:
            assert spy.calls, f"step {step} wrote nothing through the services"
        walked.add(step)
    assert walked == step_keys, "a wizard step the walk does not take: add it to the walk"
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_every_deploy_wizard_step_over_the_api(demo, monkeypatch):
    from provisioning.wizard.flow import PACING
    from tests.provisioning import test_wizard

    _bare(demo)
    writer = make_user("writer", grants={demo: "write"})
    reader = client_for(make_user("reader", grants={demo: "read"}))
    _walk_with_a_reader(_DEPLOY_WALK, test_wizard.API, writer, reader, monkeypatch, {s.key for s in PACING.steps})


def _bare(demo):
    from configdb.models import Connection

    Connection.objects.filter(server__name__startswith="Pacing_").delete()
    Application.objects.filter(name__startswith="Pacing_").delete()
    ApplicationTemplate.objects.filter(name__in=["Pacing_Server_Cluster", "Pacing_Server"]).delete()
    AlarmCondition.objects.all().delete()


#: the walk of tests/provisioning/test_wizard.py, every step once
_DEPLOY_WALK = DEPLOY_WALK


def test_every_interaction_cluster_wizard_step_over_the_api(db, monkeypatch):
    from provisioning.wizard.ixn_steps import WIZARD
    from tests.provisioning import test_ixn_wizard as ixn

    tenant = ixn.make_config()
    writer = make_user("writer", grants={tenant: "write"})
    reader = client_for(make_user("reader", grants={tenant: "read"}))
    walk = [("clusters", ixn.CLUSTERS), ("pairs", ixn.PAIR),
            ("pairs", {**ixn.PAIR, "name": "IXN_2", "backup": "", "media_types": ""}),
            ("proxies", {"name": "Proxy_1", "template": "IXN_T", "host": "h1", "port": 7130}),
            ("proxies", {"name": "Proxy_D", "backup": "Proxy_D_B", "backup_host": "h1", "template": "IXN_T",
                         "host": "h1", "port": 7131}),
            ("clients", {"clients": ["Desktop"]}), ("dedicated", {"proxy": "Proxy_D", "clients": ["URS"]}),
            ("urs", {"urs": "URS"}), ("ors", {"ors": "ORS", "proxy": "Proxy_1"}),
            ("stat", {"stat_server": "Stat", "target": "servers"})]
    _walk_with_a_reader(walk, ixn.API, writer, reader, monkeypatch, {s.key for s in WIZARD.steps})


# -- the admin -------------------------------------------------------------------------------------------------------


def test_alarm_actions_in_the_admin(alarms, demo, monkeypatch):
    from django.contrib.auth.models import Permission

    from alarms.models import Alarm

    changelist = reverse("admin:alarms_alarm_changelist")

    def alarm_staff(name, access):
        client = staff(name, {demo: access})
        client.user.user_permissions.add(*Permission.objects.filter(codename="view_alarm"))
        return client

    reader, writer = alarm_staff("reader", "read"), alarm_staff("writer", "write")
    spy = Spy(monkeypatch)
    for action in ("acknowledge", "clear"):
        changes = ObjectChange.objects.count()
        spy.reset()
        before = Alarm.objects.filter(pk=alarms[1].pk).values().get()
        page = reader.post(changelist, {"action": action, "_selected_action": [alarms[1].pk]}, follow=True)
        # without a read-write grant the actions are not offered (get_actions), so the post reaches no service
        assert page.status_code == 200 and spy.calls == [], action
        assert ObjectChange.objects.count() == changes
        assert Alarm.objects.filter(pk=alarms[1].pk).values().get() == before, action
        spy.reset()
        response = writer.post(changelist, {"action": action, "_selected_action": [alarms[1].pk]})
        assert response.status_code == 302, action
        assert spy.users(action) == [writer.user], action
    alarms[1].refresh_from_db()
    assert alarms[1].cleared_by == "writer"
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


@pytest.mark.parametrize("model", [m for m, a in configdb_admins() if isinstance(a, ServiceSaveMixin)],
                         ids=lambda m: m._meta.model_name)
def test_delete_selected_in_every_admin(switchboard, model, monkeypatch):  # noqa: F811
    """Django's *Delete selected* reaches ``delete_queryset``: every object through ``services.delete_object`` as
    the staff user; a read-only grant deletes nothing."""
    obj = _object_for(model)
    victim = services.clone_object(obj)  # a copy nothing refers to (a command's write: no user)
    changelist = reverse(f"admin:configdb_{model._meta.model_name}_changelist")
    reader = staff("reader", {switchboard: "read"})
    response = reader.post(changelist, {"action": "delete_selected", "_selected_action": [victim.pk], "post": "yes"})
    assert response.status_code in (200, 302, 403)
    assert model._default_manager.filter(pk=victim.pk).exists()
    writer = staff("writer", {switchboard: "write"})
    if model is Tenant:  # a tenant (the copy: a new one) is created and deleted by a superuser only
        writer.user.is_superuser = True
        writer.user.save(update_fields=["is_superuser"])
    spy = Spy(monkeypatch)
    response = writer.post(changelist, {"action": "delete_selected", "_selected_action": [victim.pk], "post": "yes"})
    assert response.status_code == 302
    assert spy.users("delete_object") == [writer.user]
    assert not model._default_manager.filter(pk=victim.pk).exists()
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


@pytest.mark.parametrize("model", sorted((m for m, a in admin.site._registry.items()
                                          if isinstance(a, ServiceSaveMixin) and services.options_fields(m)),
                                         key=lambda m: m._meta.model_name), ids=lambda m: m._meta.model_name)
def test_every_options_import_page(switchboard, model, monkeypatch):  # noqa: F811
    """Every options field's import page (options, annex): the staff user's file through
    ``services.import_options`` as that user; a read-only grant is refused (403) and the options are unchanged."""
    obj = _object_for(model)
    assert obj is not None, model
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_import_options"
    reader = staff("reader", {switchboard: "read"})
    writer = staff("writer", {switchboard: "write"})
    request = RequestFactory().get("/admin/")
    request.user = writer.user
    shown = admin.site._registry[model].options_fields_shown(request, obj)
    assert shown, f"the {model._meta.verbose_name} admin shows no options field"
    spy = Spy(monkeypatch)
    for field in services.options_fields(model):
        if field not in shown:  # not on this admin's form (a DAP's annex): no page, nothing written
            upload = SimpleUploadedFile("o.txt", b"[walk]\nprobe=yes\n")
            assert writer.post(reverse(name, args=[obj.pk, field]), {"file": upload}).status_code == 404, field
            continue
        before = getattr(model._default_manager.get(pk=obj.pk), field)
        upload = SimpleUploadedFile("o.txt", b"[walk]\nprobe=yes\n")
        assert reader.post(reverse(name, args=[obj.pk, field]), {"file": upload}).status_code == 403, field
        assert getattr(model._default_manager.get(pk=obj.pk), field) == before
        spy.reset()
        upload = SimpleUploadedFile("o.txt", b"[walk]\nprobe=yes\n")
        response = writer.post(reverse(name, args=[obj.pk, field]), {"file": upload})
        assert response.status_code == 302, (field, response.content.decode()[:2000])
        assert spy.users("import_options") == [writer.user], field
        assert getattr(model._default_manager.get(pk=obj.pk), field)["walk"] == {"probe": "yes"}
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_the_odbc_builders_apply_in_the_admin(switchboard, monkeypatch):  # noqa: F811
    dap = DatabaseAccessPoint.objects.get(name="DAP")
    page = reverse("admin:configdb_databaseaccesspoint_odbc_builder") + f"?dap={dap.pk}"
    data = {"dbms_type": "postgre", "purpose": "main", "version": "8.5.3", "dsn": "ixn", "apply": "Apply"}
    reader = staff("reader", {switchboard: "read"})
    before = DatabaseAccessPoint.objects.get(pk=dap.pk).options
    assert reader.post(page, data).status_code == 403
    assert DatabaseAccessPoint.objects.get(pk=dap.pk).options == before
    writer = staff("writer", {switchboard: "write"})
    spy = Spy(monkeypatch)
    response = writer.post(page, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert spy.users("save_object") == [writer.user]
    assert DatabaseAccessPoint.objects.get(pk=dap.pk).options != before
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_template_import_in_the_admin(demo, monkeypatch):
    ApplicationTemplate.objects.filter(name="Pacing_Server").update(version="0.1")
    page = reverse("admin:configdb_applicationtemplate_import")
    reader = staff("reader", {demo: "read"})
    response = reader.post(page, _template_upload())
    assert response.status_code in (200, 403)
    assert response.status_code == 403 or "grant" in response.content.decode()
    assert ApplicationTemplate.objects.get(name="Pacing_Server").version == "0.1"
    writer = staff("writer", {demo: "write"})
    spy = Spy(monkeypatch)
    response = writer.post(page, _template_upload())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert spy.users("save_object") and spy.users_of_all() == {writer.user}
    assert ApplicationTemplate.objects.get(name="Pacing_Server").version != "0.1"
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_the_wizards_steps_in_the_admin(demo, monkeypatch):
    """The admin's step pages hand the request's user to the wizard's ``flow.submit``, which the API walks above
    prove on every step: here the first step of each wizard, as a staff writer (through the services as them)
    and as a reader (refused, nothing written)."""
    _bare(demo)
    from tests.provisioning import test_ixn_wizard as ixn

    ixn_tenant = ixn.make_config()
    grants = {demo: "write", ixn_tenant: "write"}
    cases = [("/admin/pacing/deploy/Wizard_Cluster/cluster-template/", {"source": "shipped"},
              lambda: ApplicationTemplate.objects.filter(name="Pacing_Server_Cluster").exists()),
             (f"/admin/pacing/interaction-cluster/{ixn.NAME}/clusters/", ixn.CLUSTERS,
              lambda: Application.objects.filter(name=ixn.NAME).exists())]
    reader = staff("reader", dict.fromkeys(grants, "read"))
    writer = staff("writer", grants)
    spy = Spy(monkeypatch)
    for page, data, written in cases:
        changes = ObjectChange.objects.count()
        response = reader.post(page, data)
        assert response.status_code in (400, 403), (page, response.status_code)
        assert ObjectChange.objects.count() == changes and not written(), page
        spy.reset()
        response = writer.post(page, data)
        assert response.status_code == 302, (page, response.content.decode()[:2000])
        assert written() and spy.calls and spy.users_of_all() == {writer.user}, (page, spy.calls)
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def _change_form_data(response) -> dict:
    """The POST a browser would send back for an admin change form as rendered: the object's fields and every
    inline formset (management form and rows); an options table is left out (omitted, the object keeps it)."""
    data: dict = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            if isinstance(value, list | tuple):
                data[bound.html_name] = [str(getattr(v, "pk", v)) for v in value]
            elif isinstance(value, dict):  # an options table: left out, the object keeps its options
                continue
            else:
                data[bound.html_name] = str(getattr(value, "pk", value))

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


@pytest.mark.parametrize("model", [m for m, a in configdb_admins() if isinstance(a, ServiceSaveMixin)],
                         ids=lambda m: m._meta.model_name)
def test_every_change_form_saves_through_the_services(rows, model, monkeypatch):
    """Django's change view of every configuration admin, posted back as rendered: ``save_model`` and
    ``save_related`` through the services as the staff user; a read-only grant gets 403 and no write."""
    obj = _object_for(model)
    change = reverse(f"admin:configdb_{model._meta.model_name}_change", args=[obj.pk])
    writer, reader = staff("writer", {rows: "write"}), staff("reader", {rows: "read"})
    page = writer.get(change)
    assert page.status_code == 200
    data = _change_form_data(page)
    spy = Spy(monkeypatch)
    changes = ObjectChange.objects.count()
    assert reader.post(change, data).status_code == 403
    assert spy.calls == [] and ObjectChange.objects.count() == changes
    response = writer.post(change, data)
    assert response.status_code == 302, response.context and [response.context["adminform"].form.errors,
                                                               [str(m) for m in response.context["messages"]]]
    assert spy.users("save_object") == [writer.user]
    assert spy.users_of_all() == {writer.user}
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def _inlines():
    """(model, inline class) of every configdb admin with inline rows (ports, connections, skill levels, …)."""
    return [(model, inline) for model, model_admin in configdb_admins() if isinstance(model_admin, ServiceSaveMixin)
            for inline in model_admin.inlines]


@pytest.fixture
def rows(switchboard):  # noqa: F811
    """The switchboard, its DAP serving the Environment tenant (so every inline has a row in that tenant)."""
    services.set_links(DatabaseAccessPoint.objects.get(name="DAP"), "tenants", [switchboard])
    return switchboard


@pytest.mark.parametrize(("model", "inline"), _inlines(),
                         ids=[f"{m._meta.model_name}-{i.__name__}" for m, i in _inlines()])
def test_inline_rows_go_through_the_services(rows, model, inline, monkeypatch):
    """A change form with inline rows: deleting a row deletes it through the services as the staff user; a
    read-only grant is refused (403) and the row stays. The first row the services let go is taken (a port that
    connections use is refused, rightly, and stays)."""
    related = inline.model
    parents = (model, model._meta.concrete_model, *model._meta.get_parent_list())
    fk = next(f for f in related._meta.concrete_fields if f.many_to_one and f.related_model in parents
              and (inline.fk_name is None or f.name == inline.fk_name))
    candidates = list(related._default_manager.filter(**{f"{fk.name}__in": model._default_manager.filter(
        tenant__name="Environment")}).order_by("pk")[:10])
    assert candidates, f"the demo has no {related._meta.verbose_name} row for a {model._meta.verbose_name}"
    writer, reader = staff("writer", {rows: "write"}), staff("reader", {rows: "read"})
    spy = Spy(monkeypatch)
    refusals = []
    for row in candidates:
        change = reverse(f"admin:configdb_{model._meta.model_name}_change", args=[getattr(row, fk.attname)])
        page = writer.get(change)
        assert page.status_code == 200
        data = _change_form_data(page)
        formset = next(i.formset for i in page.context["inline_admin_formsets"] if i.formset.model is related)
        index = next(n for n, form in enumerate(formset.forms) if form.instance.pk == row.pk)
        data[f"{formset.prefix}-{index}-DELETE"] = "on"
        spy.reset()
        assert reader.post(change, data).status_code == 403
        assert related._default_manager.filter(pk=row.pk).exists() and spy.calls == []
        response = writer.post(change, data)
        if response.status_code == 302:
            break
        refusals.append([*[i.formset.non_form_errors() for i in response.context["inline_admin_formsets"]],
                         response.context["adminform"].form.errors])
        assert related._default_manager.filter(pk=row.pk).exists()
    else:
        pytest.fail(f"no {related._meta.verbose_name} row could be deleted: {refusals}")
    assert writer.user in spy.users("delete_object")
    assert spy.users_of_all() == {writer.user}
    assert not related._default_manager.filter(pk=row.pk).exists()
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


# -- commands --------------------------------------------------------------------------------------------------------


def test_provision_and_import_template_commands_as_no_user(unprovisioned, tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    call_command("provision", DEMO_CLUSTER, stdout=io.StringIO())
    assert AlarmCondition.objects.exists()
    assert spy.users("save_object") and spy.users_of_all() == {None}
    ApplicationTemplate.objects.filter(name="Pacing_Server").update(version="0.1")
    (tmp_path / "t.apd").write_bytes(shipped("Pacing_Server", "apd"))
    (tmp_path / "t.xml").write_bytes(shipped("Pacing_Server", "xml"))
    spy.reset()
    call_command("import_template", str(tmp_path / "t.apd"), str(tmp_path / "t.xml"), stdout=io.StringIO())
    assert ApplicationTemplate.objects.get(name="Pacing_Server").version != "0.1"
    assert spy.users("save_object") and spy.users_of_all() == {None}
    assert spy.bypasses == [], spy.bypasses  # nothing written around the services


def test_first_start_writes_through_the_services_as_no_user(db, monkeypatch):
    """The image's first start (pacingsite/management/commands/first_start.py) on an empty configuration: the
    Environment tenant, the shipped templates, the demo and the provisioning, all as no user."""
    spy = Spy(monkeypatch)
    out = io.StringIO()
    call_command("first_start", "--demo", "--cluster", DEMO_CLUSTER, stdout=out)
    assert f"first start: pacing cluster '{DEMO_CLUSTER}' already provisioned" in out.getvalue() or \
        f"first start: pacing cluster '{DEMO_CLUSTER}' provisioned" in out.getvalue()
    assert AlarmCondition.objects.exists()
    # None given, or the default left (NO_USER: the demo's loader calls the services without a user)
    assert spy.users("save_object") and spy.users_of_all() <= {None, test_write_path.NO_USER}
    assert spy.bypasses == [], spy.bypasses
