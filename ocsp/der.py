"""A minimal DER writer for the fixed shapes of OCSP responses (RFC 6960 §4.2.1).

The hot path (live signing, thousands per second) writes these few structures directly; every
shape is checked against independent parsers in the tests (cryptography, asn1crypto, OpenSSL,
GnuTLS, pyhanko-certvalidator).
"""

from __future__ import annotations

from core.der import (
    NULL,
    bit_string,
    enumerated,
    explicit,
    generalized_time,
    integer,
    length,
    octet_string,
    sequence,
    tlv,
)

__all__ = [
    "CRL_REASON_CODES",
    "HASH_OIDS",
    "NULL",
    "OID_BASIC",
    "OID_NONCE",
    "bit_string",
    "cert_id",
    "enumerated",
    "explicit",
    "generalized_time",
    "integer",
    "length",
    "octet_string",
    "sequence",
    "tlv",
]
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


def cert_id(algorithm: str, name_hash: bytes, key_hash: bytes, serial: int) -> bytes:
    """CertID with hash parameters NULL (RFC 6960 §4.1.1)."""
    return sequence(
        sequence(HASH_OIDS[algorithm], NULL), octet_string(name_hash), octet_string(key_hash), integer(serial)
    )
