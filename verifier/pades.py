"""PAdES (ETSI EN 319 142-1) and PDF signatures via pyHanko, with coverage and modification
analysis: a signature whose byte range does not cover its revision is TOTAL_FAILED, and a later
incremental update that changes content (pyHanko modification level OTHER, or beyond the DocMDP
permission) keeps the signature from TOTAL_PASSED."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from io import BytesIO
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import errors as ph_errors
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel

from verifier.archive import ValidationData
from verifier.baseline import Assessment, assess, summary
from verifier.cades import report_from_status
from verifier.common import (
    PARSE_ERRORS,
    present,
    signer_identity,
    timestamp_info,
    verdict_from_ades,
    well_formed,
)
from verifier.counter_cms import cms_counter_signatures
from verifier.environment import VerificationEnvironment
from verifier.errors import UnparseableDocumentError
from verifier.policy import SIGNER_KEY_USAGE
from verifier.report import (
    Coverage,
    Indication,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    Verdict,
    with_counter_signatures,
)

_PADES_SUBFILTER = "/ETSI.CAdES.detached"
PDF_ERRORS: tuple[type[BaseException], ...] = (PdfError, *PARSE_ERRORS)
PDF_SIG_ERRORS: tuple[type[BaseException], ...] = (ph_errors.SignatureValidationError, *PDF_ERRORS)


def open_pdf(data: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        reader.root  # noqa: B018 - force the trailer and catalog to resolve
        return reader
    except PDF_ERRORS as exc:
        raise UnparseableDocumentError(
            f"the PDF cannot be read ({type(exc).__name__})", document_format="PAdES"
        ) from None


def _dss(
    reader: PdfFileReader,
) -> tuple[list[asn1_x509.Certificate], list[asn1_crl.CertificateList], list[asn1_ocsp.OCSPResponse]]:
    certs: list[asn1_x509.Certificate] = []
    crls: list[asn1_crl.CertificateList] = []
    ocsps: list[asn1_ocsp.OCSPResponse] = []
    try:
        dss = reader.root.get("/DSS")
        if dss is None:
            return [], [], []
        dss = dss.get_object()
        for key, kind, bucket in (
            ("/Certs", asn1_x509.Certificate, certs),
            ("/CRLs", asn1_crl.CertificateList, crls),
            ("/OCSPs", asn1_ocsp.OCSPResponse, ocsps),
        ):
            for ref in dss.get(key, ()):
                bucket.append(kind.load(ref.get_object().data))  # type: ignore[attr-defined]
    except PDF_ERRORS:
        return [], [], []
    return well_formed(certs), well_formed(crls), well_formed(ocsps)


def _is_last_revision(sig: Any) -> bool:
    try:
        return int(sig.signed_revision) >= int(sig.reader.xrefs.total_revisions) - 1
    except PDF_ERRORS:
        return False


def _byte_ranges(sig: Any) -> tuple[tuple[int, int], ...]:
    try:
        values = [int(v) for v in sig.byte_range]
        return tuple((values[i], values[i + 1]) for i in range(0, len(values) - 1, 2))
    except (TypeError, ValueError, AttributeError):
        return ()


async def validate_pdf(
    data: bytes, env: VerificationEnvironment, *, max_signatures: int = 16
) -> tuple[list[SignatureReport], list[str]]:
    reader = open_pdf(data)
    warnings: list[str] = []
    try:
        embedded = list(reader.embedded_signatures)
    except PDF_SIG_ERRORS as exc:
        raise UnparseableDocumentError(
            f"the PDF signature fields cannot be read ({type(exc).__name__})", document_format="PAdES"
        ) from None
    has_dss = reader.root.get("/DSS") is not None
    dss_certs, dss_crls, dss_ocsps = _dss(reader)
    if len(embedded) > max_signatures:
        warnings.append(f"only the first {max_signatures} of {len(embedded)} signatures were validated")
        embedded = embedded[:max_signatures]
    doc_timestamps: list[tuple[int, TimestampInfo]] = []
    signatures: list[tuple[int, Any]] = []
    for sig in embedded:
        try:
            kind = sig.sig_object_type
        except PDF_ERRORS:
            kind = "/Sig"
        if kind == "/DocTimeStamp":
            contexts = env.contexts(other_certs=dss_certs, crls=dss_crls, ocsps=dss_ocsps)
            try:
                status = await async_validate_pdf_timestamp(sig, validation_context=contexts.timestamps)
                doc_timestamps.append((sig.signed_revision, timestamp_info("document", status)))
            except PDF_SIG_ERRORS:
                doc_timestamps.append(
                    (
                        sig.signed_revision,
                        TimestampInfo(
                            kind="document",
                            time=None,
                            indication=Indication.TOTAL_FAILED,
                            sub_indication=SubIndication.FORMAT_FAILURE,
                        ),
                    )
                )
        else:
            signatures.append((len(signatures), sig))
    reports: list[SignatureReport] = []
    for index, sig in signatures:
        report = await _validate_one(index, sig, env, dss_certs, dss_crls, dss_ocsps, has_dss, doc_timestamps)
        reports.append(await _with_counters(sig, report, env, ValidationData(dss_certs, dss_crls, dss_ocsps)))
    return reports, warnings


async def _with_counters(
    sig: Any, report: SignatureReport, env: VerificationEnvironment, dss: ValidationData
) -> SignatureReport:
    """The countersignature attributes of the signature's SignerInfo (RFC 5652 §11.4; EN 319 142-1
    does not forbid them), validated with the signature's and the DSS's certificates."""
    try:
        signer = sig.signer_info
        held = sig.signed_data["certificates"]
        certs = [c.chosen for c in held if c.name == "certificate"] if present(held) else []
    except PDF_ERRORS:
        return report
    data = ValidationData(well_formed([*certs, *dss.certs]), dss.crls, dss.ocsps)
    return with_counter_signatures(report, await cms_counter_signatures(signer, report.id, data, env))


@dataclass(frozen=True)
class _DSSData:
    certs: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    ocsps: list[asn1_ocsp.OCSPResponse]
    present: bool


async def _validate_one(
    index: int,
    sig: Any,
    env: VerificationEnvironment,
    dss_certs: list[asn1_x509.Certificate],
    dss_crls: list[asn1_crl.CertificateList],
    dss_ocsps: list[asn1_ocsp.OCSPResponse],
    has_dss: bool,
    doc_timestamps: list[tuple[int, TimestampInfo]],
) -> SignatureReport:
    sig_id = f"pdf-{index}"
    with contextlib.suppress(*PDF_ERRORS):
        sig_id = str(sig.field_name or sig_id)
    dss = _DSSData(dss_certs, dss_crls, dss_ocsps, has_dss)
    later_stamps = [ts for revision, ts in doc_timestamps if revision > sig.signed_revision]
    assessment, warnings = _pdf_shape(sig, has_dss, bool(later_stamps))
    # EN 319 102-1 §5.6.2: a valid document (archive) timestamp over the signature proves it
    # existed then; an invalid one proves nothing and is reported.
    archive_times = [ts.time for ts in later_stamps if ts.indication is Indication.TOTAL_PASSED and ts.time]
    if len(archive_times) < len(later_stamps):
        warnings.append("a document timestamp after this signature does not validate")
    contexts = env.contexts(other_certs=[*dss.certs, *sig.other_embedded_certs], crls=dss.crls, ocsps=dss.ocsps)
    byte_ranges = _byte_ranges(sig)
    try:
        status = await async_validate_pdf_signature(
            sig,
            signer_validation_context=contexts.signer,
            ts_validation_context=contexts.timestamps,
            key_usage_settings=SIGNER_KEY_USAGE,
        )
    except PDF_SIG_ERRORS as exc:
        return _failed_pdf(sig, sig_id, exc, assessment, warnings, later_stamps, byte_ranges)
    modification = status.modification_level
    if modification is not None and modification != ModificationLevel.NONE:
        warnings.append(f"later incremental updates: modification level {modification.name}")
    coverage = Coverage(
        kind="pdf-byte-range",
        byte_ranges=byte_ranges,
        level=status.coverage.name if status.coverage is not None else None,
        modification_level=modification.name if modification is not None else None,
    )
    report = await report_from_status(
        sig_id,
        "PAdES",
        assessment.level,
        status,
        coverage,
        env,
        contexts,
        [sig.signer_cert, *sig.other_embedded_certs],
        extra_verdicts=lambda: _pdf_verdicts(sig, status),
        extra_warnings=tuple(warnings),
        crls=dss.crls,
        ocsps=dss.ocsps,
        baseline=assessment.checks,
        archive_poe=min(archive_times) if archive_times else None,
    )
    return replace(report, timestamps=(*report.timestamps, *later_stamps)) if later_stamps else report


def _pdf_shape(sig: Any, has_dss: bool, later_stamps: bool) -> tuple[Assessment, list[str]]:
    """The baseline assessment (EN 319 142-1 §6.3) and its warnings."""
    warnings: list[str] = []
    elements: set[str] = set()
    try:
        subfilter = str(sig.sig_object.get("/SubFilter"))
    except PDF_ERRORS:
        subfilter = "?"
    if subfilter == _PADES_SUBFILTER:
        elements.add("SubFilter ETSI.CAdES.detached")
    else:
        warnings.append(f"SubFilter {subfilter}: a PDF signature, not a PAdES baseline signature")
    with contextlib.suppress(*PARSE_ERRORS):
        for key in ("signed_attrs", "unsigned_attrs"):
            attrs = sig.signer_info[key]
            for attr in attrs if present(attrs) else ():
                name = str(attr["type"].native)
                if name in ("signing_certificate_v2", "signing_certificate"):
                    elements.add(name.replace("_", "-"))
                elif name == "signature_time_stamp_token":
                    elements.add("signature-time-stamp")
    if later_stamps:
        elements.add("document-time-stamp")
    if has_dss:
        elements.add("DSS")
        if later_stamps:
            elements.add("document-time-stamp after DSS")
    assessment = assess("PAdES", elements)
    missing = summary(assessment.checks[:1])
    if missing and subfilter == _PADES_SUBFILTER:
        warnings.append(missing)
    return assessment, warnings


def _failed_pdf(
    sig: Any,
    sig_id: str,
    exc: BaseException,
    assessment: Assessment,
    warnings: list[str],
    later_stamps: list[TimestampInfo],
    byte_ranges: tuple[tuple[int, int], ...],
) -> SignatureReport:
    indic = getattr(exc, "ades_subindication", None)
    message = getattr(exc, "failure_message", None) or f"malformed signature ({type(exc).__name__})"
    verdict = (
        verdict_from_ades(indic, message)
        if indic is not None
        else Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, message)
    )
    signer = None
    with contextlib.suppress(*PDF_ERRORS):
        signer = signer_identity(sig.signer_cert)
    return SignatureReport(
        id=sig_id,
        format="PAdES",
        level=assessment.level,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        signer=signer,
        claimed_signing_time=None,
        timestamps=tuple(later_stamps),
        certificate_chain=(),
        revocation=(),
        coverage=Coverage(kind="pdf-byte-range", byte_ranges=byte_ranges),
        warnings=(*warnings, message),
        baseline=assessment.checks,
    )


def _pdf_verdicts(sig: Any, status: Any) -> list[Verdict]:
    """Coverage and modification problems (byte range, trailing bytes, later changes)."""
    coverage_level = status.coverage
    found = []
    if coverage_level is None or coverage_level < SignatureCoverageLevel.ENTIRE_REVISION:
        found.append(
            Verdict(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                "the byte range does not cover the signed revision",
            )
        )
    if coverage_level == SignatureCoverageLevel.ENTIRE_REVISION and _is_last_revision(sig):
        # Bytes after the signed revision that do not form a revision of their own: no reader
        # should use them, but recovery-mode readers might (shadow attacks).
        found.append(
            Verdict(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "unsigned bytes follow the signed revision",
            )
        )
    if status.docmdp_ok is False or status.modification_level == ModificationLevel.OTHER:
        found.append(
            Verdict(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "the document was changed after signing",
            )
        )
    return found
