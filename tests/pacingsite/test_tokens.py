"""API tokens: ``manage.py api_token`` issues, lists and revokes them; only a digest is stored."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from pacingsite.models import ApiToken

TENANTS = "/api/v1/tenants/"


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def issue(username="script", *extra) -> str:
    out, err = run("issue", "--user", username, *extra)
    key = out.strip()
    assert key and "\n" not in key, out
    assert key not in err  # the key is printed once, on stdout only
    return key


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def user(db):
    return get_user_model().objects.create_superuser("script", None, None)


def test_issued_key_authenticates(user, env_tenant):
    key = issue()
    assert key.startswith("pc_")
    response = with_token(key).get(TENANTS)
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["results"]] == ["Environment"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bearer.get(TENANTS).status_code == 200


def test_token_acts_as_its_user(user, env_tenant):
    from configdb.models import TenantGrant

    reader = get_user_model().objects.create_user("reader")
    TenantGrant.objects.create(user=reader, tenant=env_tenant, access="read")
    key = issue("reader")
    client = with_token(key)
    assert client.get(TENANTS).json()["count"] == 1
    response = client.patch(f"{TENANTS}{env_tenant.pk}/", {"description": "x"}, format="json")
    assert response.status_code == 403


def test_only_a_sha256_digest_is_stored(user):
    key = issue("script", "--description", "nightly export")
    token = ApiToken.objects.get()
    assert token.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:10]
    assert token.description == "nightly export"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM pacingsite_apitoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    raw = " ".join(str(value) for value in rows[0])
    assert key not in raw
    assert key[10:] not in raw  # nothing beyond the prefix
    assert token.key_digest in raw


def test_each_issue_is_a_new_key(user):
    keys = {issue() for _ in range(3)}
    assert len(keys) == 3
    assert ApiToken.objects.filter(user=user).count() == 3


def test_revoke_by_prefix_makes_it_401(user, env_tenant):
    key = issue()
    keep = issue()
    client = with_token(key)
    assert client.get(TENANTS).status_code == 200
    out, _ = run("revoke", key[:10])
    assert "Revoked 1" in out
    response = client.get(TENANTS)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")
    assert with_token(keep).get(TENANTS).status_code == 200


def test_revoke_all_of_a_user(user, env_tenant):
    keys = [issue(), issue()]
    out, _ = run("revoke", "--all-of", "script")
    assert "Revoked 2" in out
    for key in keys:
        assert with_token(key).get(TENANTS).status_code == 401
    with pytest.raises(CommandError):
        run("revoke", "--all-of", "script")


def test_revoke_unknown_prefix_is_an_error(user):
    with pytest.raises(CommandError, match="No such token"):
        run("revoke", "pc_nothing")


def test_expired_token_is_401(user, env_tenant):
    key = issue("script", "--expires-days", "1")
    token = ApiToken.objects.get()
    assert token.expires > timezone.now() + timedelta(hours=23)
    assert with_token(key).get(TENANTS).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert with_token(key).get(TENANTS).status_code == 401


def test_expires_days_must_be_positive(user):
    with pytest.raises(CommandError, match="expires-days"):
        run("issue", "--user", "script", "--expires-days", "0")
    assert not ApiToken.objects.exists()


def test_inactive_users_token_is_401(user, env_tenant):
    key = issue()
    user.is_active = False
    user.save()
    assert with_token(key).get(TENANTS).status_code == 401


def test_wrong_or_malformed_keys_are_401(user, env_tenant):
    key = issue()
    for header in (f"Token {key}x", f"Token {key[:-1]}", f"Token {key} extra", "Token", f"Basic {key}x"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get(TENANTS).status_code == 401, header


def test_last_used_is_recorded(user, env_tenant):
    key = issue()
    assert ApiToken.objects.get().last_used is None
    with_token(key).get(TENANTS)
    assert ApiToken.objects.get().last_used is not None


def test_list_shows_prefixes_not_keys(user):
    other = get_user_model().objects.create_user("other")
    key = issue("script", "--description", "nightly")
    other_key = issue("other")
    out, _ = run("list")
    assert key[:10] in out and other_key[:10] in out
    assert key not in out and other_key not in out
    assert key[10:] not in out
    assert "nightly" in out
    mine, _ = run("list", "--user", "script")
    assert key[:10] in mine and other_key[:10] not in mine
    assert other.username not in mine


def test_issue_for_unknown_user_is_a_command_error(db):
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        run("issue", "--user", "ghost")
    assert not ApiToken.objects.exists()
