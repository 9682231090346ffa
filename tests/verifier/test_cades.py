"""CAdES / CMS: fixtures signed by ``openssl cms -sign`` (an independent implementation)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.verifier.helpers import PNOPL, flip, issue_citizen, openssl_cms_sign

CONTENT = "Wniosek o wydanie zaświadczenia.\n".encode() * 20

pytestmark = pytest.mark.interop


def _content(tmp_path: Path) -> Path:
    path = tmp_path / "content.txt"
    path.write_bytes(CONTENT)
    return path


def _detached(signature: bytes, content: bytes) -> tuple[str, bytes]:
    from tests.verifier.helpers import multipart

    return multipart(
        [
            ("signature", "podpis.p7s", "application/pkcs7-signature", signature),
            ("document", "wniosek.txt", "text/plain", content),
        ]
    )


def test_attached_openssl_signature_passes_with_local_ocsp(verify, citizen, vpki, tmp_path) -> None:
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime")
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    (sig,) = report.signatures
    assert sig.format == "CAdES" and sig.level == "B-B"
    assert sig.signer is not None and sig.signer.semantics_identifier == PNOPL
    assert sig.signer.name == "Jan Testowy"
    assert [c.subject for c in sig.certificate_chain][-1] == vpki.root.subject.rfc4514_string()
    assert len(sig.certificate_chain) == 3
    # Revocation came from our own database through the local OCSP source (RFC 6960 response).
    assert any(e.kind == "OCSP" and e.source == "local" and e.status == "good" for e in sig.revocation)
    assert sig.coverage.kind == "cms-attached"
    assert sig.claimed_signing_time is not None


def test_detached_openssl_signature_passes(verify, citizen, tmp_path) -> None:
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=False)
    report = verify(*reversed(_detached(der, CONTENT)))
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert report.signatures[0].coverage.detached_parts == ("wniosek.txt",)


def test_detached_with_tampered_content_is_hash_failure(verify, citizen, tmp_path) -> None:
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=False)
    report = verify(*reversed(_detached(der, flip(CONTENT, 10))))
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_attached_with_tampered_content_is_hash_failure(verify, citizen, tmp_path) -> None:
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=True)
    at = der.find(CONTENT[:40])
    report = verify(flip(der, at + 5), "application/pkcs7-mime")
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_tampered_signature_value_is_sig_crypto_failure(verify, citizen, tmp_path) -> None:
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=True)
    # The signature value is the last OCTET STRING: flip a byte near the end (ECDSA r/s).
    report = verify(flip(der, len(der) - 8), "application/pkcs7-mime")
    assert report.indication == "TOTAL_FAILED"
    assert report.signatures[0].sub_indication == "SIG_CRYPTO_FAILURE"


def test_revoked_twin_without_poe_is_revoked_no_poe(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.2.6.4: a revoked signing certificate with no proof that the signature
    existed before the revocation → INDETERMINATE/REVOKED_NO_POE (not TOTAL_FAILED: only a proof
    that the signature was made after the revocation makes it final, §5.3.4)."""
    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=2))
    der = openssl_cms_sign(twin, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime")
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")
    assert any(e.status == "revoked" for e in report.signatures[0].revocation)


def test_suspended_signer_is_try_later(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.2.6 (suspension) and EU DSS: a signing certificate on hold →
    INDETERMINATE/TRY_LATER, never a final TOTAL_FAILED (the hold may be lifted)."""
    held = issue_citizen(vpki, tmp_path / "held", revoked_at=clock.now() - timedelta(days=1), reason="certificateHold")
    report = verify(openssl_cms_sign(held, _content(tmp_path), attached=True), "application/pkcs7-mime")
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "TRY_LATER")


def test_revoked_later_passes_when_validated_before_revocation(verify, vpki, clock, tmp_path) -> None:
    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=2))
    der = openssl_cms_sign(twin, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime", validation_time=clock.now() - timedelta(days=5))
    assert report.indication == "TOTAL_PASSED", report.to_dict()


def test_certificate_not_in_our_database_is_not_passed(verify, vpki, tmp_path) -> None:
    """RFC 6960 §2.2: a serial we never issued is 'unknown', never good."""
    ghost = issue_citizen(vpki, tmp_path / "ghost", store=False)
    der = openssl_cms_sign(ghost, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime")
    assert report.indication != "TOTAL_PASSED"


def test_untrusted_signer_is_no_certificate_chain_found(verify, vpki, tmp_path) -> None:
    stranger = issue_citizen(vpki, tmp_path / "stranger", foreign=True)
    der = openssl_cms_sign(stranger, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime")
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


def test_sha1_is_crypto_constraints_failure(verify, citizen, tmp_path) -> None:
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=True, md="sha1")
    report = verify(der, "application/pkcs7-mime")
    assert report.signatures[0].sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"
    assert report.indication != "TOTAL_PASSED"


def test_rsa_1024_is_crypto_constraints_failure(verify, vpki, tmp_path) -> None:
    weak = issue_citizen(vpki, tmp_path / "weak", key_kind="rsa1024")
    der = openssl_cms_sign(weak, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime")
    assert report.signatures[0].sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_rsa_2048_passes(verify, vpki, tmp_path) -> None:
    signer = issue_citizen(vpki, tmp_path / "rsa", key_kind="rsa2048")
    der = openssl_cms_sign(signer, _content(tmp_path), attached=True)
    assert verify(der, "application/pkcs7-mime").indication == "TOTAL_PASSED"


def test_expired_signer_without_poe(verify, vpki, tmp_path, clock) -> None:
    """EN 319 102-1 §5.2.6: expired signing certificate and no proof of existence."""
    old = issue_citizen(vpki, tmp_path / "old", not_before=clock.now() - timedelta(days=740))
    der = openssl_cms_sign(old, _content(tmp_path), attached=True)
    report = verify(der, "application/pkcs7-mime")
    assert report.indication != "TOTAL_PASSED"
    assert report.signatures[0].sub_indication in ("OUT_OF_BOUNDS_NO_POE", "EXPIRED", "OUT_OF_BOUNDS_NOT_REVOKED")


def test_cades_reports_which_baseline_levels_are_met(verify, citizen, tmp_path) -> None:
    """EN 319 122-1 §6.3: B-B met (content-type, message-digest, signing-certificate-v2,
    signing-time); B-T not (no signature-time-stamp), and so neither B-LT nor B-LTA."""
    report = verify(openssl_cms_sign(citizen, _content(tmp_path), attached=True), "application/pkcs7-mime")
    (sig,) = report.signatures
    checks = {c.level: c for c in sig.baseline}
    assert (sig.format, sig.level) == ("CAdES", "B-B")
    assert checks["B-B"].met and not checks["B-B"].missing
    assert not checks["B-T"].met and checks["B-T"].missing == ("signature-time-stamp",)
    assert not checks["B-LTA"].met


def test_cms_without_signing_certificate_is_plain_cms(verify, citizen, tmp_path) -> None:
    """EN 319 122-1 §5.2.2: without a signing-certificate(-v2) attribute a CMS signature is not
    CAdES: reported as plain CMS, level "none", with a warning (was "CAdES B-B", no warning)."""
    der = openssl_cms_sign(citizen, _content(tmp_path), attached=True, cades=False)
    report = verify(der, "application/pkcs7-mime")
    (sig,) = report.signatures
    assert (sig.format, sig.level) == ("CMS", "none")
    assert any("not CAdES" in w for w in sig.warnings)
    b_b = next(c for c in sig.baseline if c.level == "B-B")
    assert not b_b.met and b_b.missing == ("signing-certificate-v2 or signing-certificate",)
    assert report.to_dict()["signatures"][0]["format"] == "CMS"
