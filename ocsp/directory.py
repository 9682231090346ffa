"""The served CAs and their delegated signers, read from CA state and kept in memory.

Every ``refresh_seconds`` the CA rows are re-read (one small query); a changed row (new CA,
renewed OCSP signer: different serial, key label or ``updated_at``) rebuilds the index or the
signer. Keys come from the key store on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import peewee as pw
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from ca.hierarchy import AuthorityVersion, authority_certificate, authority_versions
from ocsp.errors import SignerUnavailableError
from ocsp.responder import IssuerIndex, ServedIssuer
from ocsp.signer import ResponseSigner

logger = logging.getLogger(__name__)

SERVED_ROLES = ("root", "issuing")
KeyFinder = Callable[[str], CertificateIssuerPrivateKeyTypes]


def signer_name(issuer: str) -> str:
    """The delegated OCSP signer of CA ``issuer`` is the authority ``{issuer}-ocsp``."""
    return f"{issuer}-ocsp"


class IssuerDirectory:
    """Thread-safe, per-process view of the served CAs (index) and their signers."""

    def __init__(
        self, key_finder: KeyFinder, *, refresh_seconds: float = 5.0, reader: pw.Database | None = None
    ) -> None:
        self._key_finder = key_finder
        self._refresh_seconds = refresh_seconds
        self._reader = reader
        self._lock = threading.Lock()
        self._versions: dict[str, AuthorityVersion] = {}
        self._index = IssuerIndex([])
        self._signers: dict[str, tuple[AuthorityVersion, ResponseSigner]] = {}
        self._checked = float("-inf")

    def index(self) -> IssuerIndex:
        self._maybe_refresh()
        return self._index

    def refresh(self) -> None:
        with self._lock:
            self._reload()

    def signer(self, issuer: ServedIssuer) -> ResponseSigner:
        """The current delegated signer of ``issuer``; rebuilt when its row changed."""
        self._maybe_refresh()
        with self._lock:
            version = self._versions.get(signer_name(issuer.name))
            if version is None:
                raise SignerUnavailableError(issuer.name, f"no authority named {signer_name(issuer.name)!r}")
            cached = self._signers.get(issuer.name)
            if cached is not None and cached[0] == version:
                return cached[1]
            signer = self._build_signer(issuer, version)
            self._signers[issuer.name] = (version, signer)
            if cached is not None:
                logger.info("OCSP signer of %s renewed: now serial %s", issuer.name, signer.serial)
            return signer

    def signer_serial(self, issuer: ServedIssuer) -> str | None:
        version = self._versions.get(signer_name(issuer.name))
        return version.serial if version is not None else None

    # -- internals -----------------------------------------------------------------------------

    def _maybe_refresh(self) -> None:
        if time.monotonic() - self._checked < self._refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._checked >= self._refresh_seconds:
                self._reload()

    def _select(self) -> list[AuthorityVersion]:
        if self._reader is not None:
            self._reader.connect(reuse_if_open=True)
        return authority_versions((*SERVED_ROLES, "ocsp"), self._reader)

    def _reload(self) -> None:
        versions = {v.name: v for v in self._select()}
        self._checked = time.monotonic()
        served = {n: v for n, v in versions.items() if v.role in SERVED_ROLES}
        old_served = {n: v for n, v in self._versions.items() if v.role in SERVED_ROLES}
        if served != old_served:
            self._index = IssuerIndex(
                (ServedIssuer(v.name, v.id), self._certificate(v.id))
                for v in sorted(served.values(), key=lambda v: v.id)
            )
            logger.info("OCSP now serves %d CA(s): %s", len(served), ", ".join(sorted(served)))
        self._versions = versions

    def _certificate(self, authority_id: int) -> x509.Certificate:
        return authority_certificate(authority_id, self._reader)

    def _build_signer(self, issuer: ServedIssuer, version: AuthorityVersion) -> ResponseSigner:
        certificate = self._certificate(version.id)
        try:
            key = self._key_finder(version.key_label)
        except Exception as exc:  # key store errors: not found, locked, HSM session lost
            raise SignerUnavailableError(issuer.name, f"key {version.key_label!r}: {type(exc).__name__}") from None
        return ResponseSigner.create(issuer.name, self._index.certificate(issuer.name), certificate, key)
