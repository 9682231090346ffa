"""A minimal DER writer for the token's hot path.

The static parts of a token (certificate, algorithm identifiers, signing-certificate attribute)
are built once per signer with asn1crypto; the few per-token fields are written here, which is
an order of magnitude faster than building asn1crypto objects per request. Tests check every
token against asn1crypto's strict re-encoding (X.690 DER).
"""

from __future__ import annotations

from functools import lru_cache

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
GENERALIZED_TIME = 0x18


def length(n: int) -> bytes:
    """X.690 §8.1.3 definite length, shortest form (DER §10.1)."""
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + length(len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """SET OF with its elements in DER order (X.690 §11.6: ascending encodings, the shorter padded
    with trailing zero octets)."""
    width = max((len(p) for p in parts), default=0)

    def key(encoding: bytes) -> bytes:
        return encoding.ljust(width, b"\x00")

    ordered: list[bytes] = sorted(parts, key=key)
    return tlv(SET, b"".join(ordered))


def integer(value: int) -> bytes:
    """Two's complement, minimal octets (X.690 §8.3.2)."""
    size = (value.bit_length() + 8) // 8 if value >= 0 else ((-value - 1).bit_length() + 8) // 8
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def octet_string(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


@lru_cache(maxsize=256)
def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER (X.690 §8.19); cached, as a token only uses a handful."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39):
        raise ValueError(f"invalid OID {dotted!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        rest = arc >> 7
        chunk = [arc & 0x7F]
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, bytes(body))


def explicit(number: int, content: bytes) -> bytes:
    """[number] EXPLICIT (context-specific, constructed); numbers below 31 only."""
    return tlv(0xA0 | number, content)


def implicit_primitive(number: int, content: bytes) -> bytes:
    """[number] IMPLICIT of a primitive type (context-specific, primitive); numbers below 31 only."""
    return tlv(0x80 | number, content)
