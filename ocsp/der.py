"""A minimal DER writer for the fixed shapes of OCSP responses (RFC 6960 §4.2.1).

The hot path (live signing, thousands per second) writes these few structures directly; every
shape is checked against independent parsers in the tests (cryptography, asn1crypto, OpenSSL,
GnuTLS, pyhanko-certvalidator).
"""

from __future__ import annotations

from datetime import datetime

NULL = b"\x05\x00"
# 1.3.6.1.5.5.7.48.1.1 id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.2 id-pkix-ocsp-nonce
OID_BASIC = bytes.fromhex("06092b0601050507300101")
OID_NONCE = bytes.fromhex("06092b0601050507300102")
HASH_OIDS = {
    "sha1": bytes.fromhex("06052b0e03021a"),
    "sha256": bytes.fromhex("0609608648016503040201"),
    "sha384": bytes.fromhex("0609608648016503040202"),
    "sha512": bytes.fromhex("0609608648016503040203"),
}
# RFC 5280 §5.3.1 CRLReason values.
CRL_REASON_CODES = {
    "unspecified": 0,
    "key_compromise": 1,
    "ca_compromise": 2,
    "affiliation_changed": 3,
    "superseded": 4,
    "cessation_of_operation": 5,
    "certificate_hold": 6,
    "remove_from_crl": 8,
    "privilege_withdrawn": 9,
    "aa_compromise": 10,
}


def length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + length(len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def octet_string(value: bytes) -> bytes:
    return tlv(0x04, value)


def bit_string(value: bytes) -> bytes:
    return tlv(0x03, b"\x00" + value)


def integer(value: int) -> bytes:
    size = ((value if value >= 0 else -value - 1).bit_length() + 8) // 8
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def enumerated(value: int) -> bytes:
    return tlv(0x0A, integer(value)[2:])


def generalized_time(value: datetime) -> bytes:
    """RFC 5280 §4.1.2.5.2 form: YYYYMMDDHHMMSSZ, no fractions (callers pass UTC)."""
    return tlv(0x18, value.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def explicit(number: int, content: bytes) -> bytes:
    return tlv(0xA0 | number, content)


def cert_id(algorithm: str, name_hash: bytes, key_hash: bytes, serial: int) -> bytes:
    """CertID with hash parameters NULL (RFC 6960 §4.1.1)."""
    return sequence(
        sequence(HASH_OIDS[algorithm], NULL), octet_string(name_hash), octet_string(key_hash), integer(serial)
    )
