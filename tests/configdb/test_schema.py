"""The OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/): valid, complete, local assets, login required."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from configdb.api.urls import ROUTES

SCHEMA_URL = "/api/schema/"
DOCS_URL = "/api/docs/"
API = "/api/v1/"

#: viewset action → (the list path or the detail path, HTTP method)
ACTIONS = {
    "list": ("list", "get"),
    "create": ("list", "post"),
    "retrieve": ("detail", "get"),
    "update": ("detail", "put"),
    "partial_update": ("detail", "patch"),
    "destroy": ("detail", "delete"),
}
#: hosts a page could load assets from instead of this server
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com", "fonts.gstatic.com")


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("schema-admin", None, None)
    client = APIClient()
    client.force_authenticate(user)
    return client


_served: dict[str, dict] = {}  # the schema is the same for every superuser: generate it once per run


@pytest.fixture
def schema(admin_client) -> dict:
    if "schema" not in _served:
        response = admin_client.get(SCHEMA_URL, {"format": "json"})
        assert response.status_code == 200, response.content[:500]
        _served["schema"] = json.loads(response.content)
    return _served["schema"]


def expected_operations(viewset) -> dict[str, set[str]]:
    """{path: {methods}} a router route should produce, from the actions its viewset has."""
    operations: dict[str, set[str]] = {}
    for action, (kind, method) in ACTIONS.items():
        if callable(getattr(viewset, action, None)):
            operations.setdefault(kind, set()).add(method)
    return operations


def test_the_schema_is_valid_openapi(schema):
    assert schema["openapi"].startswith(("3.0", "3.1"))
    validate(schema)  # raises OpenAPIValidationError naming the first problem
    assert schema["info"]["title"] == "Pacing Console API"


def test_schema_generation_has_no_warnings(db):
    """What `manage.py spectacular --validate --fail-on-warn` checks (it raises on a warning or an error)."""
    GENERATOR_STATS.reset()
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out, stderr=out)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, out.getvalue()[-2000:]


@pytest.mark.parametrize(("prefix", "viewset"), [(prefix, viewset) for prefix, viewset, _basename in ROUTES],
                         ids=[prefix for prefix, _viewset, _basename in ROUTES])
def test_every_route_is_in_the_schema_with_its_operations(schema, prefix, viewset):
    paths = schema["paths"]
    expected = expected_operations(viewset)
    where = {"list": f"{API}{prefix}/", "detail": f"{API}{prefix}/{{id}}/"}
    for kind, methods in expected.items():
        path = where[kind]
        assert path in paths, f"{path} is missing from the schema"
        assert set(paths[path]) - {"parameters"} == methods, f"{path}: {sorted(paths[path])} != {sorted(methods)}"
        for method in methods:
            operation = paths[path][method]
            assert operation["tags"] == [prefix]
            assert {"tokenAuth", "cookieAuth"} <= {name for item in operation["security"] for name in item}
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, f"{method.upper()} {path} documents no success response"
    assert set(expected) == {"list", "detail"}  # every route lists and reads


def test_related_objects_and_options_are_described(schema):
    components = schema["components"]["schemas"]
    queue, queue_request = components["VirtualQueue"]["properties"], components["VirtualQueueRequest"]["properties"]
    # read: {id, url, name}; write: an id, a name, or {"id"} / {"name"}
    assert set(components["RelatedObject"]["properties"]) == {"id", "url", "name"}
    assert json.dumps(queue["switch"]).count("#/components/schemas/RelatedObject\"") == 1
    assert queue_request["switch"] == {"$ref": "#/components/schemas/RelatedObjectRequest"}
    write_forms = components["RelatedObjectRequest"]["oneOf"]
    assert [form["type"] for form in write_forms] == ["integer", "string", "object", "object"]
    assert "tenant" not in queue_request  # read-only for a virtual queue (it follows the switch)
    # many-to-many: a list of DNs, written by number
    origination = components["AgentGroupRequest"]["properties"]["origination_dns"]
    assert origination["items"] == {"$ref": "#/components/schemas/RelatedObjectByNumberRequest"}
    # options: section → key → text
    options = queue["options"]
    assert options["type"] == "object"
    assert options["additionalProperties"]["type"] == "object"
    assert options["additionalProperties"]["additionalProperties"]["type"] == "string"
    # the token scheme
    assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "http"


def test_create_takes_one_object_or_a_list(schema):
    create = schema["paths"][f"{API}virtual-queues/"]["post"]
    one, many = create["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert one == {"$ref": "#/components/schemas/VirtualQueueRequest"}
    assert many["type"] == "array" and many["items"] == one
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["oneOf"][1]["type"] == "array"


def test_list_operations_are_paginated_and_filtered(schema):
    listing = schema["paths"][f"{API}virtual-queues/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"limit", "offset", "ordering", "q", "switch", "tenant", "state", "number__icontains"} <= names
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])


def test_swagger_ui_loads_every_asset_from_this_server(admin_client):
    response = admin_client.get(DOCS_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    for host in CDN_HOSTS:
        assert host not in html, f"{DOCS_URL} references {host}"
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    for asset in assets:
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", asset, re.IGNORECASE), f"external asset {asset}"
        if asset == f"{DOCS_URL}?script=":   # the Swagger UI's init script, served by the docs view (CSP: no inline)
            script = admin_client.get(asset)
            assert script.status_code == 200 and "javascript" in script["Content-Type"]
            continue
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file of this project"
    assert not re.search(r"https?://", html), "the page names an absolute URL"


@pytest.mark.parametrize("url", [SCHEMA_URL, f"{SCHEMA_URL}?format=json", DOCS_URL])
def test_anonymous_gets_401(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
