"""Revocation modes, trust configuration and settings validation."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from tests.verifier.helpers import openssl_cms_sign
from verifier.detect import parse_submission
from verifier.service import VerificationService
from verifier.settings import VerifierSettings

pytestmark = pytest.mark.interop


def _signed(citizen, tmp_path) -> bytes:  # type: ignore[no-untyped-def]
    content = tmp_path / "c.txt"
    content.write_bytes(b"abc")
    return openssl_cms_sign(citizen, content, attached=True)


def _service(clock, key_store, **kwargs) -> VerificationService:  # type: ignore[no-untyped-def]
    return VerificationService(VerifierSettings(**kwargs), clock, lambda: key_store)


def test_offline_mode_never_asks_the_database(citizen, tmp_path, clock, key_store) -> None:
    """Offline: document evidence and configured CRLs only; a B-B signature has none → not passed."""
    report = _service(clock, key_store, revocation_mode="offline").verify(
        parse_submission("application/cms", _signed(citizen, tmp_path))
    )
    sig = report.signatures[0]
    assert sig.indication == "INDETERMINATE"
    assert not any(e.source == "local" for e in sig.revocation)


def test_soft_fail_tolerates_missing_revocation_data(vpki, tmp_path, clock, key_store) -> None:
    from tests.verifier.helpers import issue_citizen

    signer = issue_citizen(vpki, tmp_path / "s")
    report = _service(clock, key_store, revocation_mode="soft-fail").verify(
        parse_submission("application/cms", _signed(signer, tmp_path))
    )
    assert report.indication == "TOTAL_PASSED"


def test_own_roots_can_be_switched_off(citizen, tmp_path, clock, key_store) -> None:
    report = _service(clock, key_store, trust_own_roots=False).verify(
        parse_submission("application/cms", _signed(citizen, tmp_path))
    )
    assert report.signatures[0].sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


def test_local_crl_file_is_used_offline(vpki, citizen, tmp_path, clock, key_store) -> None:
    """A CRL configured in verifier.local_crls gives offline mode its revocation evidence."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from core.signing import signature_hash

    issuing_key = vpki.key("citizens")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(vpki.issuing.subject)
        .last_update(clock.now() - timedelta(hours=1))
        .next_update(clock.now() + timedelta(days=1))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                vpki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    crl = builder.sign(issuing_key, signature_hash(issuing_key))
    path = tmp_path / "citizens.crl"
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    report = _service(clock, key_store, revocation_mode="offline", local_crls=(str(path),)).verify(
        parse_submission("application/cms", _signed(citizen, tmp_path))
    )
    sig = report.signatures[0]
    assert any(e.kind == "CRL" and e.source == "configured" for e in sig.revocation)
    assert not any(e.source == "local" for e in sig.revocation)


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"revocation_mode": "sometimes"}, "verifier.revocation_mode"),
        ({"max_document_bytes": 10}, "verifier.max_document_bytes"),
        ({"report_signer": " "}, "verifier.report_signer"),
        ({"extra_trust_anchors": ("",)}, "verifier.extra_trust_anchors"),
    ],
)
def test_settings_are_validated(kwargs, key) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError) as info:
        VerifierSettings(**kwargs)
    assert info.value.key == key


def test_unreadable_anchor_file_fails_at_start(tmp_path, clock, key_store, db) -> None:
    with pytest.raises(ConfigurationError):
        _service(clock, key_store, extra_trust_anchors=(str(tmp_path / "missing.pem"),))


def test_no_network_is_touched(verify, citizen, vpki, tmp_path, monkeypatch) -> None:
    """Certificates carry AIA/OCSP URLs; the verifier must never follow them (nor anything in a document)."""
    import socket

    from tests.verifier.pdfsign import pades_sign
    from tests.verifier.xmlsign import xades_sign

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert verify(_signed(citizen, tmp_path), "application/cms").indication == "TOTAL_PASSED"
    assert verify(xades_sign(citizen), "application/xml").indication == "TOTAL_PASSED"
    assert verify(pades_sign(citizen), "application/pdf").indication == "TOTAL_PASSED"
