"""Bulk create: POST a list; all or nothing, and every problem names its record and field."""

from __future__ import annotations

import pytest

from configdb.models import DN, AlarmCondition, ObjectChange, VirtualQueue

from .api_helpers import BRIEF_KEYS, body, client_for, make_user, send, url


@pytest.fixture
def client(demo):
    return client_for(make_user("root", superuser=True))


def queue(number: str, **extra) -> dict:
    return {"switch": "MultiMediaSwitch", "number": number, "alias": number,
            "options": {"pacing": {"media": "chat", "optimizationGoal": "3"}}, **extra}


def counts():
    return DN.objects.count(), ObjectChange.objects.count()


def test_good_list_creates_all(client):
    records = [queue(f"Bulk {n}") for n in range(1, 6)]
    response = send(client, "post", url("virtual-queues"), records)
    assert response.status_code == 201, response.content
    created = body(response)
    assert [row["number"] for row in created] == [f"Bulk {n}" for n in range(1, 6)]
    assert all(set(row["switch"]) == BRIEF_KEYS and row["switch"]["name"] == "MultiMediaSwitch" for row in created)
    assert all(row["tenant"]["name"] == "Environment" for row in created)
    assert all(row["dn_type"] == "virtual_queue" for row in created)
    stored = VirtualQueue.objects.filter(number__startswith="Bulk ")
    assert sorted(stored.values_list("pk", flat=True)) == sorted(row["id"] for row in created)
    for row in created:
        assert client.get(url("virtual-queues", row["id"])).status_code == 200


def test_bad_records_are_named_and_nothing_is_written(client):
    before = counts()
    records = [
        queue("Bulk 1"),
        queue(["not", "text"]),
        queue("Bulk 3"),
        queue("Bulk 4", switch="NoSuchSwitch"),
        queue("Bulk 5"),
    ]
    response = send(client, "post", url("virtual-queues"), records)
    assert response.status_code == 400, response.content
    data = body(response)
    errors = data["errors"]
    assert any(line.startswith("record 2, number: ") for line in errors), errors
    assert any(line.startswith("record 4, switch: ") and "NoSuchSwitch" in line for line in errors), errors
    assert not any(line.startswith(("record 1", "record 3", "record 5")) for line in errors), errors
    assert "Nothing was written" in data["detail"]
    assert counts() == before
    assert not VirtualQueue.objects.filter(number__startswith="Bulk ").exists()


def test_a_late_problem_rolls_back_the_records_before_it(client):
    before = counts()
    records = [queue(f"Bulk {n}") for n in range(1, 5)] + [queue("Bulk 5", register="sometimes")]
    response = send(client, "post", url("virtual-queues"), records)
    assert response.status_code == 400
    assert [line.split(":")[0] for line in body(response)["errors"]] == ["record 5, register"]
    assert counts() == before


def test_duplicate_numbers_in_one_list_name_the_second_record(client):
    before = counts()
    records = [queue("Bulk 1"), queue("Bulk 2"), queue("Bulk 1"), queue("Bulk 4")]
    response = send(client, "post", url("virtual-queues"), records)
    assert response.status_code == 400, response.content
    errors = body(response)["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith("record 3, "), errors
    assert "already has a DN with this number" in errors[0]
    assert counts() == before


def test_duplicate_of_an_existing_object_is_named(client):
    response = send(client, "post", url("virtual-queues"), [queue("Bulk 1"), queue("Proactive Chat")])
    assert response.status_code == 400
    errors = body(response)["errors"]
    assert len(errors) == 1 and errors[0].startswith("record 2, "), errors


def test_uniqueness_problems_name_the_field(client):
    """As the model's own rule does (FieldNamedConstraints): "number: This switch already has …",
    so a script author knows which field of which record to change."""
    response = send(client, "post", url("virtual-queues"), [queue("Bulk 1"), queue("Bulk 1")])
    assert body(response)["errors"] == ["record 2, number: This switch already has a DN with this number. "
                                        "(the same as record 1 of this request)"]
    response = send(client, "post", url("virtual-queues"), queue("Proactive Chat"))
    assert response.status_code == 400
    assert body(response) == {"number": ["This switch already has a DN with this number."]}
    response = send(client, "post", url("skills"), {"tenant": "Environment", "name": "Proactive"})
    assert body(response) == {"name": ["This tenant already has a skill with this name."]}


def test_model_rules_are_named_by_record_and_field(client):
    before = AlarmCondition.objects.count()
    records = [
        {"tenant": "Environment", "name": "A1", "detect_event_id": 1, "cancel_event_id": 2},
        {"tenant": "Environment", "name": "A2", "detect_event_id": 3, "cancel_event_id": 3},
    ]
    response = send(client, "post", url("alarm-conditions"), records)
    assert response.status_code == 400
    errors = body(response)["errors"]
    assert [line.split(":")[0] for line in errors] == ["record 2, cancel_event_id"], errors
    assert AlarmCondition.objects.count() == before


def test_options_problems_are_named_by_record(client):
    response = send(client, "post", url("virtual-queues"),
                    [queue("Bulk 1"), queue("Bulk 2", options={"pacing": {"media": 5}})])
    assert response.status_code == 400
    errors = body(response)["errors"]
    assert errors and all(line.startswith("record 2, options") for line in errors), errors


def test_records_that_are_not_objects(client):
    response = send(client, "post", url("virtual-queues"), [queue("Bulk 1"), "Bulk 2", 3, None, []])
    assert response.status_code == 400
    errors = body(response)["errors"]
    assert errors == [f"record {n}: expected an object." for n in (2, 3, 4, 5)]
    assert not DN.objects.filter(number="Bulk 1").exists()


def test_empty_and_oversized_lists(client, settings):
    response = send(client, "post", url("virtual-queues"), [])
    assert response.status_code == 400
    assert "empty" in response.content.decode()
    settings.PACING_API_MAX_BULK = 3
    response = send(client, "post", url("virtual-queues"), [queue(f"Bulk {n}") for n in range(4)])
    assert response.status_code == 400
    assert "At most 3" in response.content.decode()
    assert not DN.objects.filter(number__startswith="Bulk").exists()


def test_unknown_fields_in_a_record(client):
    response = send(client, "post", url("virtual-queues"), [queue("Bulk 1"), queue("Bulk 2", colour="red")])
    assert response.status_code == 400
    assert body(response)["errors"] == ["record 2, colour: Unknown field."]
