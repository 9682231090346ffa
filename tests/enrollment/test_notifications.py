"""E-mail notifications through a real local SMTP server (aiosmtpd), read back and checked."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import replace
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.db import atomic
from enrollment import notifications
from enrollment.models import OutgoingEmail
from enrollment.notifications import Mailer
from enrollment.settings import SMTPSettings
from tests.enrollment.flows import issued_certificate
from tests.enrollment.helpers import API, Parties, remember

SMTP_PASSWORD = remember("Smtp-Secret-77")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"sekap"
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def _tls(tmp: Path) -> tuple[ssl.SSLContext, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp.pem", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_notifications_in_polish_through_smtp(
    api: API, parties: Parties, clock: Any, settings: Any, smtp_server
) -> None:
    inbox, port = smtp_server
    result, _ = issued_certificate(api, parties)
    api.call(
        "POST", "/api/v1/self-service/suspend", json={"serial": result["serial"], "code": result["revocation_code"]}
    )
    mailer = Mailer(replace(settings.enrollment.smtp, host="127.0.0.1", port=port), clock)
    assert mailer.send_due() == (3, 0)
    assert mailer.send_due() == (0, 0)  # each message once
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects[0].startswith("Przyjęliśmy Twój wniosek SK-")
    assert subjects[1:] == ["Certyfikat został wydany", "Certyfikat został zawieszony"]
    body = inbox.messages[1].get_content()
    assert "Dzień dobry Jan Maria" in body and result["serial"] in body
    assert result["revocation_code"] not in body  # the code is never e-mailed
    assert inbox.messages[0]["To"] == "jan.kowalski@example.pl"
    assert inbox.messages[0].get_content_charset() == "utf-8"
    assert all(m.sent_at is not None for m in OutgoingEmail.select())


def test_failed_smtp_keeps_the_message_and_retries(db: Any, clock: Any, settings: Any, smtp_server) -> None:
    inbox, port = smtp_server
    with atomic():
        notifications.queue(clock, "certificate_revoked", "anna@example.pl", name="Anna", serial="0A", at="dziś")
    # Nothing listens on port 1: the attempt fails, the message stays in the outbox.
    broken = Mailer(replace(settings.enrollment.smtp, host="127.0.0.1", port=1, timeout_seconds=2), clock)
    assert broken.send_due() == (0, 1)
    row = OutgoingEmail.get()
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    working = Mailer(replace(settings.enrollment.smtp, host="127.0.0.1", port=port), clock)
    assert working.send_due() == (0, 0)  # back-off: not due yet
    clock.advance(minutes=1)
    assert working.send_due() == (1, 0)
    assert [m["Subject"] for m in inbox.messages] == ["Certyfikat został unieważniony"]


def test_starttls_and_authentication(db: Any, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context, ca_file = _tls(tmp_path)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        with atomic():
            notifications.queue(clock, "certificate_resumed", "anna@example.pl", name="Anna", serial="0A", at="dziś")
        base = SMTPSettings(host="127.0.0.1", port=port, starttls=True, username="sekap", password="wrong")
        assert Mailer(base, clock).send_due() == (0, 1)
        clock.advance(minutes=1)
        assert Mailer(replace(base, password=SMTP_PASSWORD), clock).send_due() == (1, 0)
        assert [m["Subject"] for m in inbox.messages] == ["Zawieszenie certyfikatu zostało cofnięte"]
    finally:
        controller.stop()


def test_every_template_renders() -> None:
    context = {
        "name": "Anna",
        "reference": "SK-1",
        "point": "P",
        "expires": "x",
        "serial": "0A",
        "not_before": "a",
        "not_after": "b",
        "at": "c",
        "days": 7,
        "tracking_code": "T",
        "bring": "- dowód",
    }
    for kind in notifications.TEMPLATES:
        subject, body = notifications.render(kind, **context)
        assert subject and "Dzień dobry Anna" in body
