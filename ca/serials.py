"""Certificate serial numbers: 159 bits from the OS CSPRNG (RFC 5280 §4.1.2.2, CA/B BR §7.1).

Positive, below 2^159, so the DER INTEGER never exceeds 20 octets; never derived from row ids.
Uniqueness per issuer is enforced by a database constraint; a collision is retried, never reused.
"""

from __future__ import annotations

import secrets
from typing import NewType

Serial = NewType("Serial", int)

SERIAL_BITS = 159


def new_serial() -> Serial:
    while True:
        value = secrets.randbits(SERIAL_BITS)
        # At least 64 random bits of entropy survive in any case; a tiny value is merely suspicious.
        if value >= 1 << 64:
            return Serial(value)


def to_hex(serial: int) -> str:
    """Canonical text form: upper-case hex, even length, no prefix."""
    text = f"{serial:X}"
    return text if len(text) % 2 == 0 else "0" + text


def from_hex(text: str) -> Serial:
    cleaned = text.strip().replace(":", "").replace(" ", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    if not cleaned or len(cleaned) > 40:
        raise ValueError("a serial is 1 to 40 hex digits")
    value = int(cleaned, 16)
    if value <= 0:
        raise ValueError("a serial is a positive number")
    return Serial(value)
