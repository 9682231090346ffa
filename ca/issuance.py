"""The crash-safe issuance pipeline (after Boulder; CA/B BR §4.3.1.2 pre-issuance linting).

Order, each step committed before the next starts:

1. check the request (profile, subject, key policy) — nothing is written for a bad request;
2. reserve a fresh serial and store the intended TBSCertificate with its audit record, in one
   transaction (a serial collision is a unique-constraint violation: retry with a new serial);
3. lint a copy signed with a throwaway key; on any ERROR finding the reservation becomes
   ``failed``, the refusal is audited and the real key is never used;
4. sign with the real key, then check that the signed TBS is byte-identical to the stored one
   and that the signature verifies under the issuer's certificate;
5. store the certificate with its audit record.

A crash between 4 and 5 leaves the row ``reserved``; :mod:`ca.status` treats it as issued for
revocation purposes (revocable, never ``good``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ca import profile_control
from ca.errors import AuthorityNotFoundError, KeyPolicyError, LintError, ProfileNotFoundError, SigningIntegrityError
from ca.hierarchy import authority, load_certificate
from ca.lint import lint_certificate
from ca.models import Authority, Certificate
from ca.profiles import ExtensionContext, ProfileSettings, build_extensions
from ca.requests import SubjectIdentity, check_public_key, load_csr, validate_subject
from ca.serials import new_serial, to_hex
from ca.settings import CASettings
from ca.x509util import fingerprint, key_hash_sha1
from core import audit, events
from core.clock import Clock
from core.db import atomic
from core.errors import ValidationError
from core.identifiers import semantics_identifier
from core.signing import signature_hash
from hsm.base import KeyStore

__all__ = [
    "IssuancePipeline",
    "IssueRequest",
    "IssuedCertificate",
    "SubjectIdentity",
    "check_public_key",
    "load_csr",
    "natural_person_name",
]

logger = logging.getLogger(__name__)

# Small backdating absorbs clock differences at relying parties.
BACKDATE = timedelta(minutes=5)
# A renewal may start when the old certificate ends (Certum practice), but not arbitrarily late.
MAX_FUTURE_START = timedelta(days=90)
SERIAL_ATTEMPTS = 5
_DER = Encoding.DER

AfterSign = Callable[[x509.Certificate], None]


@dataclass(frozen=True)
class IssueRequest:
    profile: str
    subject: SubjectIdentity
    public_key: CertificatePublicKeyTypes
    issuer: str | None = None  # authority name; default: settings.issuing.name
    not_before: datetime | None = None  # renewals may start when the old certificate ends
    subject_ref: str | None = None  # e.g. "application:42", stored on ca_certificate.subject_ref


@dataclass(frozen=True)
class IssuedCertificate:
    serial: str  # upper-case hex (ca.serials.to_hex)
    issuer: str
    certificate: x509.Certificate
    der: bytes
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)


def natural_person_name(subject: SubjectIdentity, country: str = "PL") -> x509.Name:
    """EN 319 412-2 §4.2.4 natural-person subject: C, givenName, surname, serialNumber (the
    EN 319 412-1 §5.1.3 semantics identifier, PrintableString), commonName "Given Surname"."""
    identifier = semantics_identifier(pesel_value=subject.pesel, id_card=subject.id_card, passport=subject.passport)
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.GIVEN_NAME, subject.given_name),
            x509.NameAttribute(NameOID.SURNAME, subject.surname),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, identifier),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.common_name),
        ]
    )


_throwaway_lock = threading.Lock()
_throwaway_keys: dict[tuple[str, str], CertificateIssuerPrivateKeyTypes] = {}


def throwaway_key_like(issuer_public_key: object) -> CertificateIssuerPrivateKeyTypes:
    """A process-local key whose signatures carry the same AlgorithmIdentifier as the issuer's
    (same key type, EC curve and hash), so the lint copy's TBS equals the real one byte for byte
    and the real key is not needed before the lint passed."""
    if isinstance(issuer_public_key, ec.EllipticCurvePublicKey):
        ident = ("ec", issuer_public_key.curve.name)
    elif isinstance(issuer_public_key, rsa.RSAPublicKey):
        ident = ("rsa", "")  # sha256WithRSAEncryption whatever the modulus size
    elif isinstance(issuer_public_key, ed25519.Ed25519PublicKey):
        ident = ("ed25519", "")
    else:
        raise TypeError(f"unsupported issuer key type {type(issuer_public_key).__name__}")
    with _throwaway_lock:
        cached = _throwaway_keys.get(ident)
        if cached is None:
            if isinstance(issuer_public_key, ec.EllipticCurvePublicKey):
                cached = ec.generate_private_key(type(issuer_public_key.curve)())
            elif isinstance(issuer_public_key, rsa.RSAPublicKey):
                cached = rsa.generate_private_key(65537, 2048)
            else:
                cached = ed25519.Ed25519PrivateKey.generate()
            _throwaway_keys[ident] = cached
        return cached


class IssuancePipeline:
    """Issue certificates from profiles. ``after_sign`` is called with the signed certificate
    before it is stored (tests inject crashes there)."""

    def __init__(
        self,
        settings: CASettings,
        key_store: KeyStore,
        clock: Clock,
        *,
        after_sign: AfterSign | None = None,
        serials: Callable[[], int] = new_serial,
    ) -> None:
        self.settings = settings
        self.key_store = key_store
        self.clock = clock
        self.after_sign = after_sign
        # Where serials come from (tests force collisions); each one is used at most once.
        self.serials = serials

    # -- public entry points -------------------------------------------------------------------

    def issue(self, request: IssueRequest, *, actor: str) -> IssuedCertificate:
        """Issue a natural-person certificate. Call OUTSIDE any open transaction."""
        profile = self._profile(request.profile)
        if profile.template != "natural-person":
            raise ValidationError.single("profile", f"profile {request.profile!r} is not for natural persons")
        subject = validate_subject(request.subject)
        check_public_key(request.public_key, allow_ed25519=profile.allow_ed25519)
        plan = self._plan(
            request.profile or self.settings.default_profile,
            profile,
            natural_person_name(subject),
            request.public_key,
            actor=actor,
            issuer=request.issuer,
            not_before=request.not_before,
            subject_ref=request.subject_ref,
            email=subject.email,
        )
        return self._issue(plan)

    def issue_named(
        self,
        profile_name: str,
        subject: x509.Name,
        public_key: CertificatePublicKeyTypes,
        *,
        actor: str,
        issuer: str | None = None,
        validity_days: int | None = None,
        subject_ref: str | None = None,
    ) -> IssuedCertificate:
        """Issue a certificate with a given subject name (signers: OCSP, TSA, seals)."""
        profile = self._profile(profile_name)
        if profile.template == "natural-person":
            raise ValidationError.single("profile", "natural-person profiles are issued with issue()")
        check_public_key(public_key, allow_ed25519=profile.allow_ed25519)
        plan = self._plan(
            profile_name,
            profile,
            subject,
            public_key,
            actor=actor,
            issuer=issuer,
            subject_ref=subject_ref,
            validity_days=validity_days,
        )
        return self._issue(plan)

    # -- the pipeline --------------------------------------------------------------------------

    def _profile(self, name: str | None) -> ProfileSettings:
        try:
            profile = self.settings.profile(name)
        except KeyError:
            raise ProfileNotFoundError(str(name)) from None
        profile_control.check(name or self.settings.default_profile, profile)  # dual control
        return profile

    def _issuer(self, name: str | None) -> Authority:
        row = authority(name or self.settings.issuing.name)
        if row.role not in ("root", "issuing"):
            raise AuthorityNotFoundError(row.name)
        return row

    def _issue(self, plan: _Plan) -> IssuedCertificate:
        # The order is the point (module docstring): reserve+audit → lint → sign → check → store.
        reservation = self._reserve_fresh_serial(plan)
        self._lint_or_refuse(plan, reservation)
        certificate = self._sign_and_check(plan, reservation)
        return self._store(plan, reservation, certificate)

    def _plan(
        self,
        profile_name: str,
        profile: ProfileSettings,
        subject: x509.Name,
        public_key: CertificatePublicKeyTypes,
        *,
        actor: str,
        issuer: str | None,
        not_before: datetime | None = None,
        subject_ref: str | None = None,
        email: str | None = None,
        validity_days: int | None = None,
    ) -> _Plan:
        """Everything the certificate depends on except its serial; nothing is written yet."""
        issuer_row = self._issuer(issuer)
        if Authority.select().where(Authority.key_hash_sha1 == key_hash_sha1(public_key)).exists():
            raise KeyPolicyError("the key belongs to a CA or signer of this hierarchy")
        if subject_ref is not None and not 0 < len(subject_ref) <= 100:
            raise ValidationError.single("subject_ref", "must be 1 to 100 characters")
        issuer_cert = load_certificate(issuer_row)
        start, end = self._validity(issuer_cert, not_before, validity_days or profile.validity_days)
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        context = ExtensionContext(
            public_key=public_key,
            issuer_ski=ski,
            policy_oid=self.settings.policy_oid,
            cps_uri=self.settings.cps_url,
            ocsp_url=self.settings.ocsp_url,
            ca_issuers_url=self.settings.cert_url(issuer_row.name),
            crl_url=self.settings.crl_url(issuer_row.name),
            email=email,
        )
        return _Plan(
            issuer_row=issuer_row,
            issuer_cert=issuer_cert,
            profile_name=profile_name,
            profile=profile,
            subject=subject,
            public_key=public_key,
            start=start,
            end=end,
            extensions=tuple(build_extensions(profile, context)),
            subject_ref=subject_ref,
            actor=actor,
        )

    def _validity(
        self, issuer_cert: x509.Certificate, not_before: datetime | None, days: int
    ) -> tuple[datetime, datetime]:
        now = self.clock.now()
        start = now - BACKDATE if not_before is None else not_before
        if not now - timedelta(hours=1) <= start <= now + MAX_FUTURE_START:
            raise ValidationError.single("not_before", "must lie between one hour ago and 90 days ahead")
        end = min(start + timedelta(days=days), issuer_cert.not_valid_after_utc)
        if end <= max(start, now):
            raise ValidationError.single("not_before", "the issuing CA expires before this certificate would start")
        return start, end

    def _reserve_fresh_serial(self, plan: _Plan) -> _Reservation:
        """Step 2: a new serial, its intended TBS and the audit record, in one transaction.

        Only a unique-constraint violation on (issuer, serial) is a collision that draws a new
        serial; any other failure (an audit insert, a lost connection) propagates as it is."""
        throwaway = throwaway_key_like(plan.issuer_cert.public_key())
        for _attempt in range(SERIAL_ATTEMPTS):
            serial = self.serials()
            builder = _builder(plan, serial)
            lint_copy = builder.sign(throwaway, signature_hash(throwaway))  # type: ignore[arg-type]
            try:
                row = self._reserve(plan, serial, lint_copy.tbs_certificate_bytes)
            except _SerialTakenError:
                # Never reuse a serial: a collision (or a crashed earlier reservation) means a new one.
                logger.warning("serial collision under %s; drawing a new serial", plan.issuer_row.name)
                continue
            return _Reservation(row, builder, lint_copy)
        raise SigningIntegrityError("could not reserve a unique serial")

    def _reserve(self, plan: _Plan, serial: int, tbs: bytes) -> Certificate:
        inserted = False
        try:
            with atomic():
                row: Certificate = Certificate.create(
                    issuer=plan.issuer_row,
                    serial=to_hex(serial),
                    state="reserved",
                    profile=plan.profile_name,
                    subject=plan.subject.rfc4514_string(),
                    tbs_der=tbs,
                    not_before=plan.start,
                    not_after=plan.end,
                    created_at=self.clock.now(),
                    subject_ref=plan.subject_ref,
                )
                inserted = True
                audit.record(
                    self.clock,
                    actor=plan.actor,
                    action="certificate.reserve",
                    object_type="certificate",
                    object_id=f"{plan.issuer_row.name}:{row.serial}",
                    details={
                        "profile": plan.profile_name,
                        "serial": row.serial,
                        "issuer": plan.issuer_row.name,
                        "tbs_sha256": hashlib.sha256(tbs).hexdigest(),
                        "subject_ref": plan.subject_ref,
                    },
                )
        except pw.IntegrityError:
            # The transaction is rolled back; the serial is taken only if another row holds it.
            if not inserted and _serial_taken(plan.issuer_row, serial):
                raise _SerialTakenError from None
            raise
        return row

    def _lint_or_refuse(self, plan: _Plan, reservation: _Reservation) -> None:
        """Step 3 (CA/B BR §4.3.1.2): any ERROR finding fails the reservation, audited; the real
        key is never fetched."""
        findings = lint_certificate(
            reservation.lint_copy.public_bytes(_DER), plan.profile.lint, allow=self.settings.lint_allowed
        )
        if not findings:
            return
        row = reservation.row
        with atomic():
            Certificate.update(state="failed").where(
                (Certificate.id == row.id) & (Certificate.state == "reserved")
            ).execute()
            audit.record(
                self.clock,
                actor=plan.actor,
                action="certificate.lint_refused",
                object_type="certificate",
                object_id=f"{plan.issuer_row.name}:{row.serial}",
                outcome="failure",
                details={"profile": plan.profile_name, "findings": [f.split(" (")[0] for f in findings]},
            )
        raise LintError(findings)

    def _sign_and_check(self, plan: _Plan, reservation: _Reservation) -> x509.Certificate:
        """Step 4: only now, with the intent stored and the lint passed, is the CA key touched."""
        issuer_key = self.key_store.find(plan.issuer_row.key_label)
        certificate = reservation.builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]
        if self.after_sign is not None:
            self.after_sign(certificate)
        tbs = reservation.lint_copy.tbs_certificate_bytes
        if certificate.tbs_certificate_bytes != tbs or not _signed_by(certificate, plan.issuer_cert):
            with atomic():
                # The row stays 'reserved': something was signed, so it stays revocable.
                audit.record(
                    self.clock,
                    actor=plan.actor,
                    action="certificate.integrity_failure",
                    object_type="certificate",
                    object_id=f"{plan.issuer_row.name}:{reservation.row.serial}",
                    outcome="failure",
                    details={"sha256": hashlib.sha256(certificate.public_bytes(_DER)).hexdigest()},
                )
            raise SigningIntegrityError("the signed certificate differs from the reserved intent")
        return certificate

    def _store(self, plan: _Plan, reservation: _Reservation, certificate: x509.Certificate) -> IssuedCertificate:
        """Step 5: the certificate replaces the intent, with its audit record."""
        row = reservation.row
        der = certificate.public_bytes(_DER)
        fp = fingerprint(certificate)
        with atomic():
            stored = (
                Certificate.update(state="issued", der=der, fingerprint_sha256=fp, issued_at=self.clock.now())
                .where((Certificate.id == row.id) & (Certificate.state == "reserved"))
                .execute()
            )
            if stored != 1:
                raise SigningIntegrityError("the reservation changed state while signing")
            audit.record(
                self.clock,
                actor=plan.actor,
                action="certificate.issue",
                object_type="certificate",
                object_id=f"{plan.issuer_row.name}:{row.serial}",
                details={
                    "profile": plan.profile_name,
                    "serial": row.serial,
                    "issuer": plan.issuer_row.name,
                    "fingerprint_sha256": fp,
                    "subject_ref": plan.subject_ref,
                },
            )
        events.emit(events.CERTIFICATE_ISSUED, issuer=plan.issuer_row.name, profile=plan.profile_name)
        return IssuedCertificate(
            row.serial,
            plan.issuer_row.name,
            certificate,
            der,
            certificate.not_valid_before_utc,
            certificate.not_valid_after_utc,
            fp,
        )


@dataclass(frozen=True)
class _Plan:
    """One certificate's content except its serial (see :meth:`IssuancePipeline._plan`)."""

    issuer_row: Authority
    issuer_cert: x509.Certificate
    profile_name: str
    profile: ProfileSettings
    subject: x509.Name
    public_key: CertificatePublicKeyTypes
    start: datetime
    end: datetime
    extensions: tuple[tuple[x509.ExtensionType, bool], ...]
    subject_ref: str | None
    actor: str


@dataclass(frozen=True)
class _Reservation:
    """A stored intent: its row, the builder to sign for real and the throwaway-signed copy
    whose TBS was stored and linted."""

    row: Certificate
    builder: x509.CertificateBuilder
    lint_copy: x509.Certificate


class _SerialTakenError(Exception):
    """Internal: the drawn serial already exists under this issuer."""


def _builder(plan: _Plan, serial: int) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(plan.subject)
        .issuer_name(plan.issuer_cert.subject)
        .public_key(plan.public_key)
        .serial_number(serial)
        .not_valid_before(plan.start)
        .not_valid_after(plan.end)
    )
    for value, critical in plan.extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder


def _serial_taken(issuer_row: Authority, serial: int) -> bool:
    """Whether (issuer, serial) is in use: the only unique constraint a reservation can hit
    (ca_certificate's index on issuer, serial). Asked after the failed transaction rolled back."""
    return bool(
        Certificate.select().where((Certificate.issuer == issuer_row) & (Certificate.serial == to_hex(serial))).exists()
    )


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
