"""Sign and verify raw data with whatever key type a store hands out (RSA, EC, Ed25519).

Certificates, CRLs and OCSP responses are signed by `cryptography` builders; this is for the
remaining raw signatures (audit seals, key-store self-tests).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)


def default_hash_for(
    key: CertificateIssuerPrivateKeyTypes | CertificateIssuerPublicKeyTypes,
) -> hashes.HashAlgorithm | None:
    """SHA-256, SHA-384 or SHA-512 matched to the key strength; None for EdDSA (hash built in)."""
    if isinstance(
        key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey, ed448.Ed448PrivateKey, ed448.Ed448PublicKey)
    ):
        return None
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        size = key.curve.key_size
        return hashes.SHA512() if size > 384 else hashes.SHA384() if size > 256 else hashes.SHA256()
    return hashes.SHA256()


def sign_data(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    digest = default_hash_for(key)
    if isinstance(key, rsa.RSAPrivateKey):
        assert digest is not None
        return key.sign(data, padding.PKCS1v15(), digest)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert digest is not None
        return key.sign(data, ec.ECDSA(digest))
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return key.sign(data)
    raise TypeError(f"unsupported key type {type(key).__name__}")


def verify_data(key: CertificateIssuerPublicKeyTypes, signature: bytes, data: bytes) -> None:
    """Raise ``cryptography.exceptions.InvalidSignature`` unless ``signature`` is valid."""
    digest = default_hash_for(key)
    if isinstance(key, rsa.RSAPublicKey):
        assert digest is not None
        key.verify(signature, data, padding.PKCS1v15(), digest)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        assert digest is not None
        key.verify(signature, data, ec.ECDSA(digest))
    elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        key.verify(signature, data)
    else:
        raise TypeError(f"unsupported key type {type(key).__name__}")
