"""Secrets never leak: not in API answers (lists, details, echoes, errors, changes), not in the
change history, not in logs, not in the database in plain text; and writing them follows the
mask rules (mask or "" keeps, a new value replaces, null removes; a DAP password left out or
blank is kept)."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from configdb.models import DatabaseAccessPoint, ObjectChange, Transaction

from .api_helpers import body, client_for, dap_template, make_user, send, url

TXN_SECRET = "demo-client-secret"
NEW_TXN_SECRET = "new-client-secret-77"
DAP_SECRET = "dap-secret-pw-42"
NEW_DAP_SECRET = "new-dap-pw-99"
SECRETS = (TXN_SECRET, NEW_TXN_SECRET, DAP_SECRET, NEW_DAP_SECRET)
MASK = "********"


def assert_no_secret(text: str, where: str = "") -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in {where}: {text[:500]}"


class Leaks:
    """Collects everything a request cycle lets out: answers, log lines, SQL."""

    def __init__(self, caplog):
        self.caplog = caplog
        self.answers: list[tuple[str, str]] = []

    def check(self, response, where):
        text = response.content.decode(errors="replace")
        self.answers.append((where, text))
        assert_no_secret(text, where)
        for name, value in response.headers.items():
            assert_no_secret(f"{name}: {value}", f"{where} header")
        return response


@pytest.fixture
def leaks(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own logging config stops "django.*" at INFO
    return Leaks(caplog)


@pytest.fixture
def root(demo):
    return make_user("root", superuser=True)


@pytest.fixture
def client(root):
    return client_for(root)


@pytest.fixture
def txn(demo):
    return Transaction.objects.get(name="hybrid_integration")


def stored_txn_password(txn_pk):
    return Transaction.objects.get(pk=txn_pk).annex.get("ewt", {}).get("password")


def raw_column(table: str, column: str, pk: int, pk_column: str = "id") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608 (names are ours)
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


def test_secrets_never_leak_through_the_api_history_or_logs(client, txn, leaks, caplog):
    dap_template(txn.tenant)
    with CaptureQueriesContext(connection) as queries:  # also turns on SQL debug logging
        # reading
        listed = leaks.check(client.get(url("transactions")), "transaction list")
        annex = body(listed)["results"][0]["annex"]
        assert annex["ewt"] == {"client_id": "pacing-demo", "password": MASK}
        leaks.check(client.get(url("transactions", txn.pk)), "transaction detail")
        leaks.check(client.get(url("transactions"), {"q": "hybrid"}), "transaction search")

        # a DAP: create echo, list, detail
        created = leaks.check(send(client, "post", url("database-access-points"), {
            "tenant": "Environment", "name": "IXN_DAP", "template": "T_DAP", "dbms_type": "postgre",
            "db_username": "genesys", "db_password": DAP_SECRET,
            "options": {"settings": {"dbprotocol": "odbc", "password": DAP_SECRET}},
        }), "DAP create")
        assert created.status_code == 201, created.content
        dap_id = body(created)["id"]
        assert "db_password" not in body(created)
        assert body(created)["options"]["settings"]["password"] == MASK
        leaks.check(client.get(url("database-access-points")), "DAP list")
        leaks.check(client.get(url("database-access-points", dap_id)), "DAP detail")
        leaks.check(client.get(url("applications")), "application list (a DAP is an application)")

        # writing the annex: echoes are masked
        new_annex = {"general": annex["general"], "ewt": {"client_id": "pacing-demo", "password": NEW_TXN_SECRET}}
        updated = leaks.check(send(client, "patch", url("transactions", txn.pk), {"annex": new_annex}), "annex patch")
        assert updated.status_code == 200
        assert body(updated)["annex"]["ewt"]["password"] == MASK
        leaks.check(send(client, "put", url("transactions", txn.pk), {
            "tenant": "Environment", "name": "hybrid_integration", "transaction_type": "list",
            "annex": {"ewt": {"client_id": "pacing-demo", "password": TXN_SECRET}},
        }), "annex put")
        leaks.check(send(client, "patch", url("database-access-points", dap_id), {"db_password": NEW_DAP_SECRET}),
                    "DAP patch")

        # errors: the rejected secret is not repeated back
        for where, payload in [
            ("annex line break", {"annex": {"ewt": {"password": NEW_TXN_SECRET + "\n"}}}),
            ("annex bad key", {"annex": {"ewt": {"password": NEW_TXN_SECRET, "bad=key": "x"}}}),
            ("annex NUL", {"annex": {"ewt": {"password": NEW_TXN_SECRET + "\x00"}}}),
            ("annex too long", {"annex": {"ewt": {"password": NEW_TXN_SECRET * 300}}}),
            ("annex not text", {"annex": {"ewt": {"password": [NEW_TXN_SECRET]}}}),
            ("unknown field", {"password": NEW_TXN_SECRET}),
        ]:
            response = leaks.check(send(client, "patch", url("transactions", txn.pk), payload), where)
            assert response.status_code == 400, where
        for where, payload in [
            ("DAP password too long", {"db_password": NEW_DAP_SECRET * 100}),
            ("DAP password not text", {"db_password": {"x": NEW_DAP_SECRET}}),
            ("DAP password NUL", {"db_password": NEW_DAP_SECRET + "\x00"}),
        ]:
            response = leaks.check(send(client, "patch", url("database-access-points", dap_id), payload), where)
            assert response.status_code == 400, where
        bulk = leaks.check(send(client, "post", url("transactions"), [
            {"tenant": "Environment", "name": "t1", "annex": {"ewt": {"password": NEW_TXN_SECRET}}},
            {"tenant": "Environment", "name": "t2", "annex": {"ewt": {"password": NEW_TXN_SECRET + "\n"}}},
            {"tenant": "Nowhere", "name": "t3", "annex": {"ewt": {"password": NEW_TXN_SECRET}}},
        ]), "bulk errors")
        assert bulk.status_code == 400
        malformed = leaks.check(send(client, "patch", url("transactions", txn.pk),
                                     '{"annex": {"ewt": {"password": "' + NEW_TXN_SECRET + '"'), "malformed JSON")
        assert malformed.status_code == 400

        # the change history, through the API
        for object_type in ("configdb.transaction", "configdb.databaseaccesspoint", "configdb.application"):
            changes = leaks.check(client.get(url("changes"), {"object_type": object_type, "limit": 1000}), object_type)
            assert changes.status_code == 200
        all_changes = leaks.check(client.get(url("changes"), {"limit": 1000}), "all changes")
        for row in body(all_changes)["results"]:
            leaks.check(client.get(url("changes", row["id"])), f"change {row['id']}")
        # the admin's pages of the same objects
        admin = Client()
        admin.force_login(make_user("admin", superuser=True))
        for path in (reverse("admin:configdb_transaction_change", args=[txn.pk]),
                     reverse("admin:configdb_transaction_history", args=[txn.pk]),
                     reverse("admin:configdb_databaseaccesspoint_change", args=[dap_id]),
                     reverse("admin:configdb_databaseaccesspoint_history", args=[dap_id]),
                     reverse("admin:configdb_objectchange_changelist")):
            page = admin.get(path)
            assert page.status_code == 200, path
            assert_no_secret(page.content.decode(), path)

    # the stored history rows
    rows = list(ObjectChange.objects.values("prechange", "postchange", "object_repr"))
    assert rows
    assert_no_secret(json.dumps(rows), "ObjectChange rows")
    txn_changes = ObjectChange.objects.filter(object_id=str(txn.pk), content_type__model="transaction",
                                              action="update")
    assert txn_changes.exists()
    # the history says a secret changed ("******** (changed)"), never what it was or became
    assert all(c.postchange["annex"]["ewt"]["password"].startswith(MASK) for c in txn_changes
               if "annex" in c.postchange)
    dap_change = ObjectChange.objects.filter(object_id=str(dap_id), action="update").first()
    assert dap_change.prechange["db_password"].startswith(MASK)
    assert dap_change.postchange["db_password"].startswith(MASK)

    # the logs of the whole cycle (SQL included: CaptureQueriesContext forced debug logging)
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL debug logging was not captured"
    for record in caplog.records:
        assert_no_secret(record.getMessage(), f"log {record.name}")
        assert_no_secret(repr(getattr(record, "params", "")), f"log params {record.name}")
    for query in queries.captured_queries:
        assert_no_secret(query["sql"], "SQL")

    # and the secrets did arrive where they belong
    assert stored_txn_password(txn.pk) == TXN_SECRET
    assert DatabaseAccessPoint.objects.get(pk=dap_id).db_password == NEW_DAP_SECRET
    assert DatabaseAccessPoint.objects.get(pk=dap_id).options["settings"]["password"] == DAP_SECRET


def test_stored_encrypted(client, txn):
    annex = raw_column("configdb_transaction", "annex", txn.pk)
    assert "enc:v1:" in annex
    assert TXN_SECRET not in annex
    assert "pacing-demo" in annex  # only the secret is encrypted
    dap = DatabaseAccessPoint(tenant=txn.tenant, name="DAP", template=dap_template(txn.tenant), dbms_type="postgre",
                              db_password=DAP_SECRET)
    from configdb import services

    services.save_object(dap)
    password = raw_column("configdb_databaseaccesspoint", "db_password", dap.pk, "application_ptr_id")
    assert password.startswith("enc:v1:")
    assert DAP_SECRET not in password
    change = ObjectChange.objects.filter(object_id=str(txn.pk), content_type__model="transaction").first()
    history = raw_column("configdb_objectchange", "postchange", change.pk)
    assert TXN_SECRET not in history


@pytest.mark.parametrize("sent", [MASK, ""], ids=["mask", "empty"])
def test_annex_mask_or_empty_keeps_the_secret(client, txn, sent):
    annex = {"general": {"base_auth_url": "http://x/"}, "ewt": {"client_id": "pacing-demo", "password": sent}}
    response = send(client, "patch", url("transactions", txn.pk), {"annex": annex})
    assert response.status_code == 200, response.content
    assert stored_txn_password(txn.pk) == TXN_SECRET
    assert body(response)["annex"]["ewt"]["password"] == MASK
    assert Transaction.objects.get(pk=txn.pk).annex["general"] == {"base_auth_url": "http://x/"}


def test_annex_without_the_secret_key_keeps_it(client, txn):
    response = send(client, "patch", url("transactions", txn.pk), {"annex": {"ewt": {"client_id": "other"}}})
    assert response.status_code == 200, response.content
    assert Transaction.objects.get(pk=txn.pk).annex["ewt"] == {"client_id": "other", "password": TXN_SECRET}


def test_annex_new_value_replaces_the_secret(client, txn):
    response = send(client, "patch", url("transactions", txn.pk),
                    {"annex": {"ewt": {"client_id": "pacing-demo", "password": NEW_TXN_SECRET}}})
    assert response.status_code == 200, response.content
    assert stored_txn_password(txn.pk) == NEW_TXN_SECRET
    assert body(response)["annex"]["ewt"]["password"] == MASK
    assert NEW_TXN_SECRET not in raw_column("configdb_transaction", "annex", txn.pk)


def test_annex_null_removes_the_secret(client, txn):
    response = send(client, "patch", url("transactions", txn.pk),
                    {"annex": {"ewt": {"client_id": "pacing-demo", "password": None}}})
    assert response.status_code == 200, response.content
    assert Transaction.objects.get(pk=txn.pk).annex["ewt"] == {"client_id": "pacing-demo"}
    assert "password" not in body(response)["annex"]["ewt"]


def test_null_for_an_ordinary_key_is_a_400(client, txn):
    response = send(client, "patch", url("transactions", txn.pk), {"annex": {"ewt": {"client_id": None}}})
    assert response.status_code == 400
    assert "annex" in body(response)
    assert stored_txn_password(txn.pk) == TXN_SECRET


def test_the_mask_cannot_create_a_secret(client, txn):
    """Sending the mask for a key that holds no secret yet must not store the mask as the secret."""
    response = send(client, "patch", url("transactions", txn.pk),
                    {"annex": {"ewt": {"client_id": "pacing-demo", "password": TXN_SECRET},
                               "other": {"api_key": MASK}}})
    assert response.status_code == 400 or Transaction.objects.get(pk=txn.pk).annex.get("other", {}).get(
        "api_key") != MASK


@pytest.fixture
def dap(client, txn):
    dap_template(txn.tenant)
    response = send(client, "post", url("database-access-points"), {
        "tenant": "Environment", "name": "IXN_DAP", "template": "T_DAP", "dbms_type": "postgre",
        "db_password": DAP_SECRET})
    assert response.status_code == 201, response.content
    return body(response)


def stored_dap_password(pk):
    return DatabaseAccessPoint.objects.get(pk=pk).db_password


def test_dap_password_omitted_or_blank_is_kept(client, dap):
    assert stored_dap_password(dap["id"]) == DAP_SECRET
    assert send(client, "patch", url("database-access-points", dap["id"]), {"dbms_name": "pg1"}).status_code == 200
    assert stored_dap_password(dap["id"]) == DAP_SECRET
    assert send(client, "patch", url("database-access-points", dap["id"]), {"db_password": ""}).status_code == 200
    assert stored_dap_password(dap["id"]) == DAP_SECRET
    full = {"tenant": "Environment", "name": "IXN_DAP", "template": "T_DAP", "dbms_type": "mssql"}
    response = send(client, "put", url("database-access-points", dap["id"]), full)
    assert response.status_code == 200, response.content
    assert stored_dap_password(dap["id"]) == DAP_SECRET
    response = send(client, "put", url("database-access-points", dap["id"]), {**full, "db_password": ""})
    assert response.status_code == 200, response.content
    assert stored_dap_password(dap["id"]) == DAP_SECRET


def test_dap_password_new_value_replaces(client, dap):
    response = send(client, "patch", url("database-access-points", dap["id"]), {"db_password": NEW_DAP_SECRET})
    assert response.status_code == 200
    assert "db_password" not in body(response)
    assert stored_dap_password(dap["id"]) == NEW_DAP_SECRET


def test_secret_cannot_be_probed_with_a_filter(client, txn, dap):
    for params in ({"option": f"ewt/password={TXN_SECRET}"}, {"db_password": DAP_SECRET},
                   {"annex": "x"}, {"db_password__icontains": "dap"}):
        route = "database-access-points" if "db_password" in str(params) else "transactions"
        response = client.get(url(route), params)
        assert response.status_code == 400 or body(response)["count"] == 0, params


def test_admin_save_keeps_the_secret_and_records_no_plaintext(root, txn):
    client = Client()
    client.force_login(root)
    response = client.post(reverse("admin:configdb_transaction_change", args=[txn.pk]), {
        "name": "hybrid_integration", "alias": "hybrid_integration", "transaction_type": "list", "description": "",
        "tenant": txn.tenant_id, "folder": txn.folder_id, "state": "enabled", "annex-present": "1",
        "annex-section": ["ewt", "ewt", "general"], "annex-key": ["client_id", "password", "base_auth_url"],
        "annex-value": ["pacing-demo-2", "", "http://127.0.0.1:8089/oauth/token"],
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert Transaction.objects.get(pk=txn.pk).annex["ewt"] == {"client_id": "pacing-demo-2", "password": TXN_SECRET}
    change = ObjectChange.objects.filter(object_id=str(txn.pk), content_type__model="transaction", via="admin").get()
    assert_no_secret(json.dumps([change.prechange, change.postchange]), "admin ObjectChange")
    assert change.postchange["annex"]["ewt"]["password"] == MASK  # unchanged, so not "(changed)"
