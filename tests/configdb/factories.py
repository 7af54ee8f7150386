"""Small builders for valid objects, so each test states only what it is about."""

import datetime
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from configdb import services
from configdb.models import Application, ApplicationTemplate, ApplicationType, Host, Port, Switch


def template(tenant, name="T_Generic", app_type=ApplicationType.GENESYS_GENERIC_SERVER, **extra):
    return services.save_object(ApplicationTemplate(tenant=tenant, name=name, app_type=app_type,
                                                    version="9.0.0", **extra))


def host(tenant, name="host1"):
    return Host.objects.get_or_create(name=name, defaults={"tenant": tenant})[0]


def application(tenant, name, tmpl=None, ports=(("default", 9081),), **extra):
    tmpl = tmpl or template(tenant, name=f"T_{name}")
    app = Application(tenant=tenant, name=name, template=tmpl, host=host(tenant), working_directory=".",
                      command_line=".", **extra)
    services.save_object(app)
    for port_id, number in ports:
        services.save_object(Port(application=app, port_id=port_id, port=number))
    return app


def switch(tenant, name="SW1"):
    return services.save_object(Switch(tenant=tenant, name=name))


@functools.lru_cache(maxsize=8)
def tls_material(common_name: str = "pacing.example.com") -> tuple[str, str]:
    """(certificate PEM, unencrypted private key PEM) of a self-signed P-256 certificate: fast to make, and
    the same for one name within a run."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem
