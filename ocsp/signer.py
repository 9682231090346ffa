"""The delegated OCSP signer of a CA (RFC 6960 §4.2.2.2): its certificate and key handle."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID

from ca.serials import to_hex
from core.signing import signature_algorithm, signer
from ocsp.errors import SignerUnavailableError


@dataclass(frozen=True)
class ResponseSigner:
    """Signs ResponseData for one CA. ``key_hash`` is the SHA-1 of the signer's public key BIT
    STRING, used as responderID byKey (RFC 6960 §4.2.2.3)."""

    issuer: str
    serial: str
    certificate_der: bytes
    key: CertificateIssuerPrivateKeyTypes
    key_hash: bytes
    # DER AlgorithmIdentifier of the signature (core.signing: RFC 5758 §3.2, RFC 4055 §5, RFC 8410 §3).
    algorithm_der: bytes
    not_after: datetime
    _sign: Callable[[bytes], bytes] = field(init=False, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        issuer: str,
        issuer_certificate: x509.Certificate,
        certificate: x509.Certificate,
        key: CertificateIssuerPrivateKeyTypes,
    ) -> ResponseSigner:
        """Check the delegation (issued by the CA, EKU id-kp-OCSPSigning, key matches) and build."""
        if certificate.issuer != issuer_certificate.subject:
            raise SignerUnavailableError(issuer, "the signer certificate was not issued by the CA")
        try:
            certificate.verify_directly_issued_by(issuer_certificate)
        except (ValueError, TypeError, Exception) as exc:  # InvalidSignature has no common base
            raise SignerUnavailableError(
                issuer, f"the signer certificate does not verify ({type(exc).__name__})"
            ) from None
        try:
            eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            raise SignerUnavailableError(issuer, "the signer certificate has no extendedKeyUsage") from None
        if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            raise SignerUnavailableError(issuer, "the signer certificate lacks id-kp-OCSPSigning")
        spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
            raise SignerUnavailableError(issuer, "the key does not match the signer certificate")
        der = certificate.public_bytes(Encoding.DER)
        parsed = asn1_x509.Certificate.load(der)
        key_bits = parsed["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]
        return cls(
            issuer=issuer,
            serial=to_hex(certificate.serial_number),
            certificate_der=der,
            key=key,
            key_hash=hashlib.sha1(key_bits).digest(),  # noqa: S324 - RFC 6960 §4.2.1 KeyHash is SHA-1
            algorithm_der=signature_algorithm(key),
            not_after=certificate.not_valid_after_utc,
        )

    def __post_init__(self) -> None:
        # The key-type decisions once per signer, not per response.
        object.__setattr__(self, "_sign", signer(self.key))

    def sign(self, data: bytes) -> bytes:
        return self._sign(data)
