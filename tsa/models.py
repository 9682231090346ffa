"""Tables owned by the TSA: every token issued, and the clock guard's state per host."""

from __future__ import annotations

import peewee as pw

from core.db import BaseModel, UTCDateTimeField


class TSAToken(BaseModel):
    """One issued time-stamp token: the record of each use of the TSA key.

    ``serial`` is the token's serialNumber in upper-case hex; the unique constraint is the last
    word on uniqueness across workers and hosts (RFC 3161 §2.4.2).
    """

    serial = pw.CharField(max_length=42, unique=True)
    gen_time = UTCDateTimeField(index=True)  # the clock guard reads MAX(gen_time) at start-up
    host = pw.CharField(max_length=100)
    hash_algorithm = pw.CharField(max_length=10)
    imprint = pw.CharField(max_length=128)  # hex of the hashed message
    policy = pw.CharField(max_length=100)
    has_nonce = pw.BooleanField()
    cert_req = pw.BooleanField()
    key_label = pw.CharField(max_length=100)
    tsa_certificate_serial = pw.CharField(max_length=42)

    class Meta:
        table_name = "tsa_token"
        indexes = ((("host", "gen_time"), False),)


class TSAHostState(BaseModel):
    """Per host: the configuration last announced and the clock guard's current state.

    Kept so that start-up and clock-guard transitions are audited once per change (not once per
    worker or per refused request).
    """

    host = pw.CharField(max_length=100, primary_key=True)
    config_digest = pw.CharField(max_length=64)
    clock_state = pw.CharField(max_length=20)  # ok | unsynchronised | backwards
    clock_reason = pw.TextField()
    changed_at = UTCDateTimeField()

    class Meta:
        table_name = "tsa_host_state"


MODELS: tuple[type[pw.Model], ...] = (TSAToken, TSAHostState)
