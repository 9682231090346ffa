"""What the PKCS#11 layer encodes itself: curve parameters, DigestInfo, digests computed in
software before only the digest goes to the token, and CKA_EC_POINT values."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.utils import Buffer
from pkcs11 import MGF, Mechanism

from hsm.errors import UnsupportedAlgorithmError

# CKA_EC_PARAMS: DER namedCurve OIDs; Ed25519 also as the PKCS#11 3.0 PrintableString form.
EC_PARAMS = {
    "secp256r1": bytes.fromhex("06082a8648ce3d030107"),
    "secp384r1": bytes.fromhex("06052b81040022"),
    "secp521r1": bytes.fromhex("06052b81040023"),
}
CURVES: dict[bytes, ec.EllipticCurve] = {
    EC_PARAMS["secp256r1"]: ec.SECP256R1(),
    EC_PARAMS["secp384r1"]: ec.SECP384R1(),
    EC_PARAMS["secp521r1"]: ec.SECP521R1(),
}
ED25519_PARAMS = bytes.fromhex("06032b6570")  # id-Ed25519
ED25519_NAMES = (ED25519_PARAMS, b"\x13\x0cedwards25519")

# Hashes accepted for signing (SHA-1 and MD5 deliberately not): the last arc of the NIST hash OID
# 2.16.840.1.101.3.4.2.x, for the PKCS#1 v1.5 DigestInfo.
HASH_OID_ARC = {
    "sha224": 4,
    "sha256": 1,
    "sha384": 2,
    "sha512": 3,
    "sha3-224": 7,
    "sha3-256": 8,
    "sha3-384": 9,
    "sha3-512": 10,
}
# PSS: (CKM hash, CKG_MGF1, CKM hash-and-sign) per hash; SHA-3 PSS is not offered by common tokens.
PSS_HASH = {
    "sha224": (Mechanism.SHA224, MGF.SHA224, Mechanism.SHA224_RSA_PKCS_PSS),
    "sha256": (Mechanism.SHA256, MGF.SHA256, Mechanism.SHA256_RSA_PKCS_PSS),
    "sha384": (Mechanism.SHA384, MGF.SHA384, Mechanism.SHA384_RSA_PKCS_PSS),
    "sha512": (Mechanism.SHA512, MGF.SHA512, Mechanism.SHA512_RSA_PKCS_PSS),
}


def digest_info(algorithm: hashes.HashAlgorithm, digest: bytes) -> bytes:
    """DER DigestInfo for RSASSA-PKCS1-v1_5 (all lengths are short-form)."""
    oid = bytes([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, HASH_OID_ARC[algorithm.name]])
    algorithm_id = b"\x30" + bytes([len(oid) + 2]) + oid + b"\x05\x00"
    body = algorithm_id + b"\x04" + bytes([len(digest)]) + digest
    return b"\x30" + bytes([len(body)]) + body


def check_hash(algorithm: hashes.HashAlgorithm) -> None:
    if algorithm.name not in HASH_OID_ARC:
        raise UnsupportedAlgorithmError(
            f"hash {algorithm.name!r} is not allowed for signing; use one of {', '.join(HASH_OID_ARC)}"
        )


def compute_digest(data: Buffer, algorithm: hashes.HashAlgorithm | Prehashed) -> tuple[hashes.HashAlgorithm, bytes]:
    """The hash algorithm and the digest to sign: computed here, or given by the caller (Prehashed)."""
    if isinstance(algorithm, Prehashed):
        inner = algorithm._algorithm  # cryptography keeps the wrapped algorithm only privately
        check_hash(inner)
        digest = bytes(data)
        if len(digest) != inner.digest_size:
            raise ValueError(f"a prehashed {inner.name} digest must be {inner.digest_size} bytes long")
        return inner, digest
    check_hash(algorithm)
    hasher = hashes.Hash(algorithm)
    hasher.update(data)
    return algorithm, hasher.finalize()


def der_octet_string(value: bytes) -> bytes:
    """Content of a DER OCTET STRING (CKA_EC_POINT is one, by the standard)."""
    if len(value) < 2 or value[0] != 0x04:
        raise ValueError("not a DER OCTET STRING")
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    if len(value) != offset + length:
        raise ValueError("bad DER OCTET STRING length")
    return value[offset:]


def ec_point(value: bytes, expected_length: int) -> bytes:
    """The public point from CKA_EC_POINT; some tokens omit the OCTET STRING wrapper."""
    return value if len(value) == expected_length else der_octet_string(value)
