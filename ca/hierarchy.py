"""The key ceremony: create the CA hierarchy once, from settings, with every step audited.

Root CA → issuing (citizen) CA; a delegated OCSP signer per CA; a TSA certificate and an
audit-seal certificate from the root. Keys are generated inside the configured key store;
certificates are stored in the database. The whole database side is one transaction, so a failed
ceremony leaves no half hierarchy (at worst unused keys with unique labels in the store).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ca.errors import AuthorityNotFoundError, HierarchyExistsError
from ca.models import Authority, Certificate
from ca.serials import new_serial, to_hex
from ca.settings import AuthoritySettings, CASettings
from ca.x509util import fingerprint, key_hash_sha1, signature_hash
from core import audit
from core.clock import Clock
from core.db import atomic
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


def _key_usage(*, cert_sign: bool = False, digital_signature: bool = False, non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
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
            audit.record(self.clock, actor=self.actor, action="ceremony.start", object_type="hierarchy", object_id="-",
                         details={"root": s.root.name, "issuing": s.issuing.name, "tsa": s.tsa.name})
            root, root_key = self._root(s.root)
            issuing, issuing_key = self._subordinate(s.issuing, root, root_key)
            for ca, ca_key in ((root, root_key), (issuing, issuing_key)):
                self._signer(
                    AuthoritySettings(f"{ca.name}-ocsp", f"{ca.subject_cn} OCSP", s.ocsp_signer.algorithm,
                                      s.ocsp_signer.validity_days, ca.settings.organization, ca.settings.country),
                    "ocsp", ca, ca_key, self._ocsp_extensions,
                )
            self._signer(s.tsa, "tsa", root, root_key, self._tsa_extensions)
            audit_settings = AuthoritySettings("audit", f"{s.root.common_name} Audit Seal", s.audit_key_algorithm,
                                               min(s.root.validity_days, 3650), s.root.organization, s.root.country)
            self._signer(audit_settings, "audit", root, root_key, self._audit_extensions)
            audit.record(self.clock, actor=self.actor, action="ceremony.complete", object_type="hierarchy", object_id="-",
                         details={"authorities": [step.name for step in self.steps]})
        return self.steps

    # -- steps ---------------------------------------------------------------------------------

    def _new_key(self, settings: AuthoritySettings, role: str) -> tuple[str, CertificateIssuerPrivateKeyTypes]:
        label = f"{settings.name}-{self.clock.now():%Y%m%dT%H%M%S}"
        key = self.store.generate(label, KeySpec(settings.algorithm))
        audit.record(self.clock, actor=self.actor, action="key.generate", object_type="key", object_id=label,
                     details={"algorithm": settings.algorithm, "role": role})
        return label, key

    def _root(self, settings: AuthoritySettings) -> tuple[_Issuer, CertificateIssuerPrivateKeyTypes]:
        label, key = self._new_key(settings, "root")
        name = subject_name(settings)
        now = self.clock.now()
        builder = (
            self._base(name, name, key.public_key(), now, settings.validity_days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
        )
        return self._store(builder, key, None, settings, "root", label, "root-ca"), key

    def _subordinate(self, settings: AuthoritySettings, parent: _Issuer, parent_key: CertificateIssuerPrivateKeyTypes) -> tuple[_Issuer, CertificateIssuerPrivateKeyTypes]:
        label, key = self._new_key(settings, "issuing")
        now = self.clock.now()
        s = self.settings
        builder = (
            self._base(subject_name(settings), parent.cert.subject, key.public_key(), now, settings.validity_days, parent)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.CertificatePolicies([
                x509.PolicyInformation(x509.ObjectIdentifier(s.policy_oid), [s.cps_uri]),
            ]), critical=False)
            .add_extension(self._crl_dp(parent.name), critical=False)
            .add_extension(self._aia(parent.name), critical=False)
        )
        return self._store(builder, parent_key, parent, settings, "issuing", label, "issuing-ca"), key

    def _signer(self, settings: AuthoritySettings, role: str, parent: _Issuer, parent_key: CertificateIssuerPrivateKeyTypes,
                extensions: Callable[[x509.CertificateBuilder, _Issuer], x509.CertificateBuilder]) -> None:
        label, key = self._new_key(settings, role)
        now = self.clock.now()
        builder = self._base(subject_name(settings), parent.cert.subject, key.public_key(), now, settings.validity_days, parent)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        self._store(extensions(builder, parent), parent_key, parent, settings, role, label, f"{role}-signer")

    def _ocsp_extensions(self, builder: x509.CertificateBuilder, parent: _Issuer) -> x509.CertificateBuilder:
        # RFC 6960 §4.2.2.2: delegated responder; §4.2.2.2.1: id-pkix-ocsp-nocheck.
        return (
            builder.add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .add_extension(x509.OCSPNoCheck(), critical=False)
        )

    def _tsa_extensions(self, builder: x509.CertificateBuilder, parent: _Issuer) -> x509.CertificateBuilder:
        # RFC 3161 §2.3: the only EKU is id-kp-timeStamping and it is critical; CDP and AIA let
        # Java and other validators check the TSA certificate's status.
        return (
            builder.add_extension(_key_usage(digital_signature=True, non_repudiation=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(self._crl_dp(parent.name), critical=False)
            .add_extension(self._aia(parent.name), critical=False)
        )

    def _audit_extensions(self, builder: x509.CertificateBuilder, parent: _Issuer) -> x509.CertificateBuilder:
        return (
            builder.add_extension(_key_usage(digital_signature=True, non_repudiation=True), critical=True)
            .add_extension(self._crl_dp(parent.name), critical=False)
            .add_extension(self._aia(parent.name), critical=False)
        )

    # -- building blocks -----------------------------------------------------------------------

    def _base(self, subject: x509.Name, issuer: x509.Name, public_key: object, now: datetime, days: int,
              parent: _Issuer | None = None) -> x509.CertificateBuilder:
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
        )
        if parent is not None:
            ski = parent.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        return builder

    def _crl_dp(self, ca_name: str) -> x509.CRLDistributionPoints:
        url = self.settings.crl_url(ca_name)
        return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)])

    def _aia(self, ca_name: str) -> x509.AuthorityInformationAccess:
        return x509.AuthorityInformationAccess([
            x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.settings.ocsp_url)),
            x509.AccessDescription(x509.AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier(self.settings.cert_url(ca_name))),
        ])

    def _store(self, builder: x509.CertificateBuilder, signing_key: CertificateIssuerPrivateKeyTypes, parent: _Issuer | None,
               settings: AuthoritySettings, role: str, label: str, profile: str) -> _Issuer:
        cert = builder.sign(signing_key, signature_hash(signing_key))  # type: ignore[arg-type]
        now = self.clock.now()
        issuer_row = parent.row if parent is not None else None
        authority = Authority.create(
            name=settings.name, role=role, parent=issuer_row, key_label=label, subject=cert.subject.rfc4514_string(),
            certificate_der=cert.public_bytes(_DER), serial=to_hex(cert.serial_number),
            not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc, fingerprint_sha256=fingerprint(cert),
            key_hash_sha1=key_hash_sha1(cert.public_key()), created_at=now, updated_at=now,
        )
        Certificate.create(
            issuer=issuer_row or authority, serial=to_hex(cert.serial_number), state="issued", profile=profile,
            subject=cert.subject.rfc4514_string(), tbs_der=cert.tbs_certificate_bytes, der=cert.public_bytes(_DER),
            fingerprint_sha256=fingerprint(cert), not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
            created_at=now, issued_at=now,
        )
        audit.record(self.clock, actor=self.actor, action="certificate.issue", object_type="authority", object_id=settings.name,
                     details={"role": role, "serial": to_hex(cert.serial_number), "key_label": label,
                              "issuer": parent.name if parent else settings.name, "fingerprint_sha256": fingerprint(cert)})
        self.steps.append(CeremonyStep(settings.name, role, cert.subject.rfc4514_string(), to_hex(cert.serial_number),
                                       cert.not_valid_after_utc, fingerprint(cert), label))
        return _Issuer(cert, settings, authority)


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
