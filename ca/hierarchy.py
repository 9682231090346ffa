"""The key ceremony: create the CA hierarchy once, from settings, with every step audited.

Root CA → issuing (citizen) CA; a delegated OCSP signer per CA; a TSA certificate, an
audit-seal certificate and the receipt service's organisation seal from the root. Keys are
generated inside the configured key store; certificates are stored in the database. The whole
database side is one transaction, so a failed ceremony leaves no half hierarchy (at worst unused
keys with unique labels in the store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee as pw
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ca.errors import AuthorityNotFoundError, HierarchyExistsError
from ca.models import Authority, Certificate
from ca.profiles import ExtensionContext, build_extensions
from ca.serials import new_serial, to_hex
from ca.settings import AuthoritySettings, CASettings
from ca.x509util import fingerprint, key_hash_sha1
from core import audit
from core.clock import Clock
from core.db import atomic
from core.signing import signature_hash
from hsm.base import KeySpec, KeyStore

_DER = Encoding.DER
# Backdating absorbs small clock differences at relying parties.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CeremonyStep:
    name: str
    role: str
    subject: str
    serial: str
    not_after: datetime
    fingerprint_sha256: str
    key_label: str


def subject_name(settings: AuthoritySettings) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, settings.country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.organization),
            x509.NameAttribute(NameOID.COMMON_NAME, settings.common_name),
        ]
    )


class Ceremony:
    def __init__(self, settings: CASettings, store: KeyStore, clock: Clock, *, actor: str) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.actor = actor
        self.steps: list[CeremonyStep] = []

    def run(self) -> list[CeremonyStep]:
        with atomic():
            if Authority.select().exists():
                raise HierarchyExistsError("a CA hierarchy already exists; the ceremony never overwrites it")
            s = self.settings
            audit.record(
                self.clock,
                actor=self.actor,
                action="ceremony.start",
                object_type="hierarchy",
                object_id="-",
                details={"root": s.root.name, "issuing": s.issuing.name, "tsa": s.tsa.name},
            )
            root, root_key = self._root(s.root)
            issuing, issuing_key = self._subordinate(s.issuing, root, root_key)
            for ca, ca_key in ((root, root_key), (issuing, issuing_key)):
                self._signer(
                    AuthoritySettings(
                        f"{ca.name}-ocsp",
                        f"{ca.subject_cn} OCSP",
                        s.ocsp_signer.algorithm,
                        s.ocsp_signer.validity_days,
                        ca.settings.organization,
                        ca.settings.country,
                    ),
                    "ocsp",
                    ca,
                    ca_key,
                    "ocsp-signer",
                )
            self._signer(s.tsa, "tsa", root, root_key, "tsa")
            audit_settings = AuthoritySettings(
                "audit",
                f"{s.root.common_name} Audit Seal",
                s.audit_key_algorithm,
                min(s.root.validity_days, 3650),
                s.root.organization,
                s.root.country,
            )
            self._signer(audit_settings, "audit", root, root_key, "seal")
            self._receipt_seal(root, root_key)
            audit.record(
                self.clock,
                actor=self.actor,
                action="ceremony.complete",
                object_type="hierarchy",
                object_id="-",
                details={"authorities": [step.name for step in self.steps]},
            )
        return self.steps

    def add_receipt_seal(self) -> list[CeremonyStep]:
        """Give an existing hierarchy (made before receipts existed) its receipt seal, signed by
        the root's key. Refuses when the seal already exists; audited like the ceremony."""
        with atomic():
            if Authority.get_or_none(Authority.name == self.settings.receipt_seal.name) is not None:
                raise HierarchyExistsError("the receipt seal already exists")
            root_row = authority(self.settings.root.name)
            root_cert = x509.load_der_x509_certificate(bytes(root_row.certificate_der))
            root = _Issuer(root_cert, self.settings.root, root_row)
            self._receipt_seal(root, self.store.find(root_row.key_label))
        return self.steps

    def _receipt_seal(self, root: _Issuer, root_key: CertificateIssuerPrivateKeyTypes) -> None:
        """EN 319 412-3 organisation seal of the receipt service (role ``receipts``)."""
        settings = self.settings.receipt_seal
        label, key = self._new_key(settings, "receipts")
        subject = subject_name(settings)
        if self.settings.receipt_seal_organization_identifier:
            subject = x509.Name(
                [
                    *subject,
                    x509.NameAttribute(
                        NameOID.ORGANIZATION_IDENTIFIER, self.settings.receipt_seal_organization_identifier
                    ),
                ]
            )
        builder = self._profiled("organisation-seal", subject, root.cert.subject, key.public_key(), settings, root)
        self._store(builder, root_key, root, settings, "receipts", label, "organisation-seal")

    # -- steps ---------------------------------------------------------------------------------

    def _new_key(self, settings: AuthoritySettings, role: str) -> tuple[str, CertificateIssuerPrivateKeyTypes]:
        label = f"{settings.name}-{self.clock.now():%Y%m%dT%H%M%S}"
        key = self.store.generate(label, KeySpec(settings.algorithm))
        audit.record(
            self.clock,
            actor=self.actor,
            action="key.generate",
            object_type="key",
            object_id=label,
            details={"algorithm": settings.algorithm, "role": role},
        )
        return label, key

    def _root(self, settings: AuthoritySettings) -> tuple[_Issuer, CertificateIssuerPrivateKeyTypes]:
        label, key = self._new_key(settings, "root")
        name = subject_name(settings)
        builder = self._profiled("root-ca", name, name, key.public_key(), settings, None)
        return self._store(builder, key, None, settings, "root", label, "root-ca"), key

    def _subordinate(
        self, settings: AuthoritySettings, parent: _Issuer, parent_key: CertificateIssuerPrivateKeyTypes
    ) -> tuple[_Issuer, CertificateIssuerPrivateKeyTypes]:
        label, key = self._new_key(settings, "issuing")
        builder = self._profiled(
            "issuing-ca", subject_name(settings), parent.cert.subject, key.public_key(), settings, parent
        )
        return self._store(builder, parent_key, parent, settings, "issuing", label, "issuing-ca"), key

    def _signer(
        self,
        settings: AuthoritySettings,
        role: str,
        parent: _Issuer,
        parent_key: CertificateIssuerPrivateKeyTypes,
        profile: str,
    ) -> None:
        label, key = self._new_key(settings, role)
        builder = self._profiled(
            profile, subject_name(settings), parent.cert.subject, key.public_key(), settings, parent
        )
        self._store(builder, parent_key, parent, settings, role, label, profile)

    def _profiled(
        self,
        profile_name: str,
        subject: x509.Name,
        issuer: x509.Name,
        public_key: CertificatePublicKeyTypes,
        settings: AuthoritySettings,
        parent: _Issuer | None,
    ) -> x509.CertificateBuilder:
        """A certificate of the hierarchy from its profile (``[ca.profiles.*]``); the validity comes
        from the authority's settings, bounded by the parent's."""
        s = self.settings
        parent_ski = (
            parent.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest if parent else None
        )
        # The CRL DP and caIssuers of a certificate point at its issuer.
        issuer_name = parent.name if parent else settings.name
        context = ExtensionContext(
            public_key=public_key,
            issuer_ski=parent_ski,
            policy_oid=s.policy_oid,
            cps_uri=s.cps_url,
            ocsp_url=s.ocsp_url,
            ca_issuers_url=s.cert_url(issuer_name),
            crl_url=s.crl_url(issuer_name),
        )
        builder = self._base(subject, issuer, public_key, self.clock.now(), settings.validity_days, parent)
        for value, critical in build_extensions(s.profile(profile_name), context):
            builder = builder.add_extension(value, critical=critical)
        return builder

    # -- building blocks -----------------------------------------------------------------------

    def _base(
        self,
        subject: x509.Name,
        issuer: x509.Name,
        public_key: object,
        now: datetime,
        days: int,
        parent: _Issuer | None = None,
    ) -> x509.CertificateBuilder:
        not_after = now + timedelta(days=days)
        if parent is not None:
            not_after = min(not_after, parent.cert.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(new_serial())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
        )
        return builder

    def _store(
        self,
        builder: x509.CertificateBuilder,
        signing_key: CertificateIssuerPrivateKeyTypes,
        parent: _Issuer | None,
        settings: AuthoritySettings,
        role: str,
        label: str,
        profile: str,
    ) -> _Issuer:
        cert = builder.sign(signing_key, signature_hash(signing_key))  # type: ignore[arg-type]
        authority = self._insert(cert, parent, settings, role, label, profile)
        fp = fingerprint(cert)
        audit.record(
            self.clock,
            actor=self.actor,
            action="certificate.issue",
            object_type="authority",
            object_id=settings.name,
            details={
                "role": role,
                "serial": to_hex(cert.serial_number),
                "key_label": label,
                "issuer": parent.name if parent else settings.name,
                "fingerprint_sha256": fp,
            },
        )
        self.steps.append(
            CeremonyStep(
                settings.name,
                role,
                cert.subject.rfc4514_string(),
                to_hex(cert.serial_number),
                cert.not_valid_after_utc,
                fp,
                label,
            )
        )
        return _Issuer(cert, settings, authority)

    def _insert(
        self,
        cert: x509.Certificate,
        parent: _Issuer | None,
        settings: AuthoritySettings,
        role: str,
        label: str,
        profile: str,
    ) -> Authority:
        """The authority row and, like every certificate a CA of the hierarchy signed, its
        ca_certificate row (a root's under itself)."""
        now = self.clock.now()
        issuer_row = parent.row if parent is not None else None
        authority = Authority.create(
            name=settings.name,
            role=role,
            parent=issuer_row,
            key_label=label,
            subject=cert.subject.rfc4514_string(),
            certificate_der=cert.public_bytes(_DER),
            serial=to_hex(cert.serial_number),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            fingerprint_sha256=fingerprint(cert),
            key_hash_sha1=key_hash_sha1(cert.public_key()),
            created_at=now,
            updated_at=now,
        )
        Certificate.create(
            issuer=issuer_row or authority,
            serial=to_hex(cert.serial_number),
            state="issued",
            profile=profile,
            subject=cert.subject.rfc4514_string(),
            tbs_der=cert.tbs_certificate_bytes,
            der=cert.public_bytes(_DER),
            fingerprint_sha256=fingerprint(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            created_at=now,
            issued_at=now,
        )
        return authority


@dataclass(frozen=True)
class _Issuer:
    cert: x509.Certificate
    settings: AuthoritySettings
    row: Authority

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def subject_cn(self) -> str:
        return self.settings.common_name


def authority(name: str) -> Authority:
    row = Authority.get_or_none(Authority.name == name)
    if row is None:
        raise AuthorityNotFoundError(name)
    return row


def load_certificate(row: Authority) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(row.certificate_der))


