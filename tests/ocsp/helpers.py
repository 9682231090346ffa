"""Build certificates, revocations, requests and parse responses for the OCSP tests.

Certificates are made directly with cryptography and stored as ca_certificate rows, without the
CA's issuance pipeline (the OCSP responder only reads CA state)."""

from __future__ import annotations

from datetime import datetime, timedelta

from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import NameOID

from ca.hierarchy import authority
from ca.models import Certificate
from ca.serials import new_serial, to_hex
from ca.x509util import fingerprint
from core.clock import Clock
from core.signing import signature_hash
from ocsp.responder import cert_id_for
from tests.pki import TestPKI

HASHES = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def issue(
    pki: TestPKI,
    clock: Clock,
    *,
    issuer: str = "citizens",
    state: str = "issued",
    days: int = 730,
    serial: int | None = None,
    ocsp_url: str | None = None,
) -> x509.Certificate:
    """An end-entity certificate signed by ``issuer`` and its ca_certificate row."""
    ca_cert = pki.cert(issuer)
    ca_key = pki.key(issuer)
    now = clock.now()
    key = ec.generate_private_key(ec.SECP256R1())
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"), x509.NameAttribute(NameOID.COMMON_NAME, "Jan Testowy")]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial or new_serial())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ocsp_url is not None:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
                    ),
                ]
            ),
            critical=False,
        )
    cert = builder.sign(ca_key, signature_hash(ca_key))  # type: ignore[arg-type]
    Certificate.create(
        issuer=authority(issuer),
        serial=to_hex(cert.serial_number),
        state=state,
        profile="citizen",
        subject=cert.subject.rfc4514_string(),
        tbs_der=cert.tbs_certificate_bytes,
        der=cert.public_bytes(Encoding.DER) if state == "issued" else None,
        fingerprint_sha256=fingerprint(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        created_at=now,
        issued_at=now if state == "issued" else None,
    )
    return cert


def set_status(
    cert: x509.Certificate,
    *,
    reason: str | None,
    at: datetime,
    issuer: str = "citizens",
    changed_at: datetime | None = None,
) -> None:
    """Revoke (reason), suspend ("certificateHold") or resume (None) the way ca.revocation does."""
    Certificate.update(
        revocation_reason=reason,
        revoked_at=at if reason else None,
        status_changed_at=changed_at or at,
    ).where((Certificate.issuer == authority(issuer)) & (Certificate.serial == to_hex(cert.serial_number))).execute()


def request_der(
    issuer_cert: x509.Certificate, serial: int, *, algorithm: str = "sha1", nonce: bytes | None = None
) -> bytes:
    """A request built by cryptography (not by the code under test)."""
    builder = x509_ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        *_hashes(issuer_cert, algorithm), serial, HASHES[algorithm]
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def _hashes(issuer_cert: x509.Certificate, algorithm: str) -> tuple[bytes, bytes]:
    cid = cert_id_for(issuer_cert, 1, algorithm)
    return cid.issuer_name_hash, cid.issuer_key_hash


def multi_request_der(
    items: list[tuple[x509.Certificate, int, str]],
    *,
    nonce: bytes | None = None,
    extensions: list[dict[str, object]] | None = None,
    single_extensions: list[dict[str, object]] | None = None,
) -> bytes:
    """A request with several CertIDs and/or arbitrary extensions (asn1crypto)."""
    tbs: dict[str, object] = {
        "request_list": [
            {
                "req_cert": asn1_ocsp.CertId.load(cert_id_for(c, s, a).der),
                **({"single_request_extensions": single_extensions} if single_extensions else {}),
            }
            for c, s, a in items
        ],
    }
    exts = list(extensions or [])
    if nonce is not None:
        exts.append({"extn_id": "nonce", "critical": False, "extn_value": nonce})
    if exts:
        tbs["request_extensions"] = exts
    return asn1_ocsp.OCSPRequest({"tbs_request": tbs}).dump()


def load(der: bytes) -> x509_ocsp.OCSPResponse:
    return x509_ocsp.load_der_ocsp_response(der)


def verify_signature(response: x509_ocsp.OCSPResponse, signer_cert: x509.Certificate) -> None:
    """Raise unless the response verifies with ``signer_cert``'s key (ECDSA)."""
    public = signer_cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert response.signature_hash_algorithm is not None
    public.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(response.signature_hash_algorithm))
