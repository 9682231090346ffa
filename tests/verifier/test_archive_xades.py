"""XAdES B-LTA: xadesv141:ArchiveTimeStamp (ETSI EN 319 132-1 §5.5.2, input per §5.5.2.2) and its
use as proof of existence (EN 319 102-1 §5.6.2); CertificateValues / RevocationValues as
validation data (EN 319 132-1 §5.4)."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).parent / "vectors" / "dss"
XML = "application/xml"
DSS_LTA = VECTORS / "xades-with-multiple-archivetimestamps.xml"


def _archive(report):  # type: ignore[no-untyped-def]
    return [t for t in report.signatures[0].timestamps if t.kind == "archive"]


def test_eu_dss_xades_b_lta_archive_timestamp_is_intact(verify) -> None:
    """§5.5.2.2 with exclusive C14N, a base64 ds:Object (step 4) and the unsigned properties before
    the time-stamp (step 3): the imprint we compute is the one EU DSS had time-stamped, for both
    tokens of its ArchiveTimeStamp (two xades:EncapsulatedTimeStamp, two TSAs). Their TSAs are
    DSS's test PKI, not trusted here: intact, no chain → INDETERMINATE, never HASH_FAILURE."""
    report = verify(DSS_LTA.read_bytes(), XML)
    sig = report.signatures[0]
    assert sig.sub_indication not in ("HASH_FAILURE", "SIG_CRYPTO_FAILURE", "FORMAT_FAILURE")
    assert sig.level == "B-LTA"
    stamps = _archive(report)
    assert len(stamps) == 2 and stamps[0].time < stamps[1].time
    assert all(s.indication == "INDETERMINATE" and s.token_sha256 for s in stamps), report.to_dict()


def test_eu_dss_xades_b_lta_tampered_revocation_values_is_hash_failure(verify) -> None:
    """A tampered twin: one character of the embedded OCSP response changed (RevocationValues is
    covered by the archive timestamp, step 3, not by the signature) → both tokens HASH_FAILURE."""
    data = DSS_LTA.read_bytes()
    start = data.index(b"<xades:EncapsulatedOCSPValue>") + len(b"<xades:EncapsulatedOCSPValue>") + 200
    original = data[start : start + 1]
    twin = data[:start] + (b"B" if original != b"B" else b"C") + data[start + 1 :]
    report = verify(twin, XML)
    stamps = _archive(report)
    assert [(s.indication, s.sub_indication) for s in stamps] == [("TOTAL_FAILED", "HASH_FAILURE")] * 2
    assert report.indication != "TOTAL_PASSED"


def _reference_octets(signed: bytes, citizen) -> list[bytes]:  # type: ignore[no-untyped-def]
    """What each ds:Reference's digest is computed over, from signxml's verification (not ours)."""
    from signxml import SignatureConfiguration, XMLVerifier  # type: ignore[attr-defined]

    config = SignatureConfiguration(expect_references=True, verification_time=citizen.cert.not_valid_before_utc)
    results = XMLVerifier().verify(signed, x509_cert=citizen.cert, expect_config=config)
    return [r.signed_data for r in results]


def _with_ats(signer, vpki, at, *, certs=(), ocsps=(), tsa=None) -> bytes:  # type: ignore[no-untyped-def]
    """signxml XAdES-BES, optionally CertificateValues / RevocationValues, then the archive timestamp."""
    from tests.verifier.ltvsign import add_xades_archive_timestamp, add_xades_validation_data
    from tests.verifier.test_pades import rsa_tsa
    from tests.verifier.xmlsign import C14N_10, xades_sign

    signed = xades_sign(signer, c14n=C14N_10)
    octets = _reference_octets(signed, signer)
    if certs or ocsps:
        signed = add_xades_validation_data(signed, list(certs), list(ocsps))
    return add_xades_archive_timestamp(signed, octets, tsa or rsa_tsa(vpki), at)