def hierarchy_exists() -> bool:
    return bool(Authority.select().exists())


# -- read interface for other packages (OCSP directory, signers, download resources) ------------


def authority_foreign_key(**options: Any) -> pw.ForeignKeyField:
    """A foreign key to a CA of the hierarchy, for tables of other packages (e.g. OCSP's
    pre-signed responses), so that they never name the CA's models."""
    return pw.ForeignKeyField(Authority, **options)


@dataclass(frozen=True)
class AuthorityVersion:
    """What identifies the current certificate and key of a CA or signer: any change means a
    renewal (new serial, key label or ``updated_at``)."""

    id: int
    name: str
    role: str
    serial: str
    updated_at: datetime
    key_label: str


def authority_versions(roles: Sequence[str], reader: pw.Database | None = None) -> list[AuthorityVersion]:
    """The CAs and signers with one of ``roles`` (one small query; ``reader``: a replica)."""
    query = Authority.select(
        Authority.id, Authority.name, Authority.role, Authority.serial, Authority.updated_at, Authority.key_label
    ).where(Authority.role.in_(tuple(roles)))
    rows = list(query.tuples().execute(reader)) if reader is not None else list(query.tuples())
    return [AuthorityVersion(*row) for row in rows]  # type: ignore[misc]


def authority_certificate(authority_id: int, reader: pw.Database | None = None) -> x509.Certificate:
    """The current certificate of the CA or signer with row id ``authority_id``."""
    query = Authority.select().where(Authority.id == authority_id)
    row = query.get(reader) if reader is not None else query.get()
    return load_certificate(row)


