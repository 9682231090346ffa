"""A minimal DER writer (ITU-T X.690) for hot paths: one-pass CRLs, OCSP responses, TSA tokens,
and the one-element reader (:func:`read_tlv`) behind the OCSP request and TSA query fast paths.

Building asn1crypto or cryptography objects per item is an order of magnitude slower than
writing the few structures that change per request or per CRL entry. Everything written here is
checked against asn1crypto's strict parser in tests/core/test_der.py, and each user's output
against independent parsers (cryptography, OpenSSL, GnuTLS) in its own tests. The reader's users
fall back to asn1crypto whenever it returns None, and their tests check both parsers agree.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL_TAG = 0x05
OBJECT_IDENTIFIER = 0x06
ENUMERATED = 0x0A
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
SEQUENCE = 0x30
SET = 0x31

NULL = b"\x05\x00"


def length(n: int) -> bytes:
    """Definite length in the shortest form (X.690 §8.1.3, DER §10.1)."""
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes | bytearray) -> bytes:
    return bytes((tag,)) + length(len(content)) + bytes(content)


def sequence(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """SET OF with its elements in DER order (X.690 §11.6: ascending encodings, the shorter
    padded with trailing zero octets)."""
    width = max((len(p) for p in parts), default=0)
    ordered = sorted(parts, key=lambda encoding: encoding.ljust(width, b"\x00"))
    return tlv(SET, b"".join(ordered))


def integer(value: int) -> bytes:
    """Two's complement in the fewest octets (X.690 §8.3.2)."""
    size = ((value if value >= 0 else -value - 1).bit_length() + 8) // 8
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def integer_from_hex(text: str) -> bytes:
    """INTEGER from a non-negative hex serial without an int round trip (a CRL's hot loop)."""
    raw = bytes.fromhex(text).lstrip(b"\x00") or b"\x00"
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return tlv(INTEGER, raw)


def enumerated(value: int) -> bytes:
    size = ((value if value >= 0 else -value - 1).bit_length() + 8) // 8
    return tlv(ENUMERATED, value.to_bytes(size, "big", signed=True))


def boolean(value: bool) -> bytes:
    """DER TRUE is 0xFF (X.690 §11.1)."""
    return tlv(BOOLEAN, b"\xff" if value else b"\x00")


def octet_string(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def bit_string(value: bytes) -> bytes:
    """A BIT STRING of whole octets (no unused bits)."""
    return tlv(BIT_STRING, b"\x00" + value)


@lru_cache(maxsize=512)
def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER (X.690 §8.19); cached, as callers use a handful of them."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise ValueError(f"invalid OID {dotted!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        rest = arc >> 7
        chunk = [arc & 0x7F]
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, body)


def read_tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
    """(tag, content start, content end) of the DER element at ``pos``; None unless it is a
    single-octet tag with a minimal definite length (X.690 §10.1) that fits before ``end``."""
    if pos + 2 > end:
        return None
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        return None
    first = data[pos + 1]
    start = pos + 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if count == 0 or count > 3 or start + count > end or data[start] == 0:
            return None
        size = int.from_bytes(data[start : start + count], "big")
        if size < 0x80:
            return None
        start += count
    if start + size > end:
        return None
    return tag, start, start + size


def generalized_time(value: datetime) -> bytes:
    """GeneralizedTime ``YYYYMMDDHHMMSSZ`` without fractions (RFC 5280 §4.1.2.5.2); UTC expected."""
    return tlv(GENERALIZED_TIME, value.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def explicit(number: int, content: bytes) -> bytes:
    """``[number] EXPLICIT`` (context-specific, constructed); tag numbers below 31 only."""
    if not 0 <= number < 31:
        raise ValueError("only low tag numbers are supported")
    return tlv(0xA0 | number, content)


def implicit_primitive(number: int, content: bytes) -> bytes:
    """``[number] IMPLICIT`` of a primitive type (context-specific, primitive); numbers below 31."""
    if not 0 <= number < 31:
        raise ValueError("only low tag numbers are supported")
    return tlv(0x80 | number, content)
