"""The receipt service: UPO (UPP) for a delivered filing and UPD for a confirmed delivery.

Order of work, so that no receipt is returned that was not stored and none is stored that was not
returned: build → seal (receipt-seal key) → timestamp (our TSA) → store with its audit record in
one transaction → return. Anything failing before the commit leaves nothing behind but the TSA's
own token record; a retry with the same Idempotency-Key after a lost answer gets the stored one.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee as pw
from cryptography import x509

from ca.errors import AuthorityNotFoundError
from ca.hierarchy import authority, load_certificate
from core import audit
from core.auth import Principal
from core.clock import Clock
from epackage.signer import Signer
from epackage.xades import Timestamper
from hsm.base import KeyStore
from hsm.errors import HSMError
from receipts.errors import (
    DeliverySignatureRejectedError,
    IdempotencyConflictError,
    ReceiptNotFoundError,
    SealUnavailableError,
)
from receipts.models import Receipt
from receipts.requests import (
    check_idempotency_key,
    parse_delivery,
    parse_submission,
    request_hash,
)
from receipts.seal import Sealed, seal
from receipts.settings import ReceiptsSettings
from receipts.upo import Party, ReceiptContent, build, new_number
from receipts.writer import GroupWriter
from verifier.report import ValidationReport

logger = logging.getLogger(__name__)
NUMBER_ATTEMPTS = 3
ASIC_E = "application/vnd.etsi.asic-e+zip"

# A signed package and its media type in, the verifier's report out (VerificationService.verify).
PackageVerifier = Callable[[bytes, str], ValidationReport]


@dataclass(frozen=True)
class Issued:
    receipt: Receipt
    replayed: bool


class ReceiptService:
    def __init__(
        self,
        settings: ReceiptsSettings,
        clock: Clock,
        key_store: Callable[[], KeyStore],
        timestamper: Timestamper,
        verify_package: PackageVerifier,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._key_store = key_store
        self._timestamper = timestamper
        self._verify_package = verify_package
        self._writer = GroupWriter()

    # -- UPP: official receipt of a submission ------------------------------------------------

    def issue_submission(self, body: Any, *, principal: Principal, idempotency_key: str | None) -> Issued:
        check_idempotency_key(idempotency_key)
        digest = request_hash(body)
        replay = self._replay(principal, idempotency_key, digest)
        if replay is not None:
            return replay
        request = parse_submission(body, max_package_bytes=self.settings.max_package_bytes)

        def content(number: str) -> ReceiptContent:
            now = self.clock.now()
            return ReceiptContent(
                kind="UPP",
                number=number,
                recipient=request.recipient,
                sender=request.sender,
                delivered_at=now,
                generated_at=now,
                document_id=request.submission_number,
                subject=request.subject,
                package_sha256=request.package_sha256,
                package_size=request.package_size,
                platform=self.settings.platform_name,
            )

        return self._issue("UPP", content, principal, idempotency_key, digest)

    # -- UPD: confirmation that the citizen received the office's package ----------------------

    def confirm_delivery(self, body: Any, *, principal: Principal, idempotency_key: str | None) -> Issued:
        """Verify the citizen's signature over the office's package (the verifier decides), then
        issue a sealed, timestamped confirmation naming the signer."""
        check_idempotency_key(idempotency_key)
        digest = request_hash(body)
        replay = self._replay(principal, idempotency_key, digest)
        if replay is not None:
            return replay
        request = parse_delivery(body, max_package_bytes=self.settings.max_package_bytes)
        report = self._verify_package(request.signed_package, ASIC_E)
        if report.indication != "TOTAL_PASSED":
            raise DeliverySignatureRejectedError(
                f"the signed package did not validate ({report.indication}/{report.sub_indication})",
                indication=str(report.indication),
                sub_indication=str(report.sub_indication) if report.sub_indication else None,
            )
        signers = [s.signer for s in report.signatures if s.signer is not None]
        signed_by = "; ".join(
            f"{s.name or s.subject} (SHA-256 certyfikatu {s.fingerprint_sha256.lower()})" for s in signers
        )
        package_digest = hashlib.sha256(request.signed_package).digest()

        def content(number: str) -> ReceiptContent:
            now = self.clock.now()
            return ReceiptContent(
                kind="UPD",
                number=number,
                recipient=request.recipient,
                sender=request.office,
                delivered_at=now,
                generated_at=now,
                document_id=request.letter_id,
                subject=request.subject,
                package_sha256=package_digest,
                package_size=len(request.signed_package),
                platform=self.settings.platform_name,
                recipient_signer=signed_by or None,
            )

        return self._issue("UPD", content, principal, idempotency_key, digest)

    # -- reading -------------------------------------------------------------------------------

    def get(self, public_id: str, principal: Principal) -> Receipt:
        """A receipt for the portal client that asked for it (others get 404, not 403)."""
        row = Receipt.get_or_none(Receipt.public_id == public_id)
        if row is None or row.portal_client != principal.id:
            raise ReceiptNotFoundError(public_id)
        return row

    # -- the common path -----------------------------------------------------------------------

    def _replay(self, principal: Principal, key: str | None, digest: str) -> Issued | None:
        if key is None:
            return None
        row = Receipt.get_or_none((Receipt.portal_client == principal.id) & (Receipt.idempotency_key == key))
        if row is None:
            return None
        if row.request_hash != digest:
            raise IdempotencyConflictError("this Idempotency-Key was used with a different request body")
        return Issued(row, replayed=True)

    def _issue(
        self,
        kind: str,
        content: Callable[[str], ReceiptContent],
        principal: Principal,
        idempotency_key: str | None,
        digest: str,
    ) -> Issued:
        signer = self._signer()
        for _attempt in range(NUMBER_ATTEMPTS):
            values = content(new_number(kind, self.clock.now()))
            sealed = self._seal(values, signer)
            try:
                return Issued(self._store(values, sealed, signer, principal, idempotency_key, digest), replayed=False)
            except pw.IntegrityError:
                replay = self._replay(principal, idempotency_key, digest)
                if replay is not None:
                    return replay  # a concurrent request with the same key won the race
                logger.warning("receipt number collision; sealing again under a new number")
        raise SealUnavailableError("could not allocate a unique receipt number")

    def _signer(self) -> Signer:
        try:
            row = authority(self.settings.seal_authority)
            certificate: x509.Certificate = load_certificate(row)
            return Signer(self._key_store().find(row.key_label), certificate)
        except (AuthorityNotFoundError, HSMError) as exc:
            logger.error("the receipt seal is not available: %s", type(exc).__name__)
            raise SealUnavailableError("the receipt seal is not available") from None

    def _seal(self, content: ReceiptContent, signer: Signer) -> Sealed:
        try:
            return seal(build(content), signer, content.generated_at, self._timestamper)
        except HSMError:
            raise SealUnavailableError("the receipt seal key cannot sign now") from None

    def _store(
        self,
        content: ReceiptContent,
        sealed: Sealed,
        signer: Signer,
        principal: Principal,
        idempotency_key: str | None,
        digest: str,
    ) -> Receipt:
        def write() -> Receipt:
            # Runs inside the (group) transaction: the row and its audit record commit together.
            row = Receipt.create(
                public_id=secrets.token_urlsafe(18),
                number=content.number,
                kind=content.kind,
                portal_client=principal.id,
                idempotency_key=idempotency_key,
                request_hash=digest,
                submission_number=content.document_id,
                subject=content.subject,
                recipient_name=content.recipient.name,
                package_sha256=content.package_sha256.hex(),
                package_size=content.package_size,
                delivered_at=content.delivered_at,
                created_at=content.generated_at,
                seal_certificate_serial=format(signer.certificate.serial_number, "X"),
                timestamp_time=sealed.timestamp_time,
                xml=sealed.xml,
            )
            audit.record(
                self.clock,
                actor=principal.actor,
                action=f"receipts.{content.kind.lower()}.issue",
                object_type="receipt",
                object_id=row.public_id,
                details={
                    "number": content.number,
                    "package_sha256": content.package_sha256.hex(),
                    "timestamp_time": sealed.timestamp_time.isoformat(),
                },
            )
            return row

        row = self._writer.write(write)
        logger.info("receipt issued: kind=%s number=%s", content.kind, content.number)
        return row


__all__ = ["Issued", "PackageVerifier", "Party", "ReceiptService"]
