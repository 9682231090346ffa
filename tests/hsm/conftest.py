"""Key-store test fixtures: real SoftHSM2 tokens (tests/softhsm.py), never skipped."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from hsm.pkcs11 import PKCS11KeyStore
from tests.softhsm import SoftHSMToken, softhsm, softhsm_token  # noqa: F401 - fixtures


@pytest.fixture
def store(softhsm_token: SoftHSMToken) -> PKCS11KeyStore:  # noqa: F811 - the imported fixture
    """A key store on a fresh token (closed by ``softhsm_token``)."""
    return softhsm_token.key_store()


_SHA256 = hashes.SHA256()


def verify(
    public_key: CertificateIssuerPublicKeyTypes,
    signature: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm | None = _SHA256,
    rsa_padding: padding.AsymmetricPadding | None = None,
) -> None:
    """Verify with the plain cryptography public key; raises InvalidSignature."""
    if isinstance(public_key, rsa.RSAPublicKey):
        assert algorithm is not None
        public_key.verify(signature, data, rsa_padding or padding.PKCS1v15(), algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        assert algorithm is not None
        public_key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        assert isinstance(public_key, ed25519.Ed25519PublicKey)
        public_key.verify(signature, data)
