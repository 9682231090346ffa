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


def _crl(vpki, clock, tmp_path, entries, *, key=None):  # type: ignore[no-untyped-def]
    """A CRL of the citizen CA listing ``entries`` [(serial, reason or None)], signed by ``key``
    (default: the CA's own key)."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from core.signing import signature_hash

    signing_key = key or vpki.key("citizens")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(vpki.issuing.subject)
        .last_update(clock.now() - timedelta(hours=1))
        .next_update(clock.now() + timedelta(days=1))
        .add_extension(x509.CRLNumber(7), critical=False)
    )
    for serial, reason in entries:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(clock.now() - timedelta(days=1))
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    path = tmp_path / "listed.crl"
    path.write_bytes(builder.sign(signing_key, signature_hash(signing_key)).public_bytes(serialization.Encoding.DER))
    return str(path)


@pytest.mark.parametrize("reason,expected", [(None, "REVOKED_NO_POE"), ("certificate_hold", "TRY_LATER")])
def test_soft_fail_consults_configured_crls_without_pointers(
    vpki, tmp_path, clock, key_store, reason, expected
) -> None:
    """A certificate with no CRL DP and no AIA, listed on a configured CRL: soft-fail used to pass
    it unchecked; a consulted source that lists it decides (EN 319 102-1 §5.2.6)."""
    from cryptography import x509

    from tests.verifier.helpers import issue_citizen

    signer = issue_citizen(vpki, tmp_path / "s", aia=False)
    flag = x509.ReasonFlags[reason] if reason else None
    crl = _crl(vpki, clock, tmp_path, [(signer.cert.serial_number, flag)])
    report = _service(clock, key_store, revocation_mode="soft-fail", local_crls=(crl,)).verify(
        parse_submission("application/cms", _signed(signer, tmp_path))
    )
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", expected)


def test_soft_fail_consults_the_ca_registry_without_pointers(vpki, tmp_path, clock, key_store) -> None:
    """Our own CA's revocation registry (what its CRLs are made from) is consulted for every
    certificate it issued, even one that declares no revocation source."""
    from datetime import timedelta

    from tests.verifier.helpers import issue_citizen

    signer = issue_citizen(vpki, tmp_path / "s", aia=False, revoked_at=clock.now() - timedelta(days=1))
    for mode in ("soft-fail", "require"):
        report = _service(clock, key_store, revocation_mode=mode).verify(
            parse_submission("application/cms", _signed(signer, tmp_path))
        )
        assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE"), mode


def test_forged_crl_listing_is_ignored(vpki, tmp_path, clock, key_store) -> None:
    """Only a CRL whose signature verifies with the issuer in the path counts as a source."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.verifier.helpers import issue_citizen

    signer = issue_citizen(vpki, tmp_path / "s", aia=False)
    forged = _crl(
        vpki, clock, tmp_path, [(signer.cert.serial_number, None)], key=ec.generate_private_key(ec.SECP256R1())
    )
    report = _service(clock, key_store, revocation_mode="soft-fail", local_crls=(forged,)).verify(
        parse_submission("application/cms", _signed(signer, tmp_path))
    )
    assert report.indication == "TOTAL_PASSED", report.to_dict()


def test_initial_policy_inputs_apply_to_signatures(citizen, tmp_path, clock, key_store) -> None:
    """RFC 5280 §6.1.1 (c) and (f): a policy requiring an explicit certificate policy the signer's
    chain does not assert → INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE; the defaults pass."""
    signed = _signed(citizen, tmp_path)
    strict = _service(clock, key_store, initial_policies=("1.2.3.4.5",), explicit_policy=True)
    sig = strict.verify(parse_submission("application/cms", signed)).signatures[0]
    assert (sig.indication, sig.sub_indication) == ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE")
    assert _service(clock, key_store).verify(parse_submission("application/cms", signed)).indication == "TOTAL_PASSED"


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"initial_policies": ("not-an-oid",)}, "verifier.initial_policies"),
        ({"initial_policies": ()}, "verifier.initial_policies"),
        ({"weak_hash_algorithms": ("crc32",)}, "verifier.weak_hash_algorithms"),
        ({"min_rsa_bits": 512}, "verifier.min_rsa_bits"),
        ({"min_dsa_bits": 512}, "verifier.min_dsa_bits"),
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
