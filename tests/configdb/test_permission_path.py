"""Who may write is decided in one place: configdb.services (on configdb.access), and alarms.services for alarms.

Issue 10: callers keep no permission checks of their own. A caller that must refuse before any work asks the
services' own checks (``services.check_write``, ``check_tenant_write``, ``check_any_write``) and what a page shows
asks ``services.may_write`` / ``may_write_any``; none asks the grants (``access.can_write``,
``writable_tenant_ids``), Django's permissions (``has_perm``) or ``is_superuser`` itself. This test reads the
source of every app, so a new caller that checks on its own fails here.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["configdb", "pacing", "alarms", "provisioning", "pacingsite"]
#: the modules that define who may write (and alarms' own service, on the same grants)
ALLOWED = {"configdb/access.py", "configdb/services.py", "alarms/services.py"}
CHECKS = re.compile(r"\baccess\.(can_write|can_write_object|writable_tenant_ids)\b|\.is_superuser\b|\bhas_perms?\(")


def sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and relative not in ALLOWED:
                yield relative, path.read_text(encoding="utf-8")


def test_no_caller_checks_write_permissions_itself():
    found = [f"{name}:{number}: {line.strip()}" for name, text in sources()
             for number, line in enumerate(text.splitlines(), start=1) if CHECKS.search(line)]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("source", ["if not access.can_write(request.user, tenant.pk):",
                                    "return request.user.is_active and request.user.is_superuser",
                                    "if access.writable_tenant_ids(request.user) == set():",
                                    "request.user.has_perm('configdb.change_dn')"])
def test_the_walk_sees_a_callers_own_check(source):
    assert CHECKS.search(source)


@pytest.mark.django_db
def test_the_services_up_front_checks(env_tenant, other_tenant):
    from django.core.exceptions import PermissionDenied

    from configdb import services
    from configdb.models import Access

    from .api_helpers import make_user

    writer = make_user("writer", grants={env_tenant: Access.WRITE, other_tenant: Access.READ})
    reader = make_user("reader", grants={env_tenant: Access.READ})
    root = make_user("root", superuser=True)
    services.check_tenant_write(writer, "Environment")
    services.check_tenant_write(writer, env_tenant)
    with pytest.raises(PermissionDenied, match="no read-write grant on tenant 'Other'"):
        services.check_tenant_write(writer, "Other")
    with pytest.raises(PermissionDenied, match="Creating a tenant needs a superuser"):
        services.check_tenant_write(writer, "Brand New")
    services.check_tenant_write(root, "Brand New")
    services.check_tenant_write(None, "Brand New")  # a command
    services.check_any_write(writer, "importing a template")
    with pytest.raises(PermissionDenied, match="You have no read-write grant: importing a template needs one."):
        services.check_any_write(reader, "importing a template")
    assert services.may_write(writer, env_tenant) and not services.may_write(reader, env_tenant)
    assert services.may_write_any(None) and services.may_write_any(root) and not services.may_write_any(reader)


@pytest.mark.django_db
def test_the_admin_odbc_builders_apply_is_refused_by_the_services_for_a_reader(demo, client):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    from configdb import services
    from configdb.models import Access, DatabaseAccessPoint

    from .api_helpers import dap_template, make_user

    dap = services.save_object(DatabaseAccessPoint(tenant=demo, name="IXN_DAP", template=dap_template(demo),
                                                   dbms_type="postgre", options={"settings": {"x": "1"}}))
    reader = make_user("dap-reader", staff=True, grants={demo: Access.READ})
    reader.user_permissions.add(*Permission.objects.filter(content_type__app_label="configdb"))
    client.force_login(reader)
    before = dap.options
    page = reverse("admin:configdb_databaseaccesspoint_odbc_builder") + f"?dap={dap.pk}"
    shown = client.get(page)
    assert shown.status_code == 200 and 'name="apply"' not in shown.content.decode()  # not offered to a reader
    refused = client.post(page, {"purpose": "main", "version": "8.5.3", "dbms_type": dap.dbms_type, "dsn": "ixn",
                                 "driver": "", "port": "", "apply": "Apply"})
    assert refused.status_code == 403  # services.save_object's grant check
    dap.refresh_from_db()
    assert dap.options == before
