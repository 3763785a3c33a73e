"""The SMTP provider over TLS, against local servers (tests/fake_providers.py, aiosmtpd)
whose certificate a CA made here signed: STARTTLS and implicit TLS verify the server
before anything is sent, and a password never goes in clear."""

import datetime
import email
import ipaddress
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.messaging.senders.providers import TemporaryFailure
from services.messaging.senders.providers.smtp import IMPLICIT, SmtpProvider, tls_mode

ROOT = Path(__file__).resolve().parents[3]
USER, PASSWORD = "shop", "pw-7f3a9c"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_test_pki(directory: Path) -> dict:
    """A CA, and a certificate for localhost / 127.0.0.1 it signed: PEM file paths."""
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _certificate("Plexus test CA", ca_key, None, None, ca=True)
    server = _certificate("localhost", server_key, ca.subject, ca_key, ca=False)
    paths = {name: directory / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("smtp-tls")
    pki = make_test_pki(directory)
    ports = {"plain": free_port(), "starttls": free_port(), "smtps": free_port()}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_providers", "--dir", str(directory),
         "--smtp-port", str(ports["plain"]), "--tls-cert", str(pki["cert"]),
         "--tls-key", str(pki["key"]), "--starttls-port", str(ports["starttls"]),
         "--smtps-port", str(ports["smtps"]), "--smtp-login", f"{USER}:{PASSWORD}"],
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not (directory / "ready").exists():
        assert process.poll() is None and time.monotonic() < deadline, "fakes did not start"
        time.sleep(0.05)
    yield {"dir": directory, "ca": str(pki["ca"]), **ports}
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)


def delivery(message_id: str) -> dict:
    return {"message_id": message_id, "to": "ann@x.example",
            "content": {"subject": "Hi", "text": "Hello"}}  # fmt: skip


def received(servers, message_id: str) -> list:
    found = [email.message_from_bytes(path.read_bytes()) for path in
             sorted((servers["dir"] / "smtp").glob("*.eml"))]  # fmt: skip
    return [m for m in found if m["X-Plexus-Message-Id"] == message_id]


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_checks_the_certificate_then_logs_in_and_sends(servers, tls):
    provider = SmtpProvider({
        "host": "localhost", "port": servers["starttls" if tls == "starttls" else "smtps"],
        "tls": tls, "ca_file": servers["ca"], "user": USER, "password": PASSWORD,
    })  # fmt: skip
    provider.send(delivery(f"m-{tls}"))
    assert len(received(servers, f"m-{tls}")) == 1


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_a_certificate_no_trusted_ca_signed_is_refused_before_anything_is_sent(servers, tls):
    # The system's CAs do not know the test CA: a man in the middle looks the same.
    provider = SmtpProvider({
        "host": "localhost", "port": servers["starttls" if tls == "starttls" else "smtps"],
        "tls": tls, "user": USER, "password": PASSWORD,
    })  # fmt: skip
    with pytest.raises(TemporaryFailure, match="certificate is refused"):
        provider.send(delivery(f"refused-{tls}"))
    assert received(servers, f"refused-{tls}") == []


def test_a_login_is_never_sent_in_clear():
    with pytest.raises(ValueError, match="PLEXUS_SMTP_TLS"):
        SmtpProvider({"host": "localhost", "port": 587, "user": USER, "password": PASSWORD})
    with pytest.raises(ValueError, match="PLEXUS_SMTP_TLS"):
        SmtpProvider({"port": 587, "tls": "none", "user": USER, "password": PASSWORD})


def test_port_465_is_implicit_tls_unless_told_otherwise():
    assert tls_mode({}, 465) == IMPLICIT
    assert tls_mode({"starttls": "true"}, 587) == "starttls"
    assert tls_mode({}, 25) == "none"
    with pytest.raises(ValueError, match="PLEXUS_SMTP_TLS"):
        tls_mode({"tls": "ssl3"}, 25)
