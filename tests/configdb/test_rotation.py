"""``manage.py rotate_secrets_key``: every stored secret re-encrypted under the newest key, so the old one can be
dropped; nothing else changes, a dry run writes nothing, a secret no key opens is reported (exit 1)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from configdb import crypto, services
from configdb.models import DatabaseAccessPoint, ObjectChange, Tenant, Transaction
from configdb.rotation import _raw, _tokens, secret_fields

from .api_helpers import dap_template

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
ORIGINAL: list[str] = []


def stored_tokens() -> list[str]:
    tokens = []
    for model, f in secret_fields():
        pks = list(model._base_manager.values_list("pk", flat=True))
        if pks:
            tokens += [t for stored in _raw(model, f, pks).values() for _, t in _tokens(f, stored)]
    return tokens


@pytest.fixture
def secrets_old_key(settings, demo):
    global ORIGINAL
    ORIGINAL = list(settings.PACING_SECRETS_KEYS)                          # the demo's secrets are under these
    settings.PACING_SECRETS_KEYS = [OLD, *ORIGINAL]
    tenant = Tenant.objects.get(name="Environment")
    txn = services.save_object(Transaction(tenant=tenant, name="rotate_me", transaction_type="list",
                                           annex={"gpe": {"client_id": "abc", "client_secret": "s3cret-one"}}))
    dap = services.save_object(DatabaseAccessPoint(tenant=tenant, name="DAP_rotate", template=dap_template(tenant),
                                                   dbms_type="postgre", db_username="u", db_password="pw-two"))
    return txn, dap


def run(*args) -> str:
    out = io.StringIO()
    call_command("rotate_secrets_key", *args, stdout=out)
    return out.getvalue()


def test_rotation_moves_every_secret_to_the_newest_key(settings, secrets_old_key):
    txn, dap = secrets_old_key
    before = stored_tokens()
    changes = ObjectChange.objects.count()

    settings.PACING_SECRETS_KEYS = [NEW, OLD, *ORIGINAL]
    assert before and not any(crypto.is_current(t) for t in before)
    assert "would be re-encrypted" in run("--dry-run")
    assert stored_tokens() == before                                         # a dry run writes nothing
    out = run()
    assert f"{len(before)} secret(s) re-encrypted under the newest key" in out
    assert all(crypto.is_current(t) for t in stored_tokens())
    assert ObjectChange.objects.count() == changes                           # not a configuration change
    assert "0 secret(s) re-encrypted" in run() and f"{len(before)} already were" in run()

    settings.PACING_SECRETS_KEYS = [NEW]                                     # the old key dropped
    assert Transaction.objects.get(pk=txn.pk).annex["gpe"]["client_secret"] == "s3cret-one"
    assert DatabaseAccessPoint.objects.get(pk=dap.pk).db_password == "pw-two"


def test_a_secret_no_key_opens_is_reported_and_left(settings, secrets_old_key):
    txn, _ = secrets_old_key
    settings.PACING_SECRETS_KEYS = [NEW]                                     # OLD lost before rotating
    with pytest.raises(CommandError) as raised:
        run()
    assert "decrypt with no configured key" in str(raised.value)
    assert f"configdb.Transaction {txn.pk} annex gpe/client_secret" in str(raised.value)
    settings.PACING_SECRETS_KEYS = [NEW, OLD, *ORIGINAL]                     # restored: nothing was lost
    assert Transaction.objects.get(pk=txn.pk).annex["gpe"]["client_secret"] == "s3cret-one"


def test_saving_a_secret_read_under_an_older_key_re_encrypts_it(settings, secrets_old_key):
    txn, _ = secrets_old_key
    settings.PACING_SECRETS_KEYS = [NEW, OLD, *ORIGINAL]
    services.save_object(Transaction.objects.get(pk=txn.pk))
    (token,) = [t for t in stored_tokens() if crypto.decrypt(t) == "s3cret-one"]
    assert crypto.is_current(token)
