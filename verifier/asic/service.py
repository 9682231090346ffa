"""The report for an ASiC container: :func:`validate_package` wrapped in a ValidationReport."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from verifier.asic.validate import validate_package
from verifier.detect import Submission
from verifier.environment import VerificationEnvironment
from verifier.report import DocumentInfo, SignatureReport, ValidationReport
from verifier.settings import VerifierSettings

logger = logging.getLogger(__name__)
_CLOCK_SKEW = timedelta(minutes=5)


def package_report(
    submission: Submission, env: VerificationEnvironment, settings: VerifierSettings, moment: datetime
) -> ValidationReport:
    result = asyncio.run(
        validate_package(submission.signature, env, settings.zip_limits(), max_signatures=settings.max_signatures)
    )
    signatures = tuple(_with_time_warning(s, moment) for s in result.signatures)
    logger.info(
        "package verification done: container=%s files=%d signatures=%d indication=%s",
        result.package.container,
        len(result.package.files),
        len(signatures),
        result.verdict.indication.value,
    )
    return ValidationReport(
        indication=result.verdict.indication,
        sub_indication=result.verdict.sub_indication,
        validation_time=moment,
        revocation_mode=settings.revocation_mode,
        document=DocumentInfo(
            media_type=submission.media_type,
            size=len(submission.signature),
            sha256=hashlib.sha256(submission.signature).hexdigest(),
        ),
        signatures=signatures,
        warnings=result.warnings,
        package=result.package,
    )


def _with_time_warning(report: SignatureReport, moment: datetime) -> SignatureReport:
    claimed = report.claimed_signing_time
    if claimed is not None and claimed > moment + _CLOCK_SKEW:
        # The claimed time is the signer's own statement (EN 319 102-1 §5.2.8 does not trust it).
        return replace(report, warnings=(*report.warnings, "the claimed signing time is after the validation time"))
    return report
