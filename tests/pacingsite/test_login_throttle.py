"""Login throttling (pacingsite/throttle.py): a few failed logins lock the account name tried, and many the
address; the admin's login form says how long is left; a success clears the name's count."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings

from pacingsite.models import LoginFailure
from pacingsite.throttle import client_address

PASSWORD = "a-long-and-good-password"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("ops", password=PASSWORD)


def login(client, username, password, address="10.0.0.1"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_five_failures_lock_the_name_even_for_its_right_password(db, client, staff):
    for _ in range(5):
        assert login(client, "ops", "wrong").status_code == 200          # the form again, with its error
    answer = login(client, "ops", PASSWORD)
    assert answer.status_code == 200
    assert "Too many failed logins: this account name (or your address) may try again in 15 minutes." in \
        answer.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_with_its_window(db, client, staff):
    for _ in range(5):
        login(client, "ops", "wrong")
    LoginFailure.objects.update(window_start=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert login(client, "ops", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(key="user:ops").exists()      # a success clears the name's count


def test_a_success_clears_the_count_and_another_name_is_not_locked(db, client, staff, django_user_model):
    django_user_model.objects.create_superuser("other", password=PASSWORD)
    for _ in range(4):
        login(client, "ops", "wrong")
    assert login(client, "ops", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "ops", "wrong")
    assert login(client, "ops", PASSWORD).status_code == 302             # 4 + 4, but cleared in between
    client.logout()
    for _ in range(5):
        login(client, "ops", "wrong")
    assert login(client, "other", PASSWORD).status_code == 302           # the name is locked, not the user's peers


def test_names_that_do_not_exist_are_locked_alike(db, client):
    for _ in range(5):
        login(client, "nobody", "wrong")
    assert "Too many failed logins" in login(client, "nobody", "wrong").content.decode()


@override_settings(PACING_LOGIN_FAILURES=2)
def test_one_address_trying_many_names_is_locked(db, client, staff):
    for i in range(8):                                                   # 4 x 2 failures, one per name
        login(client, f"guess{i}", "wrong", address="10.9.9.9")
    assert "Too many failed logins" in login(client, "ops", PASSWORD, address="10.9.9.9").content.decode()
    assert login(client, "ops", PASSWORD, address="10.0.0.2").status_code == 302


class _Request:
    def __init__(self, remote, forwarded=None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


def test_the_client_address_behind_trusted_proxies(settings):
    request = _Request("10.0.0.254", "203.0.113.9, 198.51.100.7")
    settings.PACING_PROXY_HOPS = 0
    assert client_address(request) == "10.0.0.254"
    settings.PACING_PROXY_HOPS = 1                                       # the proxy appended the client's address
    assert client_address(request) == "198.51.100.7"
    settings.PACING_PROXY_HOPS = 2
    assert client_address(request) == "203.0.113.9"
    settings.PACING_PROXY_HOPS = 3                                       # fewer entries than proxies: REMOTE_ADDR
    assert client_address(request) == "10.0.0.254"