def test_archive_timestamp_before_revocation_is_proof_of_existence(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.6.2: signed by signxml, archive-time-stamped three days ago, signer revoked
    one day ago → TOTAL_PASSED with the archive proof-of-existence warning; time-stamped after the
    revocation → INDETERMINATE/REVOKED_NO_POE."""
    from datetime import timedelta

    from tests.verifier.helpers import issue_citizen

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    report = verify(_with_ats(twin, vpki, clock.now() - timedelta(days=3)), XML)
    sig = report.signatures[0]
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    (stamp,) = _archive(report)
    assert stamp.indication == "TOTAL_PASSED" and stamp.time == clock.now() - timedelta(days=3)
    assert any("archive timestamp" in w and "§5.6.2" in w for w in sig.warnings)
    late = verify(_with_ats(twin, vpki, clock.now() - timedelta(hours=1)), XML)
    assert (late.indication, late.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def test_tampered_certificate_values_break_the_archive_timestamp(verify, vpki, clock, tmp_path) -> None:
    """xades:CertificateValues before the ArchiveTimeStamp is covered by it (§5.5.2.2 step 3) but
    not by the signature: changing it (here only its layout) leaves the signature intact and the
    archive timestamp not (HASH_FAILURE), so it is no proof of existence →
    INDETERMINATE/REVOKED_NO_POE, never passed."""
    from datetime import timedelta

    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.verifier.helpers import issue_citizen

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    issuer = vpki.cert("citizens").public_bytes(Encoding.DER)
    good = _with_ats(twin, vpki, clock.now() - timedelta(days=3), certs=[issuer])
    first = verify(good, XML)
    assert first.indication == "TOTAL_PASSED", first.signatures[0].warnings
    marker = b"EncapsulatedX509Certificate>"
    at = good.index(marker) + len(marker) + 64
    tampered = good[:at] + b"\n" + good[at:]
    report = verify(tampered, XML)
    (stamp,) = _archive(report)
    assert (stamp.indication, stamp.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def _ocsp_responses(vpki, clock, key_store, certs) -> list[bytes]:  # type: ignore[no-untyped-def]
    """OCSP responses for ``certs`` from the CA's own responder logic (what an LT-augmenting
    service gathers), by validating each certificate once with the local revocation source."""
    import asyncio
    from datetime import timedelta

    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko_certvalidator import CertificateValidator

    from verifier.policy import TrustLoader, build_contexts
    from verifier.revocation import LocalRevocationSource
    from verifier.settings import VerifierSettings

    source = LocalRevocationSource(lambda: key_store, clock, timedelta(hours=1))
    contexts = build_contexts(TrustLoader(VerifierSettings()).load(), mode="require", moment=clock.now(), source=source)
    for cert in certs:
        loaded = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
        asyncio.run(CertificateValidator(loaded, validation_context=contexts.signer).async_validate_usage(set()))
    return [response.dump() for response in contexts.signer.ocsps]


def test_b_lta_validates_offline_from_its_embedded_validation_data(vpki, citizen, clock, key_store) -> None:
    """EN 319 132-1 §5.4 / EN 319 102-1 §5.6: CertificateValues and RevocationValues (OCSP for the
    signer and the archive TSA) are the validation data; offline mode needs nothing else. Without
    them the same signature has no revocation evidence offline → not TOTAL_PASSED."""
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.verifier.test_pades import rsa_tsa
    from verifier.detect import parse_submission
    from verifier.service import VerificationService
    from verifier.settings import VerifierSettings

    tsa = rsa_tsa(vpki)
    tsa_cert = x509.load_der_x509_certificate(asn1_x509.Certificate.dump(tsa[0]))
    ocsps = _ocsp_responses(vpki, clock, key_store, [citizen.cert, tsa_cert])
    issuer = vpki.cert("citizens").public_bytes(Encoding.DER)
    lta = _with_ats(
        citizen, vpki, clock.now(), certs=[issuer, tsa_cert.public_bytes(Encoding.DER)], ocsps=ocsps, tsa=tsa
    )
    offline = VerificationService(VerifierSettings(revocation_mode="offline"), clock, lambda: key_store)
    report = offline.verify(parse_submission(XML, lta))
    sig = report.signatures[0]
    assert sig.level == "B-B"  # signxml makes no SignatureTimeStamp: B-T's requirement is not met
    assert [c.met for c in sig.baseline] == [True, False, True, True]
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    assert _archive(report)[0].indication == "TOTAL_PASSED"
    assert sig.revocation and all(e.source == "document" for e in sig.revocation)
    bare = offline.verify(parse_submission(XML, _with_ats(citizen, vpki, clock.now(), tsa=tsa)))
    assert bare.indication == "INDETERMINATE"
