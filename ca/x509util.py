"""Small X.509 helpers shared by the CA's builders and lookups."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


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
