"""What enrollment answers: the shapes the REST resources send and the OpenAPI schemas mirror
(enrollment/openapi.py). Resources turn service results into these frozen dataclasses and encode
them with :func:`to_json` (times as ISO 8601 with offset)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from access.officers import SessionGrant
from ca.api import CertificateState
from enrollment.models import Agreement, Application, Approval, CertificationPoint, CitizenCertificate, IdentityCheck

# How the API names a certificate's condition (ca.status.CertificateState.condition).
_PUBLIC_STATUS = {
    "valid": "valid",
    "on_hold": "suspended",
    "revoked": "revoked",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "reserved": "unknown",  # never handed over: the citizen has no such certificate
    "unknown": "unknown",
}


def public_status(state: CertificateState) -> str:
    """``valid | suspended | revoked | expired | not_yet_valid | unknown``."""
    return _PUBLIC_STATUS[state.condition]


def pem(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)


def to_json(view: Any) -> Any:
    """A view (or list of views) as JSON-ready data."""
    if dataclasses.is_dataclass(view) and not isinstance(view, type):
        return {f.name: to_json(getattr(view, f.name)) for f in dataclasses.fields(view)}
    if isinstance(view, (list, tuple)):
        return [to_json(v) for v in view]
    if isinstance(view, (datetime, date)):
        return view.isoformat()
    return view


@dataclass(frozen=True)
class SessionView:
    token: str
    officer_id: int
    expires_at: datetime
    roles: list[str]
    points: list[int]

    @classmethod
    def of(cls, grant: SessionGrant) -> SessionView:
        return cls(grant.token, grant.officer_id, grant.expires_at, list(grant.roles), list(grant.points))


@dataclass(frozen=True)
class PointView:
    id: int
    name: str
    street: str
    postal_code: str
    city: str
    teryt: str
    dual_control: bool

    @classmethod
    def of(cls, p: CertificationPoint) -> PointView:
        return cls(p.id, p.name, p.street, p.postal_code, p.city, p.teryt, p.dual_control)


@dataclass(frozen=True)
class AgreementView:
    version: int
    text: str
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, row: Agreement) -> AgreementView:
        return cls(row.version, row.text, row.sha256, row.created_at)


@dataclass(frozen=True)
class AgreementAddedView:
    version: int
    sha256: str


@dataclass(frozen=True)
class SubmittedView:
    reference: str
    tracking_code: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class ApplicationStateView:
    reference: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class IdentityCheckView:
    reference: str
    check_id: int
    state: str
    checked_at: datetime

    @classmethod
    def of(cls, reference: str, check: IdentityCheck) -> IdentityCheckView:
        return cls(reference, check.id, "verified", check.checked_at)


@dataclass(frozen=True)
class ApprovalView:
    reference: str
    state: str
    approved_at: datetime

    @classmethod
    def of(cls, reference: str, approval: Approval) -> ApprovalView:
        return cls(reference, "approved", approval.approved_at)


@dataclass(frozen=True)
class EvidenceView:
    """One identity check as kept for the retention period (auditors, RA administrators)."""

    id: int
    officer_id: int
    point_id: int
    document_type: str
    document_number: str
    document_expiry: date | str
    data_match: bool
    agreement_version: int
    key_generation: str
    checked_at: datetime
    retain_until: datetime

    @classmethod
    def of(cls, r: IdentityCheck) -> EvidenceView:
        expiry = r.document_expiry if isinstance(r.document_expiry, date) else str(r.document_expiry)
        return cls(
            r.id,
            r.officer_id,
            r.point_id,
            r.document_type,
            r.document_number,
            expiry,
            r.data_match,
            r.agreement.version,
            r.key_generation,
            r.checked_at,
            r.retain_until,
        )


@dataclass(frozen=True)
class IssuedView:
    """A certificate handed over at the point: shown once (revocation code, PKCS#12 link)."""

    reference: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    certificate: str
    chain: str
    revocation_code: str
    pkcs12_url: str | None


@dataclass(frozen=True)
class CertificateStatusView:
    issuer: str
    serial: str
    status: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    remote_renewals: int
    renewed: bool

    @classmethod
    def of(cls, cert: CitizenCertificate, state: CertificateState) -> CertificateStatusView:
        status = public_status(state)
        return cls(
            cert.issuer,
            cert.serial,
            status,
            cert.not_before,
            cert.not_after,
            state.revoked_at,
            state.reason if status == "revoked" else None,
            cert.remote_renewals,
            cert.renewed,
        )


@dataclass(frozen=True)
class CertificateListView:
    certificates: list[CertificateStatusView]


@dataclass(frozen=True)
class RenewedView:
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    certificate: str
    chain: str


@dataclass(frozen=True)
class CertificateRefView:
    issuer: str
    serial: str
    not_after: datetime


@dataclass(frozen=True)
class ApplicationView:
    """An application as its portal sees it (no identity data)."""

    reference: str
    state: str
    key_generation: str
    point_id: int
    created_at: datetime
    expires_at: datetime
    verified_at: datetime | None
    issued_at: datetime | None
    certificates: list[CertificateRefView]

    @classmethod
    def of(cls, app: Application, certs: list[CitizenCertificate]) -> ApplicationView:
        return cls(
            app.reference,
            app.state,
            app.key_generation,
            app.point_id,
            app.created_at,
            app.expires_at,
            app.verified_at,
            app.issued_at,
            [CertificateRefView(c.issuer, c.serial, c.not_after) for c in certs],
        )


@dataclass(frozen=True)
class DocumentView:
    type: str
    number: str | None


@dataclass(frozen=True)
class AddressView:
    street: str
    postal_code: str
    city: str


@dataclass(frozen=True)
class OfficerApplicationView(ApplicationView):
    """An application as an officer of its point sees it: with the citizen's identity data."""

    given_names: str
    surname: str
    pesel: str | None
    identity_document: DocumentView | None
    email: str
    phone: str
    address: AddressView
    dual_control: bool

    @classmethod
    def full(cls, app: Application, certs: list[CitizenCertificate]) -> OfficerApplicationView:
        base = ApplicationView.of(app, certs)
        document = DocumentView(app.document_type, app.document_number) if app.document_type else None
        return cls(
            **{f.name: getattr(base, f.name) for f in dataclasses.fields(ApplicationView)},
            given_names=app.given_names,
            surname=app.surname,
            pesel=app.pesel,
            identity_document=document,
            email=app.email,
            phone=app.phone,
            address=AddressView(app.street, app.postal_code, app.city),
            dual_control=app.point.dual_control,
        )