def chain(name: str) -> list[x509.Certificate]:
    """The CA ``name`` and its parents up to the root (``name`` first)."""
    found = []
    row: Authority | None = authority(name)
    while row is not None:
        found.append(load_certificate(row))
        parent_id = getattr(row, "parent_id", None)
        row = row.parent if parent_id and parent_id != row.id else None
    return found


def authority_listing(settings: CASettings) -> list[dict[str, Any]]:
    """Every CA and signer with its current certificate (``sekap-trust ca list``)."""
    rows = Authority.select().order_by(Authority.id)
    return [
        {
            "name": row.name,
            "role": row.role,
            "subject": row.subject,
            "serial": row.serial,
            "not_before": row.not_before.isoformat(),
            "not_after": row.not_after.isoformat(),
            "issuer": row.parent.name if row.parent is not None else row.name,
            "fingerprint_sha256": row.fingerprint_sha256,
            "certificate_url": settings.cert_url(row.name),
            "crl_url": settings.crl_url(row.name) if row.role in ("root", "issuing") else None,
        }
        for row in rows
    ]


# -- read interface for relying-party services (verifier, ocsp) ---------------------------------
#
# Named, frozen views of CA state so that packages outside ``ca`` never touch ``ca.models``.


@dataclass(frozen=True)
class AuthorityInfo:
    """One authority of the hierarchy (a CA or one of its signers) as others may see it."""

    name: str
    role: str
    subject: str
    certificate_der: bytes
    key_label: str
    key_hash_sha1: str


def _info(row: Authority) -> AuthorityInfo:
    return AuthorityInfo(
        name=row.name,
        role=row.role,
        subject=row.subject,
        certificate_der=bytes(row.certificate_der),
        key_label=row.key_label,
        key_hash_sha1=row.key_hash_sha1,
    )


def authority_info(name: str) -> AuthorityInfo | None:
    """The authority called ``name``, or None."""
    row = Authority.get_or_none(Authority.name == name)
    return _info(row) if row is not None else None


def authorities(*roles: str) -> tuple[AuthorityInfo, ...]:
    """Every authority whose role is one of ``roles`` (e.g. ``"root"``, ``"issuing"``), oldest first."""
    query = Authority.select().where(Authority.role.in_(roles)).order_by(Authority.id)
    return tuple(_info(row) for row in query)


def ca_by_key_hash(key_hash_sha1_hex: str) -> AuthorityInfo | None:
    """The CA (root or issuing) whose public-key SHA-1 matches, e.g. an OCSP CertID's issuerKeyHash."""
    row = (
        Authority.select()
        .where((Authority.key_hash_sha1 == key_hash_sha1_hex) & (Authority.role.in_(("root", "issuing"))))
        .first()
    )
    return _info(row) if row is not None else None
