"""Whoever signs: a private key that stays where it is (in memory from a PKCS#12, or on a
PKCS#11 token) and its certificate chain. XML-DSig wants ECDSA values as r‖s (RFC 4050 §3.3,
XML Signature 1.1 §6.4.3), not DER, so the conversion lives here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from core.signing import signature_hash
from epackage.errors import SigningError

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
# SignatureMethod URIs (RFC 6931 §2.3.2 RSA, §2.3.6 ECDSA) for the hash core.signing picks.
_SIGNATURE_METHODS = {
    ("rsa", "sha256"): RSA_SHA256,
    ("rsa", "sha384"): "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    ("rsa", "sha512"): "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    ("ec", "sha256"): ECDSA_SHA256,
    ("ec", "sha384"): "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    ("ec", "sha512"): "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
}


@dataclass(frozen=True)
class Signer:
    """A private key object (cryptography's interface; PKCS#11 keys from :mod:`hsm` fit) and the
    signer's certificate followed by its issuers (may be empty)."""

    key: Any
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise SigningError("only RSA and EC keys can sign e-packages")
        if self.key.public_key().public_numbers() != self.certificate.public_key().public_numbers():  # type: ignore[union-attr]
            raise SigningError("the private key does not belong to the certificate")

    @property
    def algorithm(self) -> str:
        """The SignatureMethod URI: the project's one key → hash rule (:mod:`core.signing`)."""
        family = "ec" if isinstance(self.key, ec.EllipticCurvePrivateKey) else "rsa"
        return _SIGNATURE_METHODS[(family, self._hash().name)]

    def _hash(self) -> hashes.HashAlgorithm:
        chosen = signature_hash(self.key)
        assert chosen is not None  # RSA and EC only (checked in __post_init__)
        return chosen

    def sign(self, data: bytes) -> bytes:
        """The XML-DSig SignatureValue octets over ``data`` (hash per :attr:`algorithm`)."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(self._hash())))
            size = (self.key.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        signature: bytes = self.key.sign(data, padding.PKCS1v15(), self._hash())
        return signature


def from_pkcs12(data: bytes, pin: str) -> Signer:
    """Open a PKCS#12 in memory: the key is never written anywhere."""
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(data, pin.encode("utf-8"))
    except ValueError:
        raise SigningError("the PKCS#12 file cannot be opened (wrong PIN or not a PKCS#12)") from None
    if key is None or certificate is None:
        raise SigningError("the PKCS#12 file holds no key and certificate")
    return Signer(key, certificate, tuple(extra or ()))


def from_pkcs11(module: str, token_label: str, pin: str, key_label: str, certificate: x509.Certificate) -> Signer:
    """A key on a PKCS#11 token (the key never leaves it), used through :mod:`hsm`."""
    from hsm.errors import HSMError
    from hsm.pkcs11 import PKCS11KeyStore

    try:
        store = PKCS11KeyStore(module, token_label, pin, pool_size=1)
        key = store.find(key_label)
    except HSMError as exc:
        raise SigningError(f"the token key cannot be used: {exc}") from None
    return Signer(key, certificate)
