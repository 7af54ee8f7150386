"""TLS material of a port (certificate, certificate key, trusted CA) as PEM text: read, checked, normalised.

Genesys keeps, in a port's (and an application's) *Certificate*, *Certificate Key* and *Trusted CA*, a
Windows certificate thumbprint or the path of a file on the host. Ours: the console stores the PEM text
itself, so a pacing node can be given its TLS material from the configuration alone, and it is checked
where it is typed (docs/object-model.md, "Port TLS"):

* a certificate is one or more ``CERTIFICATE`` blocks, each an X.509 certificate (the port's own first,
  then its chain); a trusted CA is one or more ``CERTIFICATE`` blocks (a bundle);
* a certificate key is exactly one unencrypted private key block (``PRIVATE KEY``, ``RSA PRIVATE KEY`` or
  ``EC PRIVATE KEY``): a passphrase would have to be stored next to it, and the key is stored encrypted
  here anyway;
* a private key pasted into a certificate field is refused (those fields are not secret: they are shown
  and returned by the API);
* text around the blocks (openssl's ``subject=`` / ``Bag Attributes`` lines) is dropped, and the blocks
  are re-wrapped at 64 columns, so a PEM that lost its line breaks (pasted into a one-line field) is
  read as well.

No message quotes the input: a key typed into the wrong field must not end up in an error or a log.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization

CERTIFICATE = "CERTIFICATE"
KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")
#: more than any field takes (a trusted CA bundle: 256 KiB); longer text is refused unread
MAX_TEXT = 1024 * 1024


class PEMError(ValueError):
    """The text is not the PEM the field takes; the message says why, without quoting it."""


def _blocks(text: str) -> list[tuple[str, bytes | None]]:
    """(label, DER bytes) of each block, in order; the bytes are None for a block with RFC 1421 headers
    (``Proc-Type: 4,ENCRYPTED``: an old-style passphrase-protected key). One pass over the text: each BEGIN
    line looks once for its END line, so no input costs more than a few scans."""
    if len(text) > MAX_TEXT:
        raise PEMError(f"longer than {MAX_TEXT // 1024} KiB.")
    found: list[tuple[str, bytes | None]] = []
    position = 0
    while (begin := _BEGIN.search(text, position)) is not None:
        label = begin.group(1)
        end_line = f"-----END {label}-----"
        end = text.find(end_line, begin.end())
        if end < 0:
            raise PEMError(f"block {len(found) + 1} ({label}) has no matching {end_line} line.")
        body, position = text[begin.end():end], end + len(end_line)
        if ":" in body:
            found.append((label, None))
            continue
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise PEMError(f"block {len(found) + 1} ({label}) is not valid base64.") from None
        if not der:
            raise PEMError(f"block {len(found) + 1} ({label}) is empty.")
        found.append((label, der))
    if not found:
        if "-----END " in text:
            raise PEMError("an -----END …----- line has no -----BEGIN …----- line before it.")
        raise PEMError("not PEM: expected text from a '-----BEGIN …-----' line to its '-----END …-----' line.")
    return found


def _armour(label: str, der: bytes) -> str:
    data = base64.b64encode(der).decode("ascii")
    lines = [data[i:i + 64] for i in range(0, len(data), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def certificates(text: str) -> tuple[str, list[x509.Certificate]]:
    """The normalised PEM of one or more certificates and the certificates, or PEMError."""
    blocks = _blocks(text)
    parsed = []
    for index, (label, der) in enumerate(blocks, start=1):
        if label in KEY_LABELS or label.endswith("PRIVATE KEY"):
            raise PEMError(f"block {index} is a private key, not a certificate: put the key in the certificate key "
                           "field (it is kept secret there; this field is not).")
        if label != CERTIFICATE:
            raise PEMError(f"block {index} is a '{label}' block; expected '{CERTIFICATE}'.")
        if der is None:
            raise PEMError(f"block {index} carries PEM headers; expected plain base64.")
        try:
            parsed.append(x509.load_der_x509_certificate(der))
        except ValueError:
            raise PEMError(f"block {index} does not decode as an X.509 certificate.") from None
    return "".join(_armour(label, der) for label, der in blocks), parsed


def private_key(text: str):
    """The normalised PEM of one private key and the key, or PEMError."""
    blocks = _blocks(text)
    if len(blocks) != 1:
        raise PEMError(f"expected one private key block, found {len(blocks)} blocks.")
    label, der = blocks[0]
    if label == "ENCRYPTED PRIVATE KEY" or der is None:
        raise PEMError("the key is protected by a passphrase: give it unencrypted (it is stored encrypted here).")
    if label not in KEY_LABELS:
        raise PEMError(f"a '{label}' block is not a private key; expected one of "
                       f"{', '.join(repr(k) for k in KEY_LABELS)}.")
    pem = _armour(label, der)
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError):
        raise PEMError("the block does not decode as a private key.") from None
    return pem, key


def _public_der(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(certificate: x509.Certificate, key) -> bool:
    """True when ``key`` is the private key of ``certificate`` (their public keys are the same)."""
    return _public_der(certificate.public_key()) == _public_der(key.public_key())
