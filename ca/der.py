"""Just enough DER (X.690) to assemble a CRL in one pass.

cryptography's ``CertificateRevocationListBuilder.add_revoked_certificate`` copies its list on
every call (quadratic for a million entries), so :mod:`ca.crl` writes the TBSCertList itself:
the revoked list is appended entry by entry to one buffer, then wrapped and signed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509

from core.der import BIT_STRING as TAG_BIT_STRING
from core.der import GENERALIZED_TIME as TAG_GENERALIZED_TIME
from core.der import OCTET_STRING as TAG_OCTET_STRING
from core.der import SEQUENCE as TAG_SEQUENCE
from core.der import UTC_TIME as TAG_UTC_TIME
from core.der import integer, integer_from_hex, length, oid, sequence, tlv

__all__ = [
    "TAG_BIT_STRING",
    "TAG_GENERALIZED_TIME",
    "TAG_OCTET_STRING",
    "TAG_SEQUENCE",
    "TAG_UTC_TIME",
    "extension",
    "integer",
    "integer_from_hex",
    "length",
    "oid",
    "sequence",
    "time",
    "time_from_db",
    "tlv",
]


def time(value: datetime) -> bytes:
    """RFC 5280 §4.1.2.5 / §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050."""
    value = value.astimezone(UTC)
    if value.year < 2050:
        return tlv(TAG_UTC_TIME, value.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(TAG_GENERALIZED_TIME, value.strftime("%Y%m%d%H%M%SZ").encode())


def time_from_db(value: object) -> bytes:
    """The CRL time of a database value without building datetimes: SQLite returns naive UTC
    text ``YYYY-MM-DD HH:MM:SS[.ffffff]``, PostgreSQL a naive UTC datetime."""
    if isinstance(value, str):
        year = value[0:4]
        digits = value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
        if year < "2050":
            return b"\x17\x0d" + (year[2:] + digits + "Z").encode()
        return b"\x18\x0f" + (year + digits + "Z").encode()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        number = value.year
        rest = f"{value.month:02d}{value.day:02d}{value.hour:02d}{value.minute:02d}{value.second:02d}Z"
        if number < 2050:
            return b"\x17\x0d" + f"{number % 100:02d}{rest}".encode()
        return b"\x18\x0f" + f"{number:04d}{rest}".encode()
    raise TypeError(f"not a database time: {type(value).__name__}")


def extension(value: x509.ExtensionType, *, critical: bool = False) -> bytes:
    """An Extension (RFC 5280 §4.1): extnID, critical (only when TRUE, DER), extnValue."""
    parts = [oid(value.oid.dotted_string)]
    if critical:
        parts.append(b"\x01\x01\xff")
    parts.append(tlv(TAG_OCTET_STRING, value.public_bytes()))
    return sequence(*parts)
