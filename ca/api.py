"""The CA's one door for the registration authority (enrollment) and the administrators' CLI.

:class:`CertificateAuthority` is what callers depend on; :class:`LocalCertificateAuthority` runs
the pipeline (:mod:`ca.issuance`), the revocation registry (:mod:`ca.revocation`) and the status
rules (:mod:`ca.status`) of this process against the bound database. ``config/wiring`` builds it
once and injects it; nothing outside ``ca`` needs CA settings, CA tables or CA internals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from cryptography import x509

from ca import hierarchy, status
from ca.errors import CAError
from ca.issuance import IssuancePipeline, IssuedCertificate, IssueRequest, SubjectIdentity
from ca.keyquality import record_refusal
from ca.requests import check_public_key, load_csr
from ca.revocation import REVOCATION_REASONS, RevocationService, canonical_serial
from ca.settings import CASettings
from ca.status import CertificateState
from core.clock import Clock
from hsm.base import KeyStore

__all__ = [
    "REVOCATION_REASONS",
    "CAError",
    "CertificateAuthority",
    "CertificateState",
    "IssueRequest",
    "IssuedCertificate",
    "LocalCertificateAuthority",
    "SubjectIdentity",
    "canonical_serial",
    "check_public_key",
    "load_csr",
    "record_refusal",
]


class CertificateAuthority(Protocol):
    """Issue, revoke, suspend, resume; read states, certificates and chains.

    Serials are hex strings (any case); answers carry the canonical form (:mod:`ca.serials`).
    ``issue`` must be called outside any open transaction (it commits its own steps); the
    status changes join the caller's transaction (savepoints), so the caller's audit record and
    the CA's commit together."""

    def issue(self, request: IssueRequest, *, actor: str) -> IssuedCertificate: ...

    def revoke(
        self, issuer: str, serial: str, reason: str, *, actor: str, invalidity_date: datetime | None = None
    ) -> CertificateState: ...

    def suspend(self, issuer: str, serial: str, *, actor: str) -> CertificateState: ...

    def resume(self, issuer: str, serial: str, *, actor: str) -> CertificateState: ...

    def state(self, issuer: str, serial: str) -> CertificateState: ...

    def certificate(self, issuer: str, serial: str) -> x509.Certificate | None: ...

    def chain(self, issuer: str) -> list[x509.Certificate]: ...

    def certificates_of(self, subject_ref: str) -> list[CertificateState]: ...


class LocalCertificateAuthority:
    """:class:`CertificateAuthority` in this process. The key store is asked for only when a
    certificate is issued (an enrollment process that only reads never opens it)."""

    def __init__(self, settings: CASettings, key_store: Callable[[], KeyStore], clock: Clock) -> None:
        self._settings = settings
        self._key_store = key_store
        self._clock = clock
        self._revocation = RevocationService(settings, clock)
        self._pipeline: IssuancePipeline | None = None
        self._lock = threading.Lock()

    @property
    def default_issuer(self) -> str:
        return self._settings.issuing.name

    def _issuance(self) -> IssuancePipeline:
        with self._lock:
            if self._pipeline is None:
                self._pipeline = IssuancePipeline(self._settings, self._key_store(), self._clock)
            return self._pipeline

    def issue(self, request: IssueRequest, *, actor: str) -> IssuedCertificate:
        return self._issuance().issue(request, actor=actor)

    def revoke(
        self, issuer: str, serial: str, reason: str, *, actor: str, invalidity_date: datetime | None = None
    ) -> CertificateState:
        row = self._revocation.revoke(issuer, serial, reason, actor=actor, invalidity_date=invalidity_date)
        return status.state_of_row(row, self._clock.now())

    def suspend(self, issuer: str, serial: str, *, actor: str) -> CertificateState:
        return status.state_of_row(self._revocation.suspend(issuer, serial, actor=actor), self._clock.now())

    def resume(self, issuer: str, serial: str, *, actor: str) -> CertificateState:
        return status.state_of_row(self._revocation.resume(issuer, serial, actor=actor), self._clock.now())

    def state(self, issuer: str, serial: str) -> CertificateState:
        return status.certificate_state(issuer, canonical_serial(serial), self._clock.now())

    def certificate(self, issuer: str, serial: str) -> x509.Certificate | None:
        der = status.certificate_der(issuer, canonical_serial(serial))
        return x509.load_der_x509_certificate(der) if der is not None else None

    def chain(self, issuer: str) -> list[x509.Certificate]:
        return hierarchy.chain(issuer)

    def certificates_of(self, subject_ref: str) -> list[CertificateState]:
        return status.states_of_subject(subject_ref, self._clock.now())
