"""Tables owned by enrollment: certification points, which officers serve which point,
agreements, applications, identity evidence, citizens' certificates, PKCS#12 pick-ups, code
attempts and the e-mail outbox."""

from __future__ import annotations

import peewee as pw

from access.models import Officer, PortalClient
from core.db import BaseModel, UTCDateTimeField

APPLICATION_STATES = ("submitted", "verified", "approved", "issuing", "issued", "expired")
KEY_GENERATION = ("csr", "point")
DOCUMENT_TYPES = ("id_card", "passport")


class CertificationPoint(BaseModel):
    name = pw.CharField(max_length=200, unique=True)
    street = pw.CharField(max_length=200)
    postal_code = pw.CharField(max_length=6)
    city = pw.CharField(max_length=100)
    teryt = pw.CharField(max_length=7)
    # A second officer approves every issuance at this point.
    dual_control = pw.BooleanField(default=False)
    created_at = UTCDateTimeField()
    # What citizens read in the application e-mail and on the status page (migration 3).
    opening_hours = pw.CharField(max_length=200, default="")
    phone = pw.CharField(max_length=30, default="")
    # A closed point takes no new applications; its officers keep working on the open ones.
    disabled = pw.BooleanField(default=False)

    class Meta:
        table_name = "enrollment_point"


class OfficerPoint(BaseModel):
    officer = pw.ForeignKeyField(Officer, backref="point_links", on_delete="CASCADE")
    point = pw.ForeignKeyField(CertificationPoint, backref="officer_links", on_delete="RESTRICT")
    point_id: int

    class Meta:
        table_name = "enrollment_officer_point"
        indexes = ((("officer", "point"), True),)


class Agreement(BaseModel):
    """A version of the agreement text citizens accept at the point (stored verbatim)."""

    version = pw.IntegerField(unique=True)
    text = pw.TextField()
    sha256 = pw.CharField(max_length=64)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "enrollment_agreement"


class Application(BaseModel):
    reference = pw.CharField(max_length=20, unique=True)
    # Lets the citizen ask for the status without the portal; low value, so kept in clear.
    tracking_code = pw.CharField(max_length=20)
    portal_client = pw.ForeignKeyField(PortalClient, backref="applications", on_delete="RESTRICT")
    idempotency_key = pw.CharField(max_length=100, null=True)
    request_hash = pw.CharField(max_length=64)
    given_names = pw.CharField(max_length=100)
    surname = pw.CharField(max_length=100)
    pesel = pw.CharField(max_length=11, null=True, index=True)
    document_type = pw.CharField(max_length=10, null=True)
    document_number = pw.CharField(max_length=9, null=True, index=True)
    email = pw.CharField(max_length=254)
    phone = pw.CharField(max_length=20)
    street = pw.CharField(max_length=200)
    postal_code = pw.CharField(max_length=6)
    city = pw.CharField(max_length=100)
    point = pw.ForeignKeyField(CertificationPoint, backref="applications", on_delete="RESTRICT")
    point_id: int
    portal_client_id: int
    key_generation = pw.CharField(max_length=5)
    csr_der = pw.BlobField(null=True)
    state = pw.CharField(max_length=10, index=True)
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(index=True)
    verified_at = UTCDateTimeField(null=True)
    issuing_started_at = UTCDateTimeField(null=True)
    issued_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "enrollment_application"
        indexes = ((("portal_client", "idempotency_key"), True),)


class IdentityCheck(BaseModel):
    """Evidence of the in-person check (REFERENCE.md "Record keeping"), purged after retention."""

    application = pw.ForeignKeyField(Application, backref="identity_checks", on_delete="CASCADE")
    officer = pw.ForeignKeyField(Officer, backref="identity_checks", on_delete="RESTRICT")
    point = pw.ForeignKeyField(CertificationPoint, backref="identity_checks", on_delete="RESTRICT")
    point_id: int
    officer_id: int
    document_type = pw.CharField(max_length=10)
    document_number = pw.CharField(max_length=9)
    document_expiry = pw.DateField()
    data_match = pw.BooleanField()
    agreement = pw.ForeignKeyField(Agreement, backref="identity_checks", on_delete="RESTRICT")
    key_generation = pw.CharField(max_length=5)
    checked_at = UTCDateTimeField()
    retain_until = UTCDateTimeField(index=True)

    class Meta:
        table_name = "enrollment_identity_check"


class Approval(BaseModel):
    """Dual control: a second officer's approval before issuance."""

    application = pw.ForeignKeyField(Application, backref="approvals", on_delete="CASCADE")
    officer = pw.ForeignKeyField(Officer, backref="approvals", on_delete="RESTRICT")
    approved_at = UTCDateTimeField()

    class Meta:
        table_name = "enrollment_approval"


class CitizenCertificate(BaseModel):
    """A certificate issued to a citizen through enrollment (the CA holds the certificate itself)."""

    application = pw.ForeignKeyField(Application, backref="certificates", on_delete="RESTRICT")
    issuer = pw.CharField(max_length=40)
    serial = pw.CharField(max_length=40, unique=True)
    not_before = UTCDateTimeField()
    not_after = UTCDateTimeField(index=True)
    revocation_code_hash = pw.CharField(max_length=200)
    # Renewals without a visit since the last in-person check (0 for an in-person issuance).
    remote_renewals = pw.IntegerField(default=0)
    renewed_from = pw.ForeignKeyField("self", null=True, backref="renewals", on_delete="RESTRICT")
    renewed = pw.BooleanField(default=False)
    created_at = UTCDateTimeField()
    reminders_sent = pw.CharField(max_length=100, default="")  # comma-separated day counts

    class Meta:
        table_name = "enrollment_certificate"


class PKCS12Pickup(BaseModel):
    """A PIN-encrypted PKCS#12 waiting for its single download by the issuing officer."""

    application = pw.ForeignKeyField(Application, backref="pickups", on_delete="CASCADE", unique=True)
    officer = pw.ForeignKeyField(Officer, backref="pickups", on_delete="CASCADE")
    pkcs12 = pw.BlobField()
    application_id: int
    officer_id: int
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(index=True)

    class Meta:
        table_name = "enrollment_pkcs12_pickup"


class CodeAttempt(BaseModel):
    """A failed revocation-code attempt, per serial (lockout: N in a window)."""

    subject = pw.CharField(max_length=60, index=True)
    at = UTCDateTimeField(index=True)

    class Meta:
        table_name = "enrollment_code_attempt"


class OutgoingEmail(BaseModel):
    """The outbox: notifications are queued in the transaction of the change, sent by a job."""

    kind = pw.CharField(max_length=40)
    to_address = pw.CharField(max_length=254)
    subject = pw.CharField(max_length=200)
    body = pw.TextField()
    created_at = UTCDateTimeField()
    next_attempt_at = UTCDateTimeField(index=True)
    attempts = pw.IntegerField(default=0)
    sent_at = UTCDateTimeField(null=True, index=True)
    failed = pw.BooleanField(default=False)
    last_error = pw.CharField(max_length=200, null=True)
    claimed_until = UTCDateTimeField(null=True)

    class Meta:
        table_name = "enrollment_outgoing_email"


MODELS: tuple[type[pw.Model], ...] = (
    CertificationPoint,
    OfficerPoint,
    Agreement,
    Application,
    IdentityCheck,
    Approval,
    CitizenCertificate,
    PKCS12Pickup,
    CodeAttempt,
    OutgoingEmail,
)
