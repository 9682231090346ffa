"""Tables owned by the receipt service: every UPO (UPP) and UPD it issued, as issued."""

from __future__ import annotations

import peewee as pw

from core.db import BaseModel, UTCDateTimeField


class Receipt(BaseModel):
    """One official receipt, stored in the same transaction as its audit record, before it is
    returned. ``number`` is the receipt's IdentyfikatorPoswiadczenia: random and unique by
    constraint (no coordination between hosts); ``public_id`` is what URLs carry."""

    public_id = pw.CharField(max_length=40, unique=True)
    number = pw.CharField(max_length=40, unique=True)
    kind = pw.CharField(max_length=3)  # "UPP" (submission) | "UPD" (delivery confirmation)
    portal_client = pw.CharField(max_length=64)
    idempotency_key = pw.CharField(max_length=200, null=True)
    request_hash = pw.CharField(max_length=64)
    submission_number = pw.CharField(max_length=100)
    subject = pw.CharField(max_length=500)
    recipient_name = pw.CharField(max_length=300)
    package_sha256 = pw.CharField(max_length=64)
    package_size = pw.BigIntegerField(null=True)
    delivered_at = UTCDateTimeField()
    created_at = UTCDateTimeField(index=True)
    seal_certificate_serial = pw.CharField(max_length=42)
    timestamp_time = UTCDateTimeField()
    xml = pw.BlobField()

    class Meta:
        table_name = "receipts_receipt"
        indexes = ((("portal_client", "idempotency_key"), True),)
