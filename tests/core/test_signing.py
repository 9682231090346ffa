"""core.signing: one key → hash / AlgorithmIdentifier rule for every signature the project makes.

Before issue 12 the rule was written six times and the copies disagreed: a P-192 or P-224 key
got SHA-512 in the CA, OCSP, TSA and report signers but SHA-256 for raw signatures, Ed448 was
signable raw but refused by the CA, and the verifier's signed report wrote its SHA-2 digest
AlgorithmIdentifiers with NULL parameters where the TSA left them absent (RFC 5754 §2).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from core.signing import (
    cms_digest_name,
    digest_algorithm,
    sign_data,
    signature_algorithm,
    signature_hash,
    signer,
    verify_data,
)

_KEYS: dict[str, CertificateIssuerPrivateKeyTypes] = {}


def key(kind: str) -> CertificateIssuerPrivateKeyTypes:
    """Keys are slow to make (RSA): one per kind for the module."""
    if kind not in _KEYS:
        makers = {
            "rsa-2048": lambda: rsa.generate_private_key(65537, 2048),
            "rsa-3072": lambda: rsa.generate_private_key(65537, 3072),
            "p-224": lambda: ec.generate_private_key(ec.SECP224R1()),
            "p-256": lambda: ec.generate_private_key(ec.SECP256R1()),
            "p-384": lambda: ec.generate_private_key(ec.SECP384R1()),
            "p-521": lambda: ec.generate_private_key(ec.SECP521R1()),
            "p-192": lambda: ec.generate_private_key(ec.SECP192R1()),
            "ed25519": ed25519.Ed25519PrivateKey.generate,
            "ed448": ed448.Ed448PrivateKey.generate,
        }
        _KEYS[kind] = makers[kind]()  # type: ignore[no-untyped-call]
    return _KEYS[kind]


# (key, hash, AlgorithmIdentifier DER in hex, clause)
RULES = [
    ("rsa-2048", "sha256", "300d06092a864886f70d01010b0500", "RFC 4055 §5, RFC 8017 A.2.4: NULL parameters"),
    ("rsa-3072", "sha256", "300d06092a864886f70d01010b0500", "SHA-256 whatever the modulus"),
    ("p-256", "sha256", "300a06082a8648ce3d040302", "RFC 5480 §4, RFC 5758 §3.2: parameters absent"),
    ("p-384", "sha384", "300a06082a8648ce3d040303", "RFC 5480 §4, RFC 5758 §3.2"),
    ("p-521", "sha512", "300a06082a8648ce3d040304", "RFC 5480 §4, RFC 5758 §3.2"),
    ("p-224", "sha256", "300a06082a8648ce3d040302", "size band <= 256 (was SHA-512 in the CA)"),
    ("p-192", "sha256", "300a06082a8648ce3d040302", "size band <= 256 (was SHA-512 in the CA)"),
    ("ed25519", None, "300506032b6570", "RFC 8410 §3: id-Ed25519, parameters absent"),
    ("ed448", None, "300506032b6571", "RFC 8410 §3: id-Ed448, parameters absent"),
]


@pytest.mark.parametrize(("kind", "hash_name", "algorithm_hex", "clause"), RULES, ids=[r[0] for r in RULES])
def test_key_to_hash_and_algorithm_identifier(
    kind: str, hash_name: str | None, algorithm_hex: str, clause: str
) -> None:
    private = key(kind)
    chosen = signature_hash(private)
    assert (chosen.name if chosen else None) == hash_name, clause
    # The same answer from the public half (verification, lint throwaway keys).
    public_hash = signature_hash(private.public_key())
    assert (public_hash.name if public_hash else None) == hash_name
    assert signature_algorithm(private).hex() == algorithm_hex, clause
    assert signature_algorithm(private.public_key()).hex() == algorithm_hex


@pytest.mark.parametrize("kind", [r[0] for r in RULES])
def test_the_rule_matches_what_cryptography_writes_into_a_certificate(kind: str) -> None:
    # An independent encoder: cryptography's builder, given our hash, writes the same
    # AlgorithmIdentifier into the certificate that our one-pass CRL / OCSP / CMS code writes.
    private = key(kind)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rule")])
    at = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(at)
        .not_valid_after(at + timedelta(days=1))
        .sign(private, signature_hash(private))  # type: ignore[arg-type]
    )
    parsed = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    assert parsed["signature_algorithm"].dump() == signature_algorithm(private)


def test_sha2_digest_identifiers_have_absent_parameters() -> None:
    # RFC 5754 §2: "Implementations MUST generate SHA2 AlgorithmIdentifiers with absent parameters."
    assert digest_algorithm("sha256").hex() == "300b0609608648016503040201"
    assert digest_algorithm("sha384").hex() == "300b0609608648016503040202"
    assert digest_algorithm("sha512").hex() == "300b0609608648016503040203"


def test_cms_message_digest() -> None:
    assert cms_digest_name(key("p-256")) == "sha256"
    assert cms_digest_name(key("p-384")) == "sha384"
    assert cms_digest_name(key("rsa-2048")) == "sha256"
    # RFC 8419 §3.1: Ed25519 signers use SHA-512 for the message digest.
    assert cms_digest_name(key("ed25519")) == "sha512"
    # RFC 8419 §3.1: Ed448 would need SHAKE256 (512-bit output), which we do not write.
    with pytest.raises(TypeError):
        cms_digest_name(key("ed448"))


@pytest.mark.parametrize("kind", [r[0] for r in RULES])
def test_raw_signatures_round_trip(kind: str) -> None:
    private = key(kind)
    signature = sign_data(private, b"data")
    verify_data(private.public_key(), signature, b"data")
    assert signer(private)(b"data") is not None
    with pytest.raises(InvalidSignature):
        verify_data(private.public_key(), signature, b"other")


def test_dsa_is_refused() -> None:
    private = dsa.generate_private_key(2048)
    with pytest.raises(TypeError):
        signature_hash(private)
    with pytest.raises(TypeError):
        sign_data(private, b"data")
