"""PAdES: fixtures signed with the pyHanko API; tampering, incremental-update attacks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.verifier.helpers import PNOPL, flip, issue_citizen
from tests.verifier.pdfsign import PAGE_TEXT, append_content_change, blank_pdf, pades_sign
from verifier.errors import UnparseableDocumentError

PDF = "application/pdf"


def test_pades_b_b_passes(verify, citizen) -> None:
    report = verify(pades_sign(citizen), PDF)
    (sig,) = report.signatures
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    assert sig.format == "PAdES" and sig.level == "B-B"
    assert sig.signer is not None and sig.signer.semantics_identifier == PNOPL
    assert sig.coverage.kind == "pdf-byte-range" and len(sig.coverage.byte_ranges) == 2
    assert sig.coverage.level == "ENTIRE_FILE"
    assert any(e.source == "local" for e in sig.revocation)


def test_tampered_signed_bytes_is_hash_failure(verify, citizen) -> None:
    signed = pades_sign(citizen)
    at = signed.find(b"zaswiadczenia")
    report = verify(flip(signed, at), PDF)
    assert report.indication == "TOTAL_FAILED"
    assert report.signatures[0].sub_indication == "HASH_FAILURE"


def test_incremental_update_changing_content_is_never_total_passed(verify, citizen) -> None:
    """An incremental update after signing that changes page content (ISA / shadow attack)."""
    signed = pades_sign(citizen)
    attacked = append_content_change(signed, b"BT /F1 12 Tf 72 720 Td (Przelew 1000000 PLN) Tj ET")
    report = verify(attacked, PDF)
    sig = report.signatures[0]
    assert report.indication != "TOTAL_PASSED"
    assert sig.coverage.level == "ENTIRE_REVISION"
    assert sig.coverage.modification_level == "OTHER"


def test_second_signature_in_incremental_update_keeps_first_valid(verify, citizen, vpki, tmp_path) -> None:
    second = issue_citizen(vpki, tmp_path / "second", name="Anna Druga", semantics_id="PNOPL-90020254321")
    signed = pades_sign(second, pades_sign(citizen), field="Podpis2")
    report = verify(signed, PDF)
    assert [s.indication for s in report.signatures] == ["TOTAL_PASSED", "TOTAL_PASSED"], report.to_dict()


def test_revoked_pades_signer(verify, vpki, clock, tmp_path) -> None:
    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    report = verify(pades_sign(twin), PDF)
    # EN 319 102-1 §5.2.6.4: no proof of existence before the revocation.
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def test_suspended_pades_signer_is_try_later(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.2.6: a signing certificate on hold → INDETERMINATE/TRY_LATER."""
    held = issue_citizen(vpki, tmp_path / "held", revoked_at=clock.now() - timedelta(days=1), reason="certificateHold")
    report = verify(pades_sign(held), PDF)
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "TRY_LATER")


def rsa_tsa(vpki):  # type: ignore[no-untyped-def]
    """An RSA timestamping certificate from our root (pyHanko's DummyTimeStamper signs RSA only),
    registered as issued so the local revocation source answers for it."""
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

    from ca.models import Certificate
    from ca.serials import new_serial, to_hex
    from ca.x509util import fingerprint
    from core.signing import signature_hash

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root, root_key = vpki.root, vpki.key(vpki.settings.root.name)
    now = vpki.clock.now()
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - timedelta(days=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(vpki.settings.ocsp_url)
                    )
                ]
            ),
            critical=False,
        )
        .sign(root_key, signature_hash(root_key))
    )
    Certificate.create(
        issuer=vpki.row(vpki.settings.root.name),
        serial=to_hex(cert.serial_number),
        state="issued",
        profile="tsa",
        subject=cert.subject.rfc4514_string(),
        tbs_der=cert.tbs_certificate_bytes,
        der=cert.public_bytes(serialization.Encoding.DER),
        fingerprint_sha256=fingerprint(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        created_at=now,
        issued_at=now,
    )
    return (
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )


def test_pades_b_t_with_timestamp_from_a_tsa_under_our_root(verify, citizen, vpki) -> None:
    """B-T: signature-time-stamp (EN 319 142-1 §5.4), TSA trusted through our root (default)."""
    from pyhanko.sign.timestamps import DummyTimeStamper

    tsa_cert, tsa_key = rsa_tsa(vpki)
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=vpki.clock.now())
    report = verify(pades_sign(citizen, timestamper=stamper), PDF)
    sig = report.signatures[0]
    assert sig.level == "B-T"
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    assert sig.timestamps and sig.timestamps[0].kind == "signature" and sig.timestamps[0].indication == "TOTAL_PASSED"
    assert sig.timestamps[0].time == vpki.clock.now()


def test_unsigned_pdf_is_total_failed(verify) -> None:
    report = verify(blank_pdf(), PDF)
    assert report.indication == "TOTAL_FAILED" and report.signatures == ()


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95], ids=["30%", "60%", "95%"])
def test_truncated_signed_pdf_is_refused_or_failed(verify, citizen, cut) -> None:
    signed = pades_sign(citizen)
    try:
        report = verify(signed[: int(len(signed) * cut)], PDF)
    except UnparseableDocumentError:
        return
    assert report.indication != "TOTAL_PASSED"


@pytest.mark.parametrize(
    "body",
    [b"%PDF-1.7\n%%EOF", b"%PDF-1.4\n" + b"\x00" * 4000, b"%PDF-" + b"1 0 obj <<" * 2000],
    ids=["empty", "zeros", "unbalanced"],
)
def test_junk_pdf_is_refused(verify, body) -> None:
    with pytest.raises(UnparseableDocumentError):
        verify(body, PDF)


