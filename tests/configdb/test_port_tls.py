"""A port's TLS material (certificate, certificate key, trusted CA): checked where it is typed, the key stored
encrypted, write-only in the API, masked in the history and the admin, exported as a token."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.db import connection

from configdb import crypto, pem, services
from configdb.models import Application, ObjectChange, Port

from .api_helpers import body, client_for, make_user, send, url
from .factories import tls_material

CERT, KEY = tls_material()
OTHER_CERT, OTHER_KEY = tls_material("other.example.com")


def key_body(key_pem: str = KEY) -> str:
    """A line from the middle of the key: what must never appear in an answer, a log or the history."""
    return key_pem.splitlines()[2]


@pytest.fixture
def node(demo):
    return Application.objects.get(name="Pacing_Server_Node_01")


@pytest.fixture
def port(node):
    return Port.objects.get(application=node, port_id="default")


def save_tls(port, **values) -> Port:
    for name, value in values.items():
        setattr(port, name, value)
    return services.save_object(port)


def stored_key(port) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT certificate_key FROM {Port._meta.db_table} WHERE id = %s", [port.pk])  # noqa: S608
        return cursor.fetchone()[0]


# -- the PEM rules (configdb/pem.py) -------------------------------------------------------------------


def test_a_pem_that_lost_its_line_breaks_is_read_and_rewrapped():
    one_line = "".join(CERT.splitlines())
    assert "\n" not in one_line
    normalised, chain = pem.certificates(f"subject=CN = pacing.example.com\n{one_line}\ntrailing text")
    assert normalised == CERT
    assert len(chain) == 1
    key, _ = pem.private_key("".join(KEY.splitlines()))
    assert key == KEY


def test_a_chain_and_a_bundle_keep_every_certificate_in_order():
    normalised, chain = pem.certificates(CERT + OTHER_CERT)
    assert normalised == CERT + OTHER_CERT
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=pacing.example.com", "CN=other.example.com"]


# -- saving through the service (admin, API, import and commands alike) --------------------------------


def test_certificate_key_and_ca_are_saved_the_key_encrypted(port):
    save_tls(port, certificate=CERT, certificate_key=KEY, trusted_ca=OTHER_CERT)
    port = Port.objects.get(pk=port.pk)
    assert (port.certificate, port.certificate_key, port.trusted_ca) == (CERT, KEY, OTHER_CERT)
    raw = stored_key(port)
    assert raw.startswith(crypto.PREFIX) and key_body() not in raw


def test_a_one_line_paste_is_stored_normalised(port):
    save_tls(port, certificate="".join(CERT.splitlines()), certificate_key="".join(KEY.splitlines()))
    port = Port.objects.get(pk=port.pk)
    assert (port.certificate, port.certificate_key) == (CERT, KEY)


def encrypted_key() -> str:
    key = serialization.load_pem_private_key(KEY.encode(), password=None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(b"passphrase")).decode()


BAD = [
    ("certificate", lambda: {"certificate": "my certificate"}, "Not a PEM certificate: not PEM"),
    ("certificate", lambda: {"certificate": CERT.replace("-----END CERTIFICATE-----", "")},
     "has no matching -----END"),
    ("certificate", lambda: {"certificate": CERT.replace(CERT.splitlines()[1], "not*base64!")}, "not valid base64"),
    ("certificate", lambda: {"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
     "block 1 does not decode as an X.509 certificate"),
    ("certificate", lambda: {"certificate": KEY}, "block 1 is a private key, not a certificate"),
    ("trusted_ca", lambda: {"trusted_ca": CERT + KEY}, "block 2 is a private key, not a certificate"),
    ("trusted_ca", lambda: {"trusted_ca": "/etc/ssl/ca.pem"}, "Not a PEM certificate: not PEM"),
    ("certificate_key", lambda: {"certificate": CERT, "certificate_key": "secret"}, "Not a PEM private key"),
    ("certificate_key", lambda: {"certificate": CERT, "certificate_key": CERT}, "is not a private key"),
    ("certificate_key", lambda: {"certificate": CERT, "certificate_key": KEY + KEY}, "expected one private key block"),
    ("certificate_key", lambda: {"certificate": CERT, "certificate_key": encrypted_key()}, "protected by a passphrase"),
    ("certificate_key", lambda: {"certificate_key": KEY}, "needs the certificate"),
    ("certificate_key", lambda: {"certificate": CERT, "certificate_key": OTHER_KEY},
     "does not belong to the certificate"),
]


@pytest.mark.parametrize(("field", "values", "message"), BAD, ids=[f"{f}-{m[:30]}" for f, _, m in BAD])
def test_bad_tls_input_is_refused_naming_the_field_and_never_quoting_a_key(port, field, values, message):
    given = values()
    with pytest.raises(ValidationError) as caught:
        save_tls(port, **given)
    errors = caught.value.message_dict
    assert list(errors) == [field], errors
    assert message in " ".join(errors[field])
    for key in (KEY, OTHER_KEY):
        assert key_body(key) not in str(errors)
    port = Port.objects.get(pk=port.pk)
    assert (port.certificate, port.certificate_key, port.trusted_ca) == ("", "", "")


def test_a_new_certificate_needs_its_own_key(port):
    save_tls(port, certificate=CERT, certificate_key=KEY)
    with pytest.raises(ValidationError, match="does not belong to the certificate"):
        save_tls(Port.objects.get(pk=port.pk), certificate=OTHER_CERT)
    save_tls(Port.objects.get(pk=port.pk), certificate=OTHER_CERT, certificate_key=OTHER_KEY)
    assert Port.objects.get(pk=port.pk).certificate_key == OTHER_KEY


def test_the_history_masks_the_key(port):
    save_tls(port, certificate=CERT, certificate_key=KEY)
    change = ObjectChange.objects.filter(content_type__model="port", object_id=str(port.pk)).first()
    assert change.postchange["certificate_key"] == "******** (changed)"
    assert change.postchange["certificate"] == CERT
    assert key_body() not in str(change.prechange) + str(change.postchange)


# -- the API -------------------------------------------------------------------------------------------


def test_the_api_takes_the_key_and_never_returns_it(node, caplog):
    client = client_for(make_user("root", superuser=True))
    created = send(client, "POST", url("ports"), {"application": node.pk, "port_id": "secure", "port": 9443,
                                                  "connection_protocol": "https", "listening_mode": "secured",
                                                  "certificate": CERT, "certificate_key": KEY,
                                                  "trusted_ca": OTHER_CERT})
    assert created.status_code == 201, created.content
    data = body(created)
    assert "certificate_key" not in data
    assert (data["certificate"], data["trusted_ca"]) == (CERT, OTHER_CERT)
    pk = data["id"]

    for answer in (client.get(url("ports", pk)), client.get(url("ports")),
                   send(client, "PATCH", url("ports", pk), {"description": "TLS"})):
        assert answer.status_code == 200
        assert key_body() not in answer.content.decode()
        assert "certificate_key" not in answer.content.decode()
    assert Port.objects.get(pk=pk).certificate_key == KEY  # left out: kept
    send(client, "PATCH", url("ports", pk), {"certificate_key": ""})
    assert Port.objects.get(pk=pk).certificate_key == KEY  # "": kept

    refused = send(client, "PATCH", url("ports", pk), {"certificate": KEY})
    assert refused.status_code == 400
    assert "private key, not a certificate" in " ".join(body(refused)["certificate"])
    assert key_body() not in refused.content.decode()

    removed = send(client, "PATCH", url("ports", pk), {"certificate": ""})
    assert removed.status_code == 200, removed.content
    assert Port.objects.get(pk=pk).certificate_key == ""  # the certificate removed: its key goes with it
    assert key_body() not in caplog.text


def test_pathological_text_is_refused_quickly_and_whole(port):
    """Many BEGIN lines without an END, or a text over the limit, cost one scan each (no test of time: the
    refusal names the first problem)."""
    with pytest.raises(pem.PEMError, match="block 1 .CERTIFICATE. has no matching"):
        pem.certificates("-----BEGIN CERTIFICATE-----" * 30000)
    with pytest.raises(pem.PEMError, match="longer than 1024 KiB"):
        pem.certificates("a" * (pem.MAX_TEXT + 1))
    with pytest.raises(ValidationError) as caught:
        save_tls(port, trusted_ca=CERT * (262144 // len(CERT) + 1))
    assert "at most 262144 characters" in str(caught.value.message_dict["trusted_ca"])
