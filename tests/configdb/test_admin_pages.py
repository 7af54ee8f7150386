"""Small things the admin pages show (issue 11's "small defects"): the history lists the keys that changed,
its breadcrumbs name the app, one secret help line per options table, counts read as English, a favicon,
and the API description keeps its ``<key>`` placeholder."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from alarms import catalog, runtime
from configdb import services
from configdb.models import TenantGrant, Transaction, VirtualQueue


def history_entries(admin_client, obj) -> list[list[str]]:
    """The History page's change entries, newest first: each the text of its list items."""
    page = admin_client.get(reverse(f"admin:configdb_{obj._meta.model_name}_history", args=[obj.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    lists = re.findall(r'<ul class="change-diff">(.*?)</ul>', html, re.DOTALL)
    return [[re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block, re.DOTALL)]
            for block in lists]


def test_the_history_shows_the_option_keys_that_changed_not_the_whole_table(admin_client, demo):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    queue.options = {"pacing": {"media": "chat", "optimizationGoal": "5"}, "gpe": {"priority": "high"}}
    services.save_object(queue)

    newest = history_entries(admin_client, queue)[0]
    assert sorted(newest) == ["options: gpe/priority: — → high", "options: pacing/optimizationGoal: 3 → 5"]
    # the key that did not change (pacing/media) is not listed, nor the tables themselves
    assert not any("media" in entry or "{" in entry for entry in newest)


def test_the_history_shows_a_removed_key_and_other_fields_as_before(admin_client, demo):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    queue.options = {"pacing": {"media": "chat"}}
    queue.alias = "PC"
    services.save_object(queue)
    assert sorted(history_entries(admin_client, queue)[0]) == [
        "alias: Proactive Chat → PC", "options: pacing/optimizationGoal: 3 → —"]


def test_a_changed_secret_is_listed_masked(admin_client, demo):
    txn = Transaction.objects.get(name="hybrid_integration")
    txn.annex = {**txn.annex, "ewt": {**txn.annex["ewt"], "password": "another-secret"}}
    services.save_object(txn)
    html = admin_client.get(reverse("admin:configdb_transaction_history", args=[txn.pk])).content.decode()
    assert "another-secret" not in html and "demo-client-secret" not in html
    assert history_entries(admin_client, txn)[0] == ["annex: ewt/password: ******** → ******** (changed)"]


def breadcrumbs(html: str) -> list[tuple[str, str]]:
    block = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.DOTALL).group(1)
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block)


def test_history_breadcrumbs_name_the_app(admin_client, demo):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    html = admin_client.get(reverse("admin:configdb_virtualqueue_history", args=[queue.pk])).content.decode()
    assert breadcrumbs(html) == [
        ("/admin/", "Home"), ("/admin/configdb/", "Configuration"),
        ("/admin/configdb/virtualqueue/", "Virtual queues"),
        (f"/admin/configdb/virtualqueue/{queue.pk}/change/", "Proactive Chat"),
    ]
    alarm = runtime.raise_alarm(catalog.GC_LATENCY, "pause", source="node-1", node="node-1")
    html = admin_client.get(reverse("admin:alarms_alarm_history", args=[alarm.pk])).content.decode()
    assert [label for _url, label in breadcrumbs(html)][:2] == ["Home", "Alarms"]
    assert breadcrumbs(html)[1][0] == "/admin/alarms/"


def test_the_transaction_page_says_once_how_secrets_are_kept(admin_client, demo):
    txn = Transaction.objects.get(name="hybrid_integration")
    html = admin_client.get(reverse("admin:configdb_transaction_change", args=[txn.pk])).content.decode()
    assert html.count("named like a password or secret") == 1


def test_an_options_import_counts_in_english(admin_client, demo):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    upload = SimpleUploadedFile("o.txt", b"[pacing]\nmedia=chat\n")
    response = admin_client.post(reverse("admin:configdb_virtualqueue_import_options", args=[queue.pk, "options"]),
                                 {"file": upload, "replace": "on"}, follow=True)
    assert "now has 1 key in 1 section." in response.content.decode()


def test_the_favicon_is_served_without_login(db):
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_api_description_keeps_the_key_placeholder_as_code(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "`Authorization: Token <key>`" in schema["info"]["description"]


def test_a_reader_gets_an_absolute_export_link_and_no_import(client, demo):
    reader = get_user_model().objects.create_user("reader", password="x", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_virtualqueue"))
    TenantGrant.objects.create(user=reader, tenant=demo, access="read")
    client.force_login(reader)
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    html = client.get(reverse("admin:configdb_virtualqueue_change", args=[queue.pk])).content.decode()
    export = f"/admin/configdb/virtualqueue/{queue.pk}/options/options/export/"
    assert f'href="{export}"' in html
    assert "options-import" not in html
    assert client.get(export).status_code == 200
    assert client.get(f"/admin/configdb/virtualqueue/{queue.pk}/options/options/import/").status_code == 403
