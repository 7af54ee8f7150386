"""Shared helpers of the REST API tests (tests/configdb/test_api_*.py and tests/pacingsite/test_tokens.py).

Plain functions, not fixtures, so test modules import them without shadowing fixture names.
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from configdb import services
from configdb.api.urls import ROUTES
from configdb.models import ApplicationTemplate, ApplicationType, Skill, Switch, Tenant, TenantGrant

API = "/api/v1/"
BRIEF_KEYS = {"id", "url", "name"}
PAGE_KEYS = {"count", "next", "previous", "results"}

#: every configuration object route (``changes`` is the read-only history)
OBJECT_ROUTES = [prefix for prefix, _viewset, _basename in ROUTES if prefix != "changes"]
ALL_ROUTES = [prefix for prefix, _viewset, _basename in ROUTES]


def url(route: str, pk: int | None = None) -> str:
    return f"{API}{route}/" if pk is None else f"{API}{route}/{pk}/"


def make_user(username: str, *, superuser: bool = False, staff: bool = False, grants: dict | None = None):
    """A user without a usable password (no slow hashing); ``grants`` maps Tenant → "read" | "write"."""
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(username, None, None)
    else:
        user = User.objects.create_user(username, is_staff=staff)
    for tenant, access in (grants or {}).items():
        TenantGrant.objects.create(user=user, tenant=tenant, access=access)
    return user


def client_for(user=None) -> APIClient:
    """An API client authenticated as ``user`` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def send(client, method: str, path: str, payload=None, **extra):
    """Send ``payload`` as JSON (any JSON value, or raw bytes/str sent as they are)."""
    if payload is None:
        body = b""
    elif isinstance(payload, bytes | str):
        body = payload
    else:
        body = json.dumps(payload)
    return getattr(client, method.lower())(path, data=body, content_type="application/json", **extra)


def body(response):
    return json.loads(response.content) if response.content else None


def fetch_all(client, route: str, **params) -> list[dict]:
    response = client.get(url(route), {"limit": 1000, **params})
    assert response.status_code == 200, response.content
    data = body(response)
    assert set(data) == PAGE_KEYS
    return data["results"]


def names(rows: list[dict], field: str = "name") -> list:
    return [row[field] for row in rows]


def other_tenant_objects(other: Tenant) -> dict:
    """A few objects owned by another tenant ("Other"), so scoping has something to hide."""
    switch = services.save_object(Switch(tenant=other, name="OtherSwitch"))
    from configdb.models import MediaType, VirtualQueue

    services.save_object(MediaType(tenant=other, name="chat"))  # a pacing queue's media is one of its tenant's

    queue = services.save_object(VirtualQueue(tenant=other, switch=switch, number="Other Queue", alias="Other Queue",
                                              options={"pacing": {"media": "chat"}}))
    skill = services.save_object(Skill(tenant=other, name="OtherSkill"))
    return {"switch": switch, "queue": queue, "skill": skill}


def dap_template(tenant: Tenant) -> ApplicationTemplate:
    existing = ApplicationTemplate.objects.filter(name="T_DAP").first()
    return existing or services.save_object(ApplicationTemplate(
        tenant=tenant, name="T_DAP", app_type=ApplicationType.DATABASE_ACCESS_POINT, version="8.5"))


def walk_strings(value):
    """Every string (keys included) inside a JSON-like value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from walk_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from walk_strings(v)
    elif isinstance(value, str):
        yield value


def minimal_config(tenant: Tenant) -> dict:
    """A few of the demo's objects, much faster to make than the whole demo: host demosrv,
    Stat_Server (port default), MultiMediaSwitch, the media types chat and voice and the virtual queue
    Proactive Chat."""
    from configdb.models import Application, Host, MediaType, Port, VirtualQueue

    host = services.save_object(Host(tenant=tenant, name="demosrv"))
    template = services.save_object(ApplicationTemplate(tenant=tenant, name="Stat_Server_85",
                                                        app_type=ApplicationType.STAT_SERVER, version="8.5.1"))
    stat = services.save_object(Application(tenant=tenant, name="Stat_Server", template=template, host=host,
                                            working_directory=".", command_line="."))
    services.save_object(Port(application=stat, port_id="default", port=7000))
    switch = services.save_object(Switch(tenant=tenant, name="MultiMediaSwitch"))
    for media in ("chat", "voice"):
        MediaType.objects.get_or_create(tenant=tenant, name=media)
    queue = services.save_object(VirtualQueue(tenant=tenant, switch=switch, number="Proactive Chat",
                                              alias="Proactive Chat", options={"pacing": {"media": "chat"}}))
    return {"host": host, "stat": stat, "switch": switch, "queue": queue}
