"""Token serial numbers: 158 random bits from the OS CSPRNG with the top bit of 159 set.

Positive, exactly 20 DER octets, and unique across workers and hosts without coordination
(a collision among 2^158 values is astronomically unlikely; the ``tsa_token.serial`` unique
constraint catches it anyway and the token is re-issued under a new serial).
"""

from __future__ import annotations

import secrets

SERIAL_BITS = 159
RANDOM_BITS = SERIAL_BITS - 1


def new_serial() -> int:
    """A fresh serialNumber (RFC 3161 §2.4.2: unique for each token from this TSA)."""
    return secrets.randbits(RANDOM_BITS) | (1 << RANDOM_BITS)


def to_hex(serial: int) -> str:
    return format(serial, "X")
