"""The verification service: a submission in, a :class:`ValidationReport` out.

No HTTP here; the resource decodes the request and encodes the answer. Nothing is written to
the database, and nothing about the signer is logged (the report may name them; logs never do).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from cryptography import x509

from ca.errors import AuthorityNotFoundError
from ca.hierarchy import authority
from core.clock import Clock
from hsm.base import KeyStore
from verifier.asic.service import package_report
from verifier.cades import load_signed_data, validate_cms
from verifier.detect import Submission
from verifier.environment import VerificationEnvironment
from verifier.errors import ReportSigningError
from verifier.pades import validate_pdf
from verifier.policy import TrustLoader
from verifier.receipt_fields import POS as RECEIPT_NAMESPACE
from verifier.receipt_fields import ReceiptInfo, read_receipt
from verifier.report import DocumentInfo, Indication, SignatureReport, SubIndication, ValidationReport, Verdict, worst
from verifier.revocation import LocalRevocationSource
from verifier.settings import VerifierSettings
from verifier.signing import sign_report
from verifier.xades import parse_xml, validate_xml

logger = logging.getLogger(__name__)
CLOCK_SKEW = timedelta(minutes=5)

# These libraries log certificate subjects (which hold PNOPL identifiers) at WARNING and ERROR.
_CHATTY_LIBRARIES = ("pyhanko", "pyhanko_certvalidator", "signxml")


def quiet_library_loggers() -> None:
    """Keep validation libraries from logging signer names: their records never reach handlers."""
    for name in _CHATTY_LIBRARIES:
        library = logging.getLogger(name)
        library.setLevel(logging.CRITICAL + 1)
        library.propagate = False


class VerificationService:
    def __init__(self, settings: VerifierSettings, clock: Clock, key_store: Callable[[], KeyStore]) -> None:
        self.settings = settings
        self.clock = clock
        self._key_store = key_store
        self._trust = TrustLoader(settings)
        self._source = LocalRevocationSource(key_store, clock, timedelta(seconds=settings.local_ocsp_validity_seconds))
        quiet_library_loggers()

    def verify(self, submission: Submission, validation_time: datetime | None = None) -> ValidationReport:
        moment = validation_time or self.clock.now()
        env = VerificationEnvironment(self._trust.load(), self.settings.revocation_mode, moment, self._source)
        if submission.kind == "asic":
            return package_report(submission, env, self.settings, moment)
        signatures, warnings = asyncio.run(self._dispatch(submission, env))
        signatures = [_with_time_warnings(s, moment) for s in signatures]
        verdicts = [Verdict(s.indication, s.sub_indication) for s in signatures]
        if not signatures:
            verdict = Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, "no signature found")
            warnings.append("the document holds no signature")
        else:
            verdict = worst(verdicts)
        report = ValidationReport(
            indication=verdict.indication,
            sub_indication=verdict.sub_indication,
            validation_time=moment,
            revocation_mode=self.settings.revocation_mode,
            document=DocumentInfo(
                media_type=submission.media_type,
                size=len(submission.signature),
                sha256=hashlib.sha256(submission.signature).hexdigest(),
                detached_parts=tuple(p.label for p in submission.detached),
            ),
            signatures=tuple(signatures),
            warnings=tuple(warnings),
            receipt=receipt_of(submission),
        )
        logger.info(
            "verification done: kind=%s signatures=%d indication=%s",
            submission.kind,
            len(signatures),
            verdict.indication.value,
        )
        return report

    async def _dispatch(
        self, submission: Submission, env: VerificationEnvironment
    ) -> tuple[list[SignatureReport], list[str]]:
        limit = self.settings.max_signatures
        detached = list(submission.detached)
        if submission.kind == "pdf":
            return await validate_pdf(submission.signature, env, max_signatures=limit)
        if submission.kind == "xml":
            return await validate_xml(parse_xml(submission.signature), env, detached, max_signatures=limit)
        return await validate_cms(load_signed_data(submission.signature), env, detached, max_signatures=limit)

    def sign(self, report: ValidationReport, payload: bytes | None = None) -> bytes:
        """The report as CMS SignedData by ``verifier.report_signer`` (see :mod:`verifier.signing`):
        its JSON, or ``payload`` (the same report in another form, e.g. TS 119 102-2 XML)."""
        try:
            row = authority(self.settings.report_signer)
        except AuthorityNotFoundError:
            raise ReportSigningError(f"report signer {self.settings.report_signer!r} does not exist") from None
        key = self._key_store().find(row.key_label)
        certificate = x509.load_der_x509_certificate(bytes(row.certificate_der))
        return sign_report(payload if payload is not None else report_json(report), key, certificate, self.clock.now())


def receipt_of(submission: Submission) -> ReceiptInfo | None:
    """The fields of a UPO/UPD receipt (CRD namespace), parsed again only when it may be one."""
    if submission.kind != "xml" or RECEIPT_NAMESPACE.encode() not in submission.signature:
        return None
    return read_receipt(parse_xml(submission.signature))


def _with_time_warnings(report: SignatureReport, moment: datetime) -> SignatureReport:
    claimed = report.claimed_signing_time
    if claimed is not None and claimed > moment + CLOCK_SKEW:
        # The claimed time is the signer's own statement (EN 319 102-1 §5.2.8 does not trust it).
        return replace(report, warnings=(*report.warnings, "the claimed signing time is after the validation time"))
    return report


def report_json(report: ValidationReport) -> bytes:
    return json.dumps(report.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
