"""The pre-signed response cache: one row per (issuer, serial)."""

from __future__ import annotations

import peewee as pw

from ca.hierarchy import authority_foreign_key
from core.db import BaseModel, UTCDateTimeField


class OCSPResponse(BaseModel):
    """A signed OCSPResponse (DER) for one certificate, CertID with SHA-1 (RFC 5019 §2.1.1).

    ``cert_status_changed_at`` / ``cert_issued_at`` copy the certificate row as it was read for
    signing; on every request they are compared with the row as it is now, so a status change
    (even one committed while the job was signing) is never hidden behind a cached answer.
    ``produced_at`` is when the status was read.
    """

    issuer = authority_foreign_key(on_delete="CASCADE", backref="+")
    serial = pw.CharField(max_length=40)
    der = pw.BlobField()
    produced_at = UTCDateTimeField()
    this_update = UTCDateTimeField(index=True)
    next_update = UTCDateTimeField()
    # Serial of the delegated signer certificate that signed it (re-signed after renewal).
    signer_serial = pw.CharField(max_length=40)
    cert_status_changed_at = UTCDateTimeField(null=True)
    cert_issued_at = UTCDateTimeField(null=True)
    # The status the response states ("good", "revoked", "unknown").
    cert_status = pw.CharField(max_length=10)

    class Meta:
        table_name = "ocsp_response"
        indexes = ((("issuer", "serial"), True),)


MODELS: tuple[type[pw.Model], ...] = (OCSPResponse,)
