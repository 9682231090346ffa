"""Offline verification: the verifier's package validation against trust anchors the caller
gives (no database, no network: revocation data only from the package and the given CRLs)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from verifier.asic.validate import validate_package
from verifier.asic.zipread import ZipLimits
from verifier.environment import VerificationEnvironment
from verifier.policy import TrustStore
from verifier.report import DocumentInfo, ValidationReport

OFFLINE_LIMITS = ZipLimits(max_entries=10_000, max_total_bytes=512 * 1024 * 1024, max_ratio=1000)


def _objects(data: bytes) -> list[bytes]:
    if pem.detect(data):
        return [der for _, _, der in pem.unarmor(data, multiple=True)]
    return [data]


def verify_offline(
    container: bytes,
    anchors: Sequence[bytes],
    *,
    intermediates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    tsa_anchors: Sequence[bytes] = (),
    revocation_mode: str = "soft-fail",
    at: datetime | None = None,
) -> ValidationReport:
    """Validate an e-package; ``anchors`` etc. are PEM or DER file contents (PEM may hold several).

    ``revocation_mode`` is ``soft-fail`` (missing revocation data tolerated, a revoked
    certificate is not) or ``offline`` (revocation data required, from the package or ``crls``).
    """
    roots = tuple(asn1_x509.Certificate.load(d) for blob in anchors for d in _objects(blob))
    trust = TrustStore(
        roots=roots,
        intermediates=tuple(asn1_x509.Certificate.load(d) for blob in intermediates for d in _objects(blob)),
        tsa_roots=roots + tuple(asn1_x509.Certificate.load(d) for blob in tsa_anchors for d in _objects(blob)),
        crls=tuple(asn1_crl.CertificateList.load(d) for blob in crls for d in _objects(blob)),
    )
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    mode = "soft-fail" if revocation_mode == "soft-fail" else "offline"
    env = VerificationEnvironment(trust, mode, moment, None)
    result = asyncio.run(validate_package(container, env, OFFLINE_LIMITS))
    return ValidationReport(
        indication=result.verdict.indication,
        sub_indication=result.verdict.sub_indication,
        validation_time=moment,
        revocation_mode=mode,
        document=DocumentInfo(
            media_type="application/vnd.etsi.asic-e+zip",
            size=len(container),
            sha256=hashlib.sha256(container).hexdigest(),
        ),
        signatures=result.signatures,
        warnings=result.warnings,
        package=result.package,
    )
