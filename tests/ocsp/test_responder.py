"""The pure core (RFC 6960 §2.2–§2.3, §4.2; RFC 5019 §2.2; RFC 9654 §2.1)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509 import ocsp as x509_ocsp

from ca.status import CertStatus
from ocsp.errors import SignerUnavailableError
from ocsp.request import ParsedRequest, parse_request
from ocsp.responder import IssuerIndex, ServedIssuer, cert_id_for, error_response, respond
from ocsp.signer import ResponseSigner
from tests.ocsp.helpers import load, multi_request_der, request_der, verify_signature
from tests.pki import TestPKI

VALIDITY = timedelta(hours=24)


@pytest.fixture
def served(pki: TestPKI) -> tuple[IssuerIndex, dict[str, ResponseSigner]]:
    issuers = [(ServedIssuer(name, pki.row(name).id), pki.cert(name)) for name in ("root", "citizens")]
    signers = {
        name: ResponseSigner.create(name, pki.cert(name), pki.cert(f"{name}-ocsp"), pki.key(f"{name}-ocsp"))
        for name in ("root", "citizens")
    }
    return IssuerIndex(issuers), signers


def _respond(served, request: ParsedRequest, statuses: dict[int, CertStatus], now):  # type: ignore[no-untyped-def]
    index, signers = served
    return respond(
        request,
        index,
        lambda _i, serial: statuses.get(serial, CertStatus("unknown")),
        lambda issuer: signers[issuer.name],
        now=now,
        validity=VALIDITY,
    )


def test_good_response_profile(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 5019 §2.2: byKey responderID, producedAt, thisUpdate, nextUpdate, signer cert in certs."""
    answer = _respond(served, parse_request(request_der(pki.issuing, 77)), {77: CertStatus("good")}, clock.now())
    response = load(answer.der)
    assert response.response_status == x509_ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    signer_cert = pki.cert("citizens-ocsp")
    assert response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(signer_cert.public_key()).digest
    assert response.responder_name is None
    assert response.certificates == [signer_cert]
    assert response.produced_at_utc == clock.now() == response.this_update_utc
    assert response.next_update_utc == clock.now() + VALIDITY
    assert response.serial_number == 77
    verify_signature(response, signer_cert)


def test_revoked_with_time_and_reason(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 §4.2.1 RevokedInfo: revocationTime and revocationReason."""
    at = clock.now() - timedelta(hours=3)
    status = CertStatus("revoked", at, x509.ReasonFlags.key_compromise)
    response = load(_respond(served, parse_request(request_der(pki.issuing, 5)), {5: status}, clock.now()).der)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == at
    assert response.revocation_reason == x509.ReasonFlags.key_compromise


def test_suspended_is_revoked_certificate_hold(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 5280 §5.3.1 certificateHold: a suspension is 'revoked' with that reason."""
    status = CertStatus("revoked", clock.now(), x509.ReasonFlags.certificate_hold)
    response = load(_respond(served, parse_request(request_der(pki.issuing, 5)), {5: status}, clock.now()).der)
    assert response.revocation_reason == x509.ReasonFlags.certificate_hold


def test_unspecified_reason_left_out(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    status = CertStatus("revoked", clock.now(), x509.ReasonFlags.unspecified)
    response = load(_respond(served, parse_request(request_der(pki.issuing, 5)), {5: status}, clock.now()).der)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is None


def test_foreign_issuer_unauthorized(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 §2.3 unauthorized: the responder does not serve that CA (a signer is not a CA)."""
    answer = _respond(served, parse_request(request_der(pki.cert("tsa"), 5)), {}, clock.now())
    assert answer.response_status == "unauthorized"
    assert load(answer.der).response_status == x509_ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_mixed_issuers_unauthorized(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """One delegated signer speaks for one CA only (RFC 6960 §4.2.2.2)."""
    der = multi_request_der([(pki.issuing, 1, "sha1"), (pki.root, 2, "sha1")])
    assert _respond(served, parse_request(der), {}, clock.now()).response_status == "unauthorized"


def test_several_requests_each_answered(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 §4.2.1: one SingleResponse per Request, CertIDs echoed (SHA-1 and SHA-256 mixed)."""
    statuses = {1: CertStatus("good"), 2: CertStatus("revoked", clock.now(), x509.ReasonFlags.superseded)}
    der = multi_request_der([(pki.issuing, 1, "sha1"), (pki.issuing, 2, "sha256"), (pki.issuing, 3, "sha512")])
    answer = _respond(served, parse_request(der), statuses, clock.now())
    singles = list(load(answer.der).responses)
    assert [(s.serial_number, s.certificate_status) for s in singles] == [
        (1, x509_ocsp.OCSPCertStatus.GOOD),
        (2, x509_ocsp.OCSPCertStatus.REVOKED),
        (3, x509_ocsp.OCSPCertStatus.UNKNOWN),
    ]
    assert [s.hash_algorithm.name for s in singles] == ["sha1", "sha256", "sha512"]
    assert answer.statuses == ("good", "revoked", "unknown")


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_cert_id_echoed(pki: TestPKI, served, clock, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    der = request_der(pki.root, 9, algorithm=algorithm)
    single = load(_respond(served, parse_request(der), {9: CertStatus("good")}, clock.now()).der)
    expected = cert_id_for(pki.root, 9, algorithm)
    assert (single.issuer_name_hash, single.issuer_key_hash) == (expected.issuer_name_hash, expected.issuer_key_hash)
    verify_signature(single, pki.cert("root-ocsp"))


def test_nonce_echoed(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 9654 §2.1 / RFC 6960 §4.4.1: the nonce comes back unchanged in responseExtensions."""
    der = request_der(pki.issuing, 9, nonce=b"\x01" * 32)
    response = load(_respond(served, parse_request(der), {}, clock.now()).der)
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"\x01" * 32


def test_random_serials_never_good(pki: TestPKI, served, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 §2.2: 10,000 random serials with no issued row are never 'good'."""
    from ocsp.responder import status_for_serial

    index, _signers = served
    issuer = index.issuers[0]
    rng = random.Random(6960)
    serials = [rng.getrandbits(rng.choice([8, 64, 159, 160, 161])) * rng.choice([1, -1]) for _ in range(10_000)]
    kinds = {status_for_serial(issuer, s, lambda _i, _s: CertStatus("unknown")).kind for s in serials}
    assert kinds == {"unknown"}


def test_signer_must_be_delegated(pki: TestPKI) -> None:
    """RFC 6960 §4.2.2.2: the responder certificate carries id-kp-OCSPSigning, issued by the CA."""
    with pytest.raises(SignerUnavailableError):
        ResponseSigner.create("citizens", pki.issuing, pki.cert("tsa"), pki.key("tsa"))
    with pytest.raises(SignerUnavailableError):
        ResponseSigner.create("citizens", pki.issuing, pki.cert("root-ocsp"), pki.key("root-ocsp"))
    with pytest.raises(SignerUnavailableError):
        ResponseSigner.create("citizens", pki.issuing, pki.cert("citizens-ocsp"), pki.key("root-ocsp"))


@pytest.mark.parametrize("status", ["malformedRequest", "internalError", "tryLater", "sigRequired", "unauthorized"])
def test_error_responses_unsigned(status: str) -> None:
    """RFC 6960 §4.2.1: error statuses carry no responseBytes."""
    response = x509_ocsp.load_der_ocsp_response(error_response(status))
    assert response.response_status.name.replace("_", "").lower() == status.lower()
