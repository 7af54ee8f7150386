"""A virtual queue's pacing options are checked on every write path with discovery's rule (configdb/pacing_options.py).

Paths: the model through the services, the admin form, the options import page, the REST API (one object, a list,
PATCH), the configuration import. And the alias warning: saved, and said in the admin, in the API and in the
configuration import's report.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from configdb import pacing_options, services
from configdb.models import DN, DNType, MediaType, ObjectChange, Switch, VirtualQueue
from pacing import targets

from .api_helpers import body, client_for, make_user, send, url
from .test_transfer import export, failing_import, post_import, run_import, write

#: (media, goal) → what the error says (section/key: the value and the problem)
BAD = [
    ("chat", "abc", "pacing/optimizationGoal: 'abc' is not a number between 0 and 100"),
    ("chat", "150", "pacing/optimizationGoal: '150' is not a number between 0 and 100 (it is above 100)"),
    ("chat", "-1", "pacing/optimizationGoal: '-1' is not a number between 0 and 100 (it is below 0)"),
    ("chat", "NaN", "pacing/optimizationGoal: 'NaN' is not a number between 0 and 100"),
    ("chat,email", "3", "pacing/media: 'chat,email' lists several media types"),
    ("fax", None, "pacing/media: 'fax' is not a media type of tenant 'Environment' (its media types: chat, email, "
                  "voice)"),
    ("", None, "pacing/media: empty"),
    (None, "3", "pacing/media: missing"),
]


def pacing(media, goal) -> dict:
    section = {} if media is None else {"media": media}
    if goal is not None:
        section["optimizationGoal"] = goal
    return {"pacing": section}


def admin_url(view: str, *args) -> str:
    return reverse(f"admin:configdb_virtualqueue_{view}", args=args)


def vq_form(vq, sections, keys, values, **overrides) -> dict:
    data = {"number": vq.number, "switch": vq.switch_id, "alias": vq.alias, "association": "",
            "register": vq.register, "route_type": vq.route_type, "folder": "", "state": vq.state,
            "options-present": "1", "options-section": sections, "options-key": keys, "options-value": values}
    data.update(overrides)
    return data


def form_rows(options: dict) -> tuple[list, list, list]:
    rows = [(s, k, v) for s, keys in options.items() for k, v in keys.items()]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


# --- the rule ---------------------------------------------------------------------------------------------------


def test_discovery_and_validation_say_the_same(demo):
    """The one function: a legacy row with the value is skipped with exactly the words a save is refused with."""
    switch = Switch.objects.get(name="MultiMediaSwitch")
    for media, goal, message in BAD:
        queue = VirtualQueue(switch=switch, tenant=demo, number=f"Q {media} {goal}", alias=f"Q {media} {goal}",
                             options=pacing(media, goal))
        with pytest.raises(ValidationError) as refused:
            services.save_object(queue)
        problems = refused.value.message_dict["options"]
        assert any(p.startswith(message) for p in problems), (problems, message)
        queue.save()  # as a row written before the rule
        found = pacing_options.check_queue_pacing(
            (queue.options["pacing"]).get("media"), queue.options["pacing"].get("optimizationGoal"),
            set(MediaType.objects.filter(tenant=demo).values_list("name", flat=True)), "Environment")
        assert list(found.problems) == problems
    targets.clear_cache()
    skipped = {s.name: s.reason for s in targets.discover(demo, use_cache=False).skipped}
    for media, goal, message in BAD:
        assert message in skipped[f"Q {media} {goal}"]


def test_only_virtual_queues_with_a_pacing_section_are_checked(demo):
    switch = Switch.objects.get(name="MultiMediaSwitch")
    services.save_object(DN(switch=switch, number="1001", dn_type=DNType.EXTENSION, options=pacing("fax", "abc")))
    services.save_object(VirtualQueue(switch=switch, number="Plain", alias="Plain", options={"other": {"k": "v"}}))
    services.save_object(VirtualQueue(switch=switch, number="Good", alias="Good", options=pacing(" voice ", " 7 ")))


def test_media_types_are_those_of_the_queues_tenant(demo, other_tenant):
    switch = services.save_object(Switch(tenant=other_tenant, name="OtherSwitch"))
    with pytest.raises(ValidationError, match="not a media type of tenant 'Other' \\(it has no media types\\)"):
        services.save_object(VirtualQueue(switch=switch, number="Q", options=pacing("chat", None)))
    services.save_object(MediaType(tenant=other_tenant, name="chat"))
    services.save_object(VirtualQueue(switch=switch, number="Q", alias="Q", options=pacing("chat", None)))


def test_a_stored_bad_row_cannot_be_enabled_until_fixed(demo):
    """A legacy row: any save validates it whole (here: enable), naming the option to fix."""
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    queue.options = pacing("chat", "abc")
    queue.state = "disabled"
    queue.save()
    with pytest.raises(ValidationError, match="pacing/optimizationGoal: 'abc'"):
        services.set_state([queue], "enabled")


# --- admin form -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("media", "goal", "message"), BAD)
def test_admin_form_shows_the_error_naming_the_key_and_saves_nothing(admin_client, demo, media, goal, message):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    before = vq.options
    response = admin_client.post(admin_url("change", vq.pk), vq_form(vq, *form_rows(pacing(media, goal)),
                                                                      alias="changed"))
    assert response.status_code == 200
    page = response.content.decode()
    assert message.replace("'", "&#x27;") in page
    assert 'class="errorlist' in page
    vq.refresh_from_db()
    assert vq.options == before and vq.alias == "Proactive Chat"


def test_admin_add_form_refuses_too(admin_client, demo):
    switch = Switch.objects.get(name="MultiMediaSwitch")
    data = vq_form(VirtualQueue(switch=switch, number="New Queue", alias="New Queue"),
                   *form_rows(pacing("fax", None)))
    response = admin_client.post(admin_url("add"), data)
    assert response.status_code == 200
    assert "pacing/media: &#x27;fax&#x27; is not a media type of tenant" in response.content.decode()
    assert not DN.objects.filter(number="New Queue").exists()


def test_admin_saves_an_alias_that_differs_with_a_warning(admin_client, demo):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    response = admin_client.post(admin_url("change", vq.pk),
                                 vq_form(vq, *form_rows(pacing("chat", "3")), alias="PC"), follow=True)
    assert response.status_code == 200
    vq.refresh_from_db()
    assert vq.alias == "PC"
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    warnings = [text for level, text in shown if level == "warning"]
    assert len(warnings) == 1
    assert "its alias 'PC' differs from its number 'Proactive Chat'" in warnings[0]
    assert '"Abandoned statistics are not calculated (always 0)"' in warnings[0]
    # equal again: no warning
    response = admin_client.post(admin_url("change", vq.pk),
                                 vq_form(vq, *form_rows(pacing("chat", "3")), alias="Proactive Chat"), follow=True)
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


# --- options import page ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    (b"[pacing]\nmedia=chat\noptimizationGoal=abc\n", "pacing/optimizationGoal: &#x27;abc&#x27; is not a number"),
    (b"[pacing]\nmedia=chat,email\n", "pacing/media: &#x27;chat,email&#x27; lists several media types"),
    (b"[pacing]\nmedia=fax\n", "pacing/media: &#x27;fax&#x27; is not a media type of tenant"),
])
def test_options_import_page_refuses_and_writes_nothing(admin_client, demo, text, message):
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    before, last = vq.options, ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.post(admin_url("import_options", vq.pk, "options"),
                                 {"file": SimpleUploadedFile("o.txt", text)})
    assert response.status_code == 400
    assert message in response.content.decode()
    vq.refresh_from_db()
    assert vq.options == before
    assert not ObjectChange.objects.filter(pk__gt=last).exists()


def test_options_import_page_warns_about_the_alias(admin_client, demo):
    switch = Switch.objects.get(name="MultiMediaSwitch")
    vq = services.save_object(VirtualQueue(switch=switch, number="Later Paced", alias="LP"))
    response = admin_client.post(admin_url("import_options", vq.pk, "options"),
                                 {"file": SimpleUploadedFile("o.txt", b"[pacing]\nmedia=email\n")}, follow=True)
    assert response.status_code == 200
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "its alias 'LP' differs from its number 'Later Paced'" in warnings[0]


# --- REST API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def client(demo):
    client = client_for(make_user("root", superuser=True))
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(("media", "goal", "message"), BAD)
def test_api_post_and_patch_are_400_naming_the_field(client, demo, media, goal, message):
    created = send(client, "post", url("virtual-queues"), {"switch": "MultiMediaSwitch", "number": "VQ New",
                                                           "alias": "VQ New", "options": pacing(media, goal)})
    assert created.status_code == 400, created.content
    assert any(m.startswith(message) for m in body(created)["options"])
    assert not DN.objects.filter(number="VQ New").exists()
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    for route in ("virtual-queues", "dns"):
        patched = send(client, "patch", url(route, vq.pk), {"options": pacing(media, goal)})
        assert patched.status_code == 400, patched.content
        assert any(m.startswith(message) for m in body(patched)["options"])
    vq.refresh_from_db()
    assert vq.options == {"pacing": {"media": "chat", "optimizationGoal": "3"}}


def test_api_bulk_post_names_the_record_and_writes_nothing(client, demo):
    records = [{"switch": "MultiMediaSwitch", "number": f"Bulk {i}", "alias": f"Bulk {i}",
                "options": pacing("chat", "3")} for i in range(3)]
    records[2]["options"] = pacing("chat", "150")
    response = send(client, "post", url("virtual-queues"), records)
    assert response.status_code == 400
    assert body(response)["errors"] == [
        "record 3, options: pacing/optimizationGoal: '150' is not a number between 0 and 100 (it is above 100)"]
    assert not DN.objects.filter(number__startswith="Bulk").exists()


def test_api_warns_about_the_alias_in_the_body(client, demo):
    created = send(client, "post", url("virtual-queues"), {"switch": "MultiMediaSwitch", "number": "VQ Alias",
                                                           "alias": "other", "options": pacing("chat", "")})
    assert created.status_code == 201, created.content
    data = body(created)
    assert len(data["warnings"]) == 1
    assert "its alias 'other' differs from its number 'VQ Alias'" in data["warnings"][0]
    assert "Abandoned statistics are not calculated (always 0)" in data["warnings"][0]
    # warnings sent back (from a GET's body) are ignored; fixing the alias clears the warning
    got = body(send(client, "get", url("virtual-queues", data["id"])))
    assert got["warnings"] == data["warnings"]
    fixed = send(client, "patch", url("virtual-queues", data["id"]), {"alias": "VQ Alias", "warnings": ["x"]})
    assert fixed.status_code == 200, fixed.content
    assert body(fixed)["warnings"] == []
    assert body(send(client, "get", url("dns", data["id"])))["warnings"] == []
    # a queue without a pacing section is not warned about
    plain = send(client, "post", url("virtual-queues"), {"switch": "MultiMediaSwitch", "number": "Plain VQ"})
    assert body(plain)["warnings"] == []


# --- configuration import ---------------------------------------------------------------------------------------


def test_config_import_refuses_bad_pacing_options_and_writes_nothing(demo, tmp_path):
    _text, document = export()
    queues = document["objects"]["virtual-queues"]
    chat = next(i for i, q in enumerate(queues) if q["number"] == "Proactive Chat")
    queues[chat]["options"]["pacing"]["optimizationGoal"] = "abc"
    document["objects"]["skills"].append({"name": "Brand New"})
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    message, errors = failing_import(write(tmp_path, document))
    assert message == "Nothing was imported: 1 problem."
    assert errors == [f"virtual-queues[{chat}] (Proactive Chat): options: pacing/optimizationGoal: 'abc' is not a "
                      "number between 0 and 100"]
    assert not ObjectChange.objects.filter(pk__gt=last).exists()
    assert VirtualQueue.objects.get(number="Proactive Chat").options["pacing"]["optimizationGoal"] == "3"


def test_config_import_of_a_new_tenant_creates_its_media_types_before_its_queues(other_tenant, tmp_path):
    switch = services.save_object(Switch(tenant=other_tenant, name="OtherSwitch"))
    services.save_object(MediaType(tenant=other_tenant, name="chat"))
    services.save_object(VirtualQueue(switch=switch, number="Q", alias="Q", options=pacing("chat", "3")))
    _text, document = export("Other")
    document["tenant"] = "Copy"
    document["objects"]["virtual-queues"].append({**document["objects"]["virtual-queues"][0], "number": "Bad Fax",
                                                  "alias": "Bad Fax", "options": pacing("fax", None)})
    _message, errors = failing_import(write(tmp_path, document))
    assert errors == ["virtual-queues[1] (Bad Fax): options: pacing/media: 'fax' is not a media type of tenant 'Copy' "
                      "(its media types: chat)"]
    assert not MediaType.objects.filter(tenant__name="Copy").exists()
    document["objects"]["virtual-queues"].pop()
    run_import(write(tmp_path, document))
    assert VirtualQueue.objects.get(tenant__name="Copy", number="Q").options == pacing("chat", "3")


def test_config_import_warns_about_the_alias_in_its_report(demo, tmp_path):
    """The import saves a queue whose alias differs from its number, as the admin and the API do, and says so:
    a Warning: line of the command (a dry run too) and the summary's warnings in the API, each naming the record."""
    _text, document = export()
    queues = document["objects"]["virtual-queues"]
    chat = next(i for i, q in enumerate(queues) if q["number"] == "Proactive Chat")
    queues[chat]["alias"] = "PC"
    said = (f"virtual-queues[{chat}] (Proactive Chat): Virtual queue 'Proactive Chat': its alias 'PC' differs from "
            "its number 'Proactive Chat'.")
    path = write(tmp_path, document)

    dry = [line for line in run_import(path, "--dry-run").splitlines() if line.startswith("Warning:")]
    assert len(dry) == 1 and dry[0].startswith(f"Warning: {said}")
    assert VirtualQueue.objects.get(number="Proactive Chat").alias == "Proactive Chat"

    out = run_import(path)
    warnings = [line for line in out.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(f"Warning: {said}")
    assert '"Abandoned statistics are not calculated (always 0)"' in warnings[0]
    assert VirtualQueue.objects.get(number="Proactive Chat").alias == "PC"

    root = client_for(make_user("root", superuser=True))
    response = post_import(root, {"document": document, "dry_run": True})
    assert response.status_code == 200, response.content
    assert len(body(response)["warnings"]) == 1 and body(response)["warnings"][0].startswith(said)

    # the alias equal to the number again (and queues without a pacing section, the demo's others): nothing said
    queues[chat]["alias"] = "Proactive Chat"
    assert "Warning:" not in run_import(write(tmp_path, document))
    response = post_import(root, {"document": document, "dry_run": True})
    assert body(response)["warnings"] == []


# --- a media type pacing queues name ----------------------------------------------------------------------------


IN_USE = "Media type 'chat' is the pacing/media of virtual queues of its tenant ('Proactive Chat'): change their " \
         "pacing/media first."


def test_a_media_type_queues_pace_on_cannot_be_renamed_moved_or_deleted(demo, other_tenant):
    chat = MediaType.objects.get(tenant=demo, name="chat")
    chat.name = "webchat"
    with pytest.raises(ValidationError) as renamed:
        services.save_object(chat)
    assert renamed.value.message_dict == {"name": [IN_USE]}
    chat = MediaType.objects.get(tenant=demo, name="chat")
    chat.tenant = other_tenant
    with pytest.raises(ValidationError) as moved:
        services.save_object(chat)
    assert "tenant" in moved.value.message_dict  # its persons refer to it too (services.check_move)
    sms = services.save_object(MediaType(tenant=demo, name="sms"))
    services.save_object(VirtualQueue(switch=Switch.objects.get(name="MultiMediaSwitch"), number="SMS", alias="SMS",
                                      options=pacing("sms", "3")))
    sms.tenant = other_tenant
    with pytest.raises(ValidationError) as moved:
        services.save_object(sms)
    assert moved.value.message_dict == {"tenant": [IN_USE.replace("'chat'", "'sms'").replace("Proactive Chat", "SMS")]}
    chat = MediaType.objects.get(tenant=demo, name="chat")
    with pytest.raises(ValidationError) as deleted:
        services.delete_object(chat)
    assert deleted.value.messages == [IN_USE]
    assert MediaType.objects.filter(tenant=demo, name="chat").exists()
    # its display name may change; a media type no queue paces on may be renamed and deleted
    chat.display_name = "Web chat"
    services.save_object(chat)
    email = MediaType.objects.get(tenant=demo, name="email")
    email.name = "mail"
    services.save_object(email)
    services.delete_object(email)
    # once the queue paces on another media type, chat is free
    vq = VirtualQueue.objects.get(number="Proactive Chat")
    vq.options = pacing("voice", "3")
    services.save_object(vq)
    services.delete_object(chat)


def test_the_api_answers_400_for_a_media_type_in_use(client, demo):
    chat = MediaType.objects.get(tenant=demo, name="chat")
    deleted = send(client, "delete", url("media-types", chat.pk))
    assert deleted.status_code == 400, deleted.content
    assert IN_USE in str(body(deleted))
    renamed = send(client, "patch", url("media-types", chat.pk), {"name": "webchat"})
    assert renamed.status_code == 400, renamed.content
    assert body(renamed)["name"] == [IN_USE]
    assert MediaType.objects.filter(pk=chat.pk, name="chat").exists()


def test_the_admin_says_why_a_media_type_in_use_stays(admin_client, demo):
    chat = MediaType.objects.get(tenant=demo, name="chat")
    email = MediaType.objects.get(tenant=demo, name="email")
    deleted = admin_client.post(reverse("admin:configdb_mediatype_delete", args=[chat.pk]), {"post": "yes"},
                                follow=True)
    assert deleted.status_code == 200
    assert f"Nothing was deleted: {IN_USE}" in [str(m) for m in deleted.context["messages"]]
    # the "Delete selected" action: all or none
    action = admin_client.post(reverse("admin:configdb_mediatype_changelist"),
                               {"action": "delete_selected", "_selected_action": [email.pk, chat.pk], "post": "yes"},
                               follow=True)
    assert action.status_code == 200
    assert f"Nothing was changed: {IN_USE}" in [str(m) for m in action.context["messages"]]
    assert set(MediaType.objects.filter(pk__in=[chat.pk, email.pk]).values_list("name", flat=True)) == {"chat",
                                                                                                           "email"}
    renamed = admin_client.post(reverse("admin:configdb_mediatype_change", args=[chat.pk]),
                                {"name": "webchat", "display_name": "", "folder": "", "state": chat.state})
    assert renamed.status_code == 200  # the form again, with the error on the name
    assert IN_USE in renamed.content.decode().replace("&#x27;", "'")
    assert MediaType.objects.get(pk=chat.pk).name == "chat"


def test_config_import_with_replace_keeps_a_media_type_in_use(demo, tmp_path):
    """A replace that drops a media type a kept queue paces on fails and writes nothing; one that drops the
    queue too deletes both (the queues go first)."""
    services.save_object(MediaType(tenant=demo, name="sms"))
    services.save_object(VirtualQueue(switch=Switch.objects.get(name="MultiMediaSwitch"), number="SMS", alias="SMS",
                                      options=pacing("sms", "3")))
    _text, document = export()
    document["objects"]["media-types"] = [m for m in document["objects"]["media-types"] if m["name"] != "sms"]
    last = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    message, errors = failing_import(write(tmp_path, document), "--replace")
    assert message.startswith("Nothing was imported"), message
    assert any("sms" in e and "pacing/media" in e for e in errors), errors
    assert not ObjectChange.objects.filter(pk__gt=last).exists()
    assert MediaType.objects.filter(tenant=demo, name="sms").exists()
    document["objects"]["virtual-queues"] = [q for q in document["objects"]["virtual-queues"] if q["number"] != "SMS"]
    run_import(write(tmp_path, document), "--replace")
    assert not MediaType.objects.filter(tenant=demo, name="sms").exists()
    assert not DN.objects.filter(tenant=demo, number="SMS").exists()
