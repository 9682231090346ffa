"""The delegated OCSP signer of a CA (RFC 6960 §4.2.2.2): its certificate and key handle."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos as asn1_algos
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID

from ca.serials import to_hex
from ca.x509util import signature_hash
from ocsp.errors import SignerUnavailableError

_SIGNATURE_ALGORITHMS = {
    ("ec", "sha256"): "sha256_ecdsa",
    ("ec", "sha384"): "sha384_ecdsa",
    ("ec", "sha512"): "sha512_ecdsa",
    ("rsa", "sha256"): "sha256_rsa",
    ("rsa", "sha384"): "sha384_rsa",
    ("rsa", "sha512"): "sha512_rsa",
}


@dataclass(frozen=True)
class ResponseSigner:
    """Signs ResponseData for one CA. ``key_hash`` is the SHA-1 of the signer's public key BIT
    STRING, used as responderID byKey (RFC 6960 §4.2.2.3)."""

    issuer: str
    serial: str
    certificate_der: bytes
    key: CertificateIssuerPrivateKeyTypes
    key_hash: bytes
    # DER AlgorithmIdentifier of the signature (RFC 5758 §3.2 ECDSA: no parameters; RSA: NULL).
    algorithm_der: bytes
    not_after: datetime

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
            algorithm_der=asn1_algos.SignedDigestAlgorithm({"algorithm": _algorithm_name(key)}).dump(),
            not_after=certificate.not_valid_after_utc,
        )

    def sign(self, data: bytes) -> bytes:
        key = self.key
        digest = signature_hash(key)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            assert digest is not None
            return key.sign(data, ec.ECDSA(digest))
        if isinstance(key, rsa.RSAPrivateKey):
            assert digest is not None
            return key.sign(data, padding.PKCS1v15(), digest)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        raise TypeError(f"unsupported signer key type {type(key).__name__}")


def _algorithm_name(key: CertificateIssuerPrivateKeyTypes) -> str:
    digest = signature_hash(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    family = "ec" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa"
    assert isinstance(digest, hashes.HashAlgorithm)
    return _SIGNATURE_ALGORITHMS[(family, digest.name)]
