"""Secrets in configuration documents (issue 14, item 6): an export made for a reader carries no secret token
(every secret masked, the document marked "secrets": "withheld", and importing it is refused, nothing written); a
writer's export binds each token to its tenant, so a token copied into another tenant's document — or one
without its binding — is refused on import, naming the record and the key."""

from __future__ import annotations

import copy
import json

import pytest

from configdb import services, transfer
from configdb.models import Switch, Tenant
from configdb.secrets import MASK

from .api_helpers import body, client_for, make_user, send


def api_export(user, tenant="Environment"):
    response = client_for(user).get("/api/v1/config/export/", {"tenant": tenant})
    assert response.status_code == 200, response.content
    return body(response)


def secret_values(document) -> list[str]:
    """Every value of a secret key or secret field in the document."""
    found = []

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key is not None and (
                key in ("db_password", "certificate_key") or "secret" in key or "password" in key or key == "token"):
            found.append(value)

    walk(document["objects"])
    return [v for v in found if v]


def test_a_readers_export_withholds_every_secret(demo):
    tenant = Tenant.objects.get(name="Environment")
    reader = make_user("reader", staff=True, grants={tenant: "read"})
    writer = make_user("writer", staff=True, grants={tenant: "write"})
    withheld, full = api_export(reader), api_export(writer)
    assert withheld["secrets"] == "withheld" and "secrets" not in full
    assert secret_values(withheld) and set(secret_values(withheld)) == {MASK}
    assert all(v.startswith("enc:v1:") and "#" in v for v in secret_values(full))
    assert "enc:v1:" not in json.dumps(withheld)
    # the rest of the configuration is the same
    strip = lambda doc: json.dumps({k: v for k, v in doc.items() if k not in ("secrets", "exported")},  # noqa: E731
                                   sort_keys=True).replace(MASK, "")
    assert len(strip(withheld)) < len(strip(full))


def test_a_withheld_export_is_refused_on_import(demo):
    tenant = Tenant.objects.get(name="Environment")
    document = api_export(make_user("reader", staff=True, grants={tenant: "read"}))
    with pytest.raises(transfer.TransferError) as refused:
        transfer.import_document(document)
    assert "carries no secrets" in refused.value.detail
    assert refused.value.errors == ["secrets: withheld. Import an export made with a read-write grant."]
    answer = send(client_for(make_user("root", superuser=True)), "post", "/api/v1/config/import/",
                  {"document": document})
    assert answer.status_code == 400 and "carries no secrets" in answer.content.decode()


def test_a_token_copied_from_another_tenant_is_refused(demo, other_tenant):
    services.save_object(Switch(tenant=other_tenant, name="OtherSwitch", options={"x": {"token": "theirs"}}))
    theirs = transfer.export_tenant(other_tenant)
    mine = transfer.export_tenant(Tenant.objects.get(name="Environment"))
    stolen = copy.deepcopy(mine)
    switch = stolen["objects"]["switches"][0]
    switch.setdefault("options", {}).setdefault("x", {})["token"] = theirs["objects"]["switches"][0]["options"]["x"][
        "token"]
    with pytest.raises(transfer.TransferError) as refused:
        transfer.import_document(stolen)
    assert any(f"switches[0] ({switch['name']}): options: section 'x', key 'token': the secret token was not "
               "exported from tenant 'Environment' by this installation" in e for e in refused.value.errors), \
        refused.value.errors
    # the document as exported imports back unchanged
    assert transfer.import_document(mine).totals["updated"] == 0


def test_a_token_without_its_binding_is_refused(demo):
    document = transfer.export_tenant(Tenant.objects.get(name="Environment"))
    bare = json.loads(json.dumps(document).replace("#", "#x", 1))            # a damaged tag
    with pytest.raises(transfer.TransferError) as refused:
        transfer.import_document(bare)
    assert any("was not exported from tenant 'Environment'" in e for e in refused.value.errors)
    token = secret_values(document)[0]
    unbound = json.loads(json.dumps(document).replace(token, token.rpartition("#")[0]))
    with pytest.raises(transfer.TransferError) as refused:
        transfer.import_document(unbound)
    assert any("the secret token is not bound to a tenant" in e for e in refused.value.errors), refused.value.errors