_ = PAGE_TEXT


def test_pades_b_lt_validates_offline_from_its_dss(vpki, citizen, clock, key_store) -> None:
    """EN 319 142-1 §5.4 B-LT: the DSS carries the revocation data; offline mode needs nothing else."""
    import asyncio
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko.sign.validation.dss import async_add_validation_info

    from verifier.detect import parse_submission
    from verifier.policy import TrustLoader, build_contexts
    from verifier.revocation import LocalRevocationSource
    from verifier.service import VerificationService
    from verifier.settings import VerifierSettings

    tsa_cert, tsa_key = rsa_tsa(vpki)
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=clock.now())
    signed = pades_sign(citizen, timestamper=stamper)
    # Gather the validation data with the local revocation source (what an LT-augmenting service does).
    source = LocalRevocationSource(lambda: key_store, clock, timedelta(hours=1))
    contexts = build_contexts(TrustLoader(VerifierSettings()).load(), mode="require", moment=clock.now(), source=source)
    embedded = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    output = asyncio.run(async_add_validation_info(embedded, contexts.signer, output=BytesIO()))
    lt = output.getvalue()

    offline = VerificationService(VerifierSettings(revocation_mode="offline"), clock, lambda: key_store)
    report = offline.verify(parse_submission(PDF, lt))
    sig = report.signatures[0]
    assert sig.level == "B-LT"
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    assert sig.revocation and all(e.source == "document" for e in sig.revocation)
    assert sig.coverage.modification_level == "LTA_UPDATES"
    # The same signature without its DSS has no evidence offline.
    plain = offline.verify(parse_submission(PDF, signed))
    assert plain.indication == "INDETERMINATE"


def test_bytes_appended_after_signing_are_not_covered(verify, citizen) -> None:
    """Content after the signed revision that is not a proper incremental update (coverage < ENTIRE_REVISION
    or an unexplained change) is never TOTAL_PASSED."""
    signed = pades_sign(citizen)
    report = verify(signed + b"\n1 0 obj\n(injected)\nendobj\n", PDF)
    assert report.indication != "TOTAL_PASSED"


def test_timestamp_before_revocation_is_proof_of_existence(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.5.4: a signature timestamp before the revocation time keeps the signature valid."""
    from pyhanko.sign.timestamps import DummyTimeStamper

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    tsa_cert, tsa_key = rsa_tsa(vpki)
    before = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=clock.now() - timedelta(days=3))
    report = verify(pades_sign(twin, timestamper=before), PDF)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert any("proof of existence" in w for w in report.signatures[0].warnings)
    after = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=clock.now() - timedelta(hours=1))
    report = verify(pades_sign(twin, timestamper=after), PDF)
    # A signature timestamp after the revocation proves existence then, not creation after it.
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def _lt(signed: bytes, clock, key_store) -> bytes:  # type: ignore[no-untyped-def]
    """pyHanko adds the validation data (DSS) gathered from the local revocation source."""
    import asyncio
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import async_add_validation_info

    from verifier.policy import TrustLoader, build_contexts
    from verifier.revocation import LocalRevocationSource
    from verifier.settings import VerifierSettings

    source = LocalRevocationSource(lambda: key_store, clock, timedelta(hours=1))
    contexts = build_contexts(TrustLoader(VerifierSettings()).load(), mode="require", moment=clock.now(), source=source)
    embedded = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    return asyncio.run(async_add_validation_info(embedded, contexts.signer, output=BytesIO())).getvalue()  # type: ignore[no-any-return]


def _document_timestamp(pdf: bytes, stamper) -> bytes:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    out = PdfTimeStamper(stamper).timestamp_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), "sha256")
    return out.getvalue()  # type: ignore[no-any-return]


def test_pades_b_lta_by_pyhanko_document_timestamp_is_proof_of_existence(
    verify, vpki, clock, key_store, tmp_path
) -> None:
    """EN 319 142-1 B-LTA made by pyHanko (signature, DSS, document timestamp). EN 319 102-1 §5.6.2:
    the document (archive) timestamp proves the signature existed before the signer's later
    revocation, so the signature stays valid; without it the same signature is REVOKED_NO_POE."""
    from pyhanko.sign.timestamps import DummyTimeStamper

    from ca.models import Certificate
    from ca.serials import to_hex

    signer = issue_citizen(vpki, tmp_path / "lta")
    tsa_cert, tsa_key = rsa_tsa(vpki)
    lt = _lt(pades_sign(signer), clock, key_store)  # no signature timestamp: B-B + DSS
    lta = _document_timestamp(lt, DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=clock.now()))
    sig = verify(lta, PDF).signatures[0]
    assert (sig.indication, sig.level) == ("TOTAL_PASSED", "B-LTA"), sig
    assert any(t.kind == "document" and t.indication == "TOTAL_PASSED" for t in sig.timestamps)

    clock.advance(days=2)
    revoked_at = clock.now() - timedelta(days=1)
    Certificate.update(revocation_reason="keyCompromise", revoked_at=revoked_at, status_changed_at=revoked_at).where(
        Certificate.serial == to_hex(signer.cert.serial_number)
    ).execute()
    later = verify(lta, PDF).signatures[0]
    assert later.indication == "TOTAL_PASSED", later
    assert any("proof of existence" in w for w in later.warnings)
    without = verify(lt, PDF).signatures[0]
    assert (without.indication, without.sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")
