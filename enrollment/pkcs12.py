"""PKCS#12 for keys generated at the certification point.

PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC for both the key and the certificates, an
HMAC-SHA256 MAC, the issuing chain included; protected by the PIN the citizen typed. The private
key exists only in memory and inside this encrypted container.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12


def build_pkcs12(
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    pin: str,
    *,
    kdf_rounds: int,
    friendly_name: str,
) -> bytes:
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(kdf_rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(pin.encode("utf-8"))
    )
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"),
        key,  # type: ignore[arg-type]
        certificate,
        chain,
        encryption,
    )
