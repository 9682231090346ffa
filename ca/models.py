"""Tables owned by the CA: the hierarchy (CAs and signers) and every certificate it issued."""

from __future__ import annotations

import peewee as pw

from core.db import BaseModel, UTCDateTimeField

ROLES = ("root", "issuing", "ocsp", "tsa", "audit", "receipts")


class Authority(BaseModel):
    """A CA or signer of the hierarchy, with its current certificate.

    Renewing a signer (OCSP) replaces the certificate here; every certificate ever issued also
    stays in :class:`Certificate`.
    """

    name = pw.CharField(max_length=40, unique=True)
    role = pw.CharField(max_length=10, choices=[(r, r) for r in ROLES])
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    key_label = pw.CharField(max_length=100)
    subject = pw.TextField()
    certificate_der = pw.BlobField()
    serial = pw.CharField(max_length=40)
    not_before = UTCDateTimeField()
    not_after = UTCDateTimeField()
    fingerprint_sha256 = pw.CharField(max_length=64)
    # SHA-1 of the subjectPublicKey BIT STRING and of the DER subject: OCSP CertID lookups.
    key_hash_sha1 = pw.CharField(max_length=40, index=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "ca_authority"


CERT_STATES = ("reserved", "issued", "failed")


class Certificate(BaseModel):
    """Every certificate a CA of the hierarchy signed, from serial reservation onwards.

    ``state='reserved'`` with ``tbs_der`` set is the intent stored before signing; a reservation
    that never reached ``issued`` is treated as issued for revocation purposes.
    """

    issuer = pw.ForeignKeyField(Authority, backref="certificates", on_delete="RESTRICT")
    serial = pw.CharField(max_length=40)
    state = pw.CharField(max_length=10, choices=[(s, s) for s in CERT_STATES])
    profile = pw.CharField(max_length=40)
    subject = pw.TextField()
    tbs_der = pw.BlobField()
    der = pw.BlobField(null=True)
    fingerprint_sha256 = pw.CharField(max_length=64, null=True, index=True)
    not_before = UTCDateTimeField()
    not_after = UTCDateTimeField(index=True)
    created_at = UTCDateTimeField()
    issued_at = UTCDateTimeField(null=True)
    # Revocation state (RFC 5280 §5.3.1 reason names, e.g. "keyCompromise"; "certificateHold"
    # while suspended). revoked_at is the revocation (or suspension) time.
    revocation_reason = pw.CharField(max_length=30, null=True)
    revoked_at = UTCDateTimeField(null=True)
    invalidity_date = UTCDateTimeField(null=True)
    status_changed_at = UTCDateTimeField(null=True, index=True)
    # Who the certificate is for, as the caller knows it (e.g. "application:42"); never personal data.
    subject_ref = pw.CharField(max_length=100, null=True, index=True)

    class Meta:
        table_name = "ca_certificate"
        indexes = ((("issuer", "serial"), True),)


CRL_KINDS = ("full", "delta")


class CRLCounter(BaseModel):
    """The CRL number sequence of one CA (RFC 5280 §5.2.3: full and delta CRLs share it).

    Locked while a CRL is built, so numbers strictly increase whatever the clocks do and however
    many hosts publish."""

    issuer = pw.ForeignKeyField(Authority, unique=True, on_delete="RESTRICT")
    last_number = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "ca_crl_counter"


class StatusCounter(BaseModel):
    """Status changes (revoke, suspend, resume, hold expiry) per CA, counted in the transaction of
    each change: the clock-independent "something changed" signal for the CRL job. Separate from
    :class:`CRLCounter`, which stays locked while a (possibly large) CRL is built."""

    issuer = pw.ForeignKeyField(Authority, unique=True, on_delete="RESTRICT")
    changes = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "ca_status_counter"


class CRL(BaseModel):
    """Every CRL a CA published; the newest of each kind is served."""

    issuer = pw.ForeignKeyField(Authority, backref="crls", on_delete="RESTRICT")
    number = pw.BigIntegerField()
    kind = pw.CharField(max_length=5, choices=[(k, k) for k in CRL_KINDS])
    base_number = pw.BigIntegerField(null=True)  # delta CRLs: the full CRL they complete
    this_update = UTCDateTimeField()
    next_update = UTCDateTimeField()
    # The moment the revocation data was read (after the counter lock): changes after it, or
    # committed late within the margin (see changed_in_margin), are not in this CRL yet.
    snapshot_at = UTCDateTimeField()
    changed_in_margin = pw.IntegerField(default=0)
    # ca_status_counter.changes when the data was read: a higher counter means unpublished changes,
    # whatever the clocks say.
    status_changes = pw.BigIntegerField(default=0)
    entries = pw.IntegerField()
    der = pw.BlobField()
    sha256 = pw.CharField(max_length=64)

    class Meta:
        table_name = "ca_crl"
        indexes = ((("issuer", "number"), True), (("issuer", "kind", "number"), False))


BULK_STATES = ("awaiting_approval", "running", "finished")


class BulkRevocation(BaseModel):
    """A revocation of many certificates at once (a mis-issued batch), run only after dual
    control approved it (``core.approvals``), resumable: items are marked done batch by batch."""

    approval_id = pw.BigIntegerField(index=True)
    reason = pw.CharField(max_length=30)
    selection = pw.TextField()  # how the set was chosen, as JSON (file digest or query)
    selection_sha256 = pw.CharField(max_length=64)  # over the sorted certificate ids
    requested_by = pw.CharField(max_length=200)
    created_at = UTCDateTimeField()
    total = pw.IntegerField()
    done = pw.IntegerField(default=0)
    revoked = pw.IntegerField(default=0)
    state = pw.CharField(max_length=20, choices=[(s, s) for s in BULK_STATES])
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "ca_bulk_revocation"


class BulkRevocationItem(BaseModel):
    bulk = pw.ForeignKeyField(BulkRevocation, backref="items", on_delete="RESTRICT")
    certificate = pw.ForeignKeyField(Certificate, on_delete="RESTRICT")
    done = pw.BooleanField(default=False)
    outcome = pw.CharField(max_length=20, null=True)  # revoked | already_revoked | not_found

    class Meta:
        table_name = "ca_bulk_revocation_item"
        indexes = ((("bulk", "done", "id"), False), (("bulk", "certificate"), True))


class ProfileApproval(BaseModel):
    """The approved content (SHA-256 of its canonical settings) of each certificate profile:
    issuance refuses a configured profile that differs (ca.profile_control, dual control)."""

    name = pw.CharField(max_length=40, unique=True)
    sha256 = pw.CharField(max_length=64)
    approval_id = pw.IntegerField(null=True)  # none: pinned when the hierarchy was created
    approved_at = UTCDateTimeField()
    approved_by = pw.CharField(max_length=200)

    class Meta:
        table_name = "ca_profile_approval"


MODELS: tuple[type[pw.Model], ...] = (
    Authority,
    Certificate,
    CRLCounter,
    StatusCounter,
    CRL,
    BulkRevocation,
    BulkRevocationItem,
    ProfileApproval,
)
