"""Which hash and which signature AlgorithmIdentifier go with a key, and raw signing with them.

One rule for everything the project signs: certificates and CRLs (cryptography's builders get
:func:`signature_hash`), CRLs written in one pass, OCSP responses and CMS SignedData (they get
:func:`signature_algorithm` and :func:`digest_algorithm` as DER), audit seals and renewal proofs
(:func:`sign_data`, :func:`verify_data`).

The rule, per key type:

- RSA (any modulus): SHA-256 with RSASSA-PKCS1-v1_5, ``sha256WithRSAEncryption`` whose
  parameters are NULL (RFC 4055 §5, RFC 8017 Appendix A.2.4).
- ECDSA: the hash matched to the curve size, P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512
  (RFC 5480 §4; other curves by the same size bands); ``ecdsa-with-SHA256/384/512`` with the
  parameters absent (RFC 5758 §3.2).
- Ed25519 / Ed448: PureEdDSA, no pre-hash; ``id-Ed25519`` / ``id-Ed448`` with the parameters
  absent (RFC 8410 §3, §6). In CMS the message digest is SHA-512 for Ed25519 (RFC 8419 §3.1);
  Ed448 would need SHAKE256 there and is refused.
- Digest AlgorithmIdentifiers (CMS digestAlgorithm, ESSCertIDv2) for SHA-2 are written with the
  parameters absent (RFC 5754 §2).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)

from core import der

AnyKey = CertificateIssuerPrivateKeyTypes | CertificateIssuerPublicKeyTypes

# RFC 5754 §2 (id-sha256 ...), RFC 5758 §3.2 (ecdsa-with-SHA*), RFC 4055 §5 (sha*WithRSAEncryption),
# RFC 8410 §3 (id-Ed25519, id-Ed448).
DIGEST_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
ECDSA_OIDS = {"sha256": "1.2.840.10045.4.3.2", "sha384": "1.2.840.10045.4.3.3", "sha512": "1.2.840.10045.4.3.4"}
RSA_OIDS = {"sha256": "1.2.840.113549.1.1.11", "sha384": "1.2.840.113549.1.1.12", "sha512": "1.2.840.113549.1.1.13"}
ED25519_OID = "1.3.101.112"
ED448_OID = "1.3.101.113"

_ED25519 = (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)
_ED448 = (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)
_EC = (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)
_RSA = (rsa.RSAPrivateKey, rsa.RSAPublicKey)


def signature_hash(key: AnyKey) -> hashes.HashAlgorithm | None:
    """The hash signatures by ``key`` use (see the module docstring); None for EdDSA, whose
    hash is built in. Raises TypeError for other key types (DSA)."""
    if isinstance(key, _ED25519 + _ED448):
        return None
    if isinstance(key, _EC):
        size = key.curve.key_size
        return hashes.SHA256() if size <= 256 else hashes.SHA384() if size <= 384 else hashes.SHA512()
    if isinstance(key, _RSA):
        return hashes.SHA256()
    raise TypeError(f"unsupported key type {type(key).__name__}")


def signature_algorithm(key: AnyKey) -> bytes:
    """The DER AlgorithmIdentifier of signatures by ``key`` (certificate, CRL, OCSP, CMS)."""
    if isinstance(key, _ED25519):
        return der.sequence(der.oid(ED25519_OID))
    if isinstance(key, _ED448):
        return der.sequence(der.oid(ED448_OID))
    digest = signature_hash(key)
    assert digest is not None
    if isinstance(key, _EC):
        return der.sequence(der.oid(ECDSA_OIDS[digest.name]))
    return der.sequence(der.oid(RSA_OIDS[digest.name]), der.NULL)


def digest_algorithm(name: str) -> bytes:
    """The DER AlgorithmIdentifier of a SHA-2 digest (``"sha256"`` ...), parameters absent."""
    return der.sequence(der.oid(DIGEST_OIDS[name]))


def cms_digest_name(key: AnyKey) -> str:
    """The hashlib name of the CMS message digest (RFC 5652 §5.4) for a signer with ``key``:
    the signature hash, SHA-512 for Ed25519 (RFC 8419 §3.1)."""
    if isinstance(key, _ED25519):
        return "sha512"
    digest = signature_hash(key)
    if digest is None:
        raise TypeError("Ed448 signers are not supported in CMS (RFC 8419 §3.1 needs SHAKE256)")
    return digest.name


def signer(key: CertificateIssuerPrivateKeyTypes) -> Callable[[bytes], bytes]:
    """``data -> signature`` by ``key`` under the rule, with the type decisions made once
    (hot paths such as TSA tokens keep the returned callable)."""
    digest = signature_hash(key)
    if isinstance(key, rsa.RSAPrivateKey):
        assert digest is not None
        return partial(_sign_rsa, key, digest)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert digest is not None
        return partial(_sign_ec, key, ec.ECDSA(digest))
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return key.sign
    raise TypeError(f"unsupported key type {type(key).__name__}")


def _sign_rsa(key: rsa.RSAPrivateKey, digest: hashes.HashAlgorithm, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), digest)


def _sign_ec(key: ec.EllipticCurvePrivateKey, algorithm: ec.ECDSA, data: bytes) -> bytes:
    return key.sign(data, algorithm)


def sign_data(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    """A raw signature over ``data`` (audit seals, key-store self-tests, renewal proofs)."""
    return signer(key)(data)


def verify_data(key: CertificateIssuerPublicKeyTypes, signature: bytes, data: bytes) -> None:
    """Raise ``cryptography.exceptions.InvalidSignature`` unless ``signature`` is valid."""
    digest = signature_hash(key)
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
