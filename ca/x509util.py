"""Small X.509 helpers shared by the CA's builders and lookups."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, CertificatePublicKeyTypes


def signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm | None:
    """The hash to sign certificates and CRLs with: matched to EC curve size, SHA-256 for RSA,
    none for Ed25519 (RFC 8410)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: hashes.SHA256(), 384: hashes.SHA384()}.get(key.curve.key_size, hashes.SHA512())
    if isinstance(key, rsa.RSAPrivateKey):
        return hashes.SHA256()
    raise TypeError(f"unsupported issuer key type {type(key).__name__}")


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex().upper()


def key_hash_sha1(public_key: CertificatePublicKeyTypes) -> str:
    """SHA-1 of the subjectPublicKey BIT STRING value: the OCSP issuerKeyHash (RFC 6960 §4.1.1)."""
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest.hex()  # type: ignore[arg-type]


def spki_der(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def name_hash(name: x509.Name, algorithm: str = "sha1") -> bytes:
    """Hash of the DER-encoded name (OCSP issuerNameHash)."""
    return hashlib.new(algorithm, name.public_bytes()).digest()
