"""What the pages need from the services, handed in by the composition root (``config.wiring.web``).

The pages call the same services as the REST resources; callables keep this package free of the
wiring (which service class implements a login, where the jobs are listed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from core.auth import Principal
from core.clock import Clock
from enrollment.attempts import AttemptLimiter
from enrollment.resources import Services
from enrollment.totp import SecondFactor
from verifier.service import VerificationService
from web.settings import WebSettings


@dataclass(frozen=True)
class LoginGrant:
    token: str  # goes into the session cookie only
    expires_at: datetime


@dataclass(frozen=True)
class ApplicationStatus:
    """What a citizen with the tracking code may see about their application."""

    reference: str
    state: str  # submitted | verified | approved | issued | expired | ...
    expires_at: datetime
    key_generation: str  # csr | point
    point: str  # name and address of the certification point


@dataclass(frozen=True)
class CertificateStatus:
    """A citizen certificate as its holder sees it with the revocation code."""

    serial: str
    status: str  # good | suspended | revoked | expired | ...
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    renewal_from: datetime  # remote renewal opens this many days before expiry
    remote_renewals_left: int


@dataclass(frozen=True)
class JobInfo:
    name: str
    interval_seconds: int


@dataclass(frozen=True)
class WebDeps:
    settings: WebSettings
    clock: Clock
    verifier: VerificationService
    # username, password -> grant; raises the login service's errors (wrong password, locked).
    login: Callable[[str, str], LoginGrant]
    logout: Callable[[str, Principal], None]
    # session token -> officer principal, or None when unknown, expired or ended.
    session_principal: Callable[[str], Principal | None]
    jobs: tuple[JobInfo, ...]
    # reference, tracking code -> status; raises the service's errors (not found, too many attempts).
    application_status: Callable[[str, str], ApplicationStatus]
    # serial, revocation code, action ("status" | "suspend" | "revoke"), reason -> the state after it.
    certificate_by_code: Callable[[str, str, str, str | None], CertificateStatus]
    audit_keys: Callable[[], Mapping[str, CertificateIssuerPublicKeyTypes]]
    # enrollment's services for the officer console (None when enrollment is not mounted).
    enrollment: Services | None = None
    second_factor: SecondFactor | None = None
    # Wrong TOTP codes per officer (enrollment.attempts): 5 in 15 minutes, then a pause.
    totp_attempts: AttemptLimiter | None = None
    # SHA-256 fingerprints (hex, upper case, as the verifier reports them) of our receipt-seal
    # certificates: the UPO viewer calls a receipt genuine only when one of them sealed it.
    receipt_seal_fingerprints: Callable[[], frozenset[str]] = field(default=frozenset)
