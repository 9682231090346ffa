"""CAdES / CMS SignedData (RFC 5652, ETSI EN 319 122-1), attached and detached, via pyHanko."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.general import (
    CMSExtractionError,
    SignedDataCerts,
    extract_certificate_info,
)
from pyhanko.sign.validation import errors as ph_errors
from pyhanko.sign.validation.generic_cms import async_validate_cms_signature, collect_timing_info
from pyhanko.sign.validation.status import StandardCMSSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from core.clock import ensure_utc
from verifier.archive import ValidationData, archive_verdicts, earliest_valid, validate_archive_tokens
from verifier.baseline import Assessment, assess, summary
from verifier.cades_archive import archive_tokens, certificate_values
from verifier.common import (
    ARCHIVE_POE_WARNING,
    PARSE_ERRORS,
    POE_RESOLVABLE,
    POE_WARNING,
    chain_of,
    describe_mechanism,
    has_valid_timestamp,
    present,
    refine_chain_verdict,
    signer_identity,
    timestamp_info,
    verdict_from_ades,
    verdict_from_status,
    well_formed,
)
from verifier.counter_cms import cms_counter_signatures
from verifier.detect import Part, check_der_nesting, cms_der
from verifier.environment import VerificationEnvironment
from verifier.errors import UnparseableDocumentError
from verifier.listed import find_listing, listing_verdict
from verifier.paths import policy_verdict
from verifier.policy import SIGNER_KEY_USAGE, VerificationContexts
from verifier.report import (
    PASSED,
    Coverage,
    Indication,
    LevelCheck,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    Verdict,
    with_counter_signatures,
    worst,
)

_EXTRACTION_ERRORS: tuple[type[BaseException], ...] = (
    CMSExtractionError,
    ph_errors.SignatureValidationError,
    *PARSE_ERRORS,
)


def load_signed_data(data: bytes) -> cms.SignedData:
    """Parse a CMS ContentInfo holding SignedData (DER, BER or PEM); anything else → 400."""
    der = cms_der(data)
    check_der_nesting(der)
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise UnparseableDocumentError("the CMS structure is not SignedData", document_format="CAdES")
        signed_data = info["content"]
        if not isinstance(signed_data, cms.SignedData):
            raise UnparseableDocumentError("the CMS structure is not SignedData", document_format="CAdES")
        if len(signed_data["signer_infos"]) == 0:
            raise UnparseableDocumentError("the SignedData has no SignerInfo", document_format="CAdES")
        # Touch the parts the validators use so broken encodings surface here, as a 400.
        signed_data["encap_content_info"]["content_type"].native  # noqa: B018
        for signer in signed_data["signer_infos"]:
            signer["sid"].native  # noqa: B018
            signer["digest_algorithm"]["algorithm"].native  # noqa: B018
    except UnparseableDocumentError:
        raise
    except PARSE_ERRORS as exc:
        raise UnparseableDocumentError(
            f"the CMS structure cannot be parsed ({type(exc).__name__})", document_format="CAdES"
        ) from None
    return signed_data


def _one_signer(signed_data: cms.SignedData, signer: cms.SignerInfo) -> cms.SignedData:
    if len(signed_data["signer_infos"]) == 1:
        return signed_data
    fields = {
        "version": signed_data["version"],
        "digest_algorithms": signed_data["digest_algorithms"],
        "encap_content_info": signed_data["encap_content_info"],
        "signer_infos": [signer],
    }
    for name in ("certificates", "crls"):
        if present(signed_data[name]):
            fields[name] = signed_data[name]
    return cms.SignedData(fields)


_SIGNED_NAMES = {
    "content_type": "content-type",
    "message_digest": "message-digest",
    "signing_certificate_v2": "signing-certificate-v2",
    "signing_certificate": "signing-certificate",
    "signing_time": "signing-time",
}
_UNSIGNED_NAMES = {
    "signature_time_stamp_token": "signature-time-stamp",
    "1.2.840.113549.1.9.16.2.23": "certificate-values",
    "1.2.840.113549.1.9.16.2.24": "revocation-values",
    "0.4.0.1733.2.4": "archive-time-stamp-v3",
}


def cms_elements(signed_data: cms.SignedData, signer: cms.SignerInfo) -> set[str]:
    """The baseline-relevant elements one SignerInfo holds (names of :mod:`verifier.baseline`)."""
    found: set[str] = set()
    with contextlib.suppress(*PARSE_ERRORS):
        for key in ("signed_attrs", "unsigned_attrs"):
            attrs = signer[key]
            for attr in attrs if present(attrs) else ():
                names = _SIGNED_NAMES if key == "signed_attrs" else _UNSIGNED_NAMES
                for label in (attr["type"].dotted, str(attr["type"].native)):
                    if label in names:
                        found.add(names[label])
        for name in ("certificates", "crls"):
            if present(signed_data[name]) and len(signed_data[name]) > 0:
                found.add(name)
    return found


def cms_shape(signed_data: cms.SignedData, signer: cms.SignerInfo) -> tuple[str, Assessment]:
    """("CAdES" or plain "CMS", the baseline assessment). Without a signing-certificate(-v2)
    attribute the signature is plain CMS (EN 319 122-1 §5.2.2) and meets no baseline level."""
    elements = cms_elements(signed_data, signer)
    assessment = assess("CAdES", elements)
    if not {"signing-certificate-v2", "signing-certificate"} & elements:
        return "CMS", Assessment("none", assessment.checks)
    return "CAdES", assessment


def embedded_revocation(
    signed_data: cms.SignedData,
) -> tuple[list[asn1_crl.CertificateList], list[asn1_ocsp.OCSPResponse]]:
    crls: list[asn1_crl.CertificateList] = []
    ocsps: list[asn1_ocsp.OCSPResponse] = []
    try:
        for choice in signed_data["crls"] if present(signed_data["crls"]) else ():
            if choice.name == "crl":
                crls.append(choice.chosen)
            elif choice.name == "other" and choice.chosen["other_rev_info_format"].dotted == "1.3.6.1.5.5.7.16.2":
                ocsps.append(asn1_ocsp.OCSPResponse.load(choice.chosen["other_rev_info"].dump()))
        for signer in signed_data["signer_infos"]:
            attrs = signer["unsigned_attrs"]
            for attr in attrs if present(attrs) else ():
                if attr["type"].dotted == "1.2.840.113549.1.9.16.2.24":
                    for values in attr["values"]:
                        for item in values["crl_vals"] or ():
                            crls.append(item)
                        for item in values["ocsp_vals"] or ():
                            ocsps.append(
                                asn1_ocsp.OCSPResponse(
                                    {
                                        "response_status": "successful",
                                        "response_bytes": {"response_type": "basic_ocsp_response", "response": item},
                                    }
                                )
                            )
    except PARSE_ERRORS:
        return [], []
    return well_formed(crls), well_formed(ocsps)


def _structure_problem(signer: cms.SignerInfo) -> str | None:
    """RFC 5652 §5.3 / §11: with signed attributes, content-type and message-digest MUST each be
    present exactly once."""
    attrs = signer["signed_attrs"]
    if not present(attrs):
        return None
    types = [a["type"].native for a in attrs]
    for required in ("content_type", "message_digest"):
        if types.count(required) != 1:
            return f"signed attribute {required} must be present exactly once"
    return None


@dataclass(frozen=True)
class _Signer:
    """What the report of one SignerInfo needs besides the verdict."""

    index: int
    fmt: str
    assessment: Assessment
    coverage: Coverage


def _failure(one: _Signer, verdict: Verdict, signer_cert: asn1_x509.Certificate | None) -> SignatureReport:
    return SignatureReport(
        id=f"cms-{one.index}",
        format=one.fmt,
        level=one.assessment.level,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        signer=signer_identity(signer_cert) if signer_cert is not None else None,
        claimed_signing_time=None,
        timestamps=(),
        certificate_chain=chain_of(None, [signer_cert] if signer_cert else []),
        revocation=(),
        coverage=one.coverage,
        warnings=tuple(_shape_warnings(one.fmt, one.assessment)) + ((verdict.reason,) if verdict.reason else ()),
        baseline=one.assessment.checks,
    )


def _shape_warnings(fmt: str, assessment: Assessment) -> list[str]:
    if fmt == "CMS":
        return ["plain CMS, not CAdES: no signing-certificate(-v2) signed attribute (EN 319 122-1 §5.2.2)"]
    missing = summary(assessment.checks[:1])
    return [missing] if missing else []


@dataclass
class _CMSInput:
    """The parts of one SignedData every SignerInfo's validation shares."""

    signed_data: cms.SignedData
    env: VerificationEnvironment
    coverage: Coverage
    attached: bool
    raw_digest: Callable[[str], bytes]
    all_certs: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    ocsps: list[asn1_ocsp.OCSPResponse]


async def validate_cms(
    signed_data: cms.SignedData,
    env: VerificationEnvironment,
    detached: list[Part],
    *,
    first_index: int = 0,
    max_signatures: int = 16,
) -> tuple[list[SignatureReport], list[str]]:
    """Validate every SignerInfo of ``signed_data`` (attached content, or the one detached part)."""
    warnings: list[str] = []
    shared = _cms_input(signed_data, env, detached)
    signers = list(signed_data["signer_infos"])
    if len(signers) > max_signatures:
        warnings.append(f"only the first {max_signatures} of {len(signers)} signatures were validated")
        signers = signers[:max_signatures]
    reports = []
    data = ValidationData(shared.all_certs, shared.crls, shared.ocsps)
    for offset, signer in enumerate(signers):
        report = await _validate_signer(shared, first_index + offset, signer)
        counters = await cms_counter_signatures(signer, report.id, data, env)
        reports.append(with_counter_signatures(report, counters))
    return reports, warnings


def _cms_input(signed_data: cms.SignedData, env: VerificationEnvironment, detached: list[Part]) -> _CMSInput:
    eci = signed_data["encap_content_info"]
    attached = present(eci["content"])
    if attached and detached:
        raise UnparseableDocumentError(
            "the CMS signature has attached content; do not send detached parts too", document_format="CAdES"
        )
    if not attached and len(detached) != 1:
        raise UnparseableDocumentError(
            "a detached CMS signature needs exactly one content part", document_format="CAdES"
        )
    content = bytes(eci["content"]) if attached else detached[0].data
    coverage = Coverage(
        kind="cms-attached" if attached else "cms-detached",
        detached_parts=() if attached else (detached[0].label,),
        content_sha256=hashlib.sha256(content).hexdigest(),
    )
    digests: dict[str, bytes] = {}

    def raw_digest(algorithm: str) -> bytes:
        if algorithm not in digests:
            h = hashes.Hash(get_pyca_cryptography_hash(algorithm))
            h.update(content)
            digests[algorithm] = h.finalize()
        return digests[algorithm]

    try:
        all_certs = (
            [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
            if present(signed_data["certificates"])
            else []
        )
        for signer in signed_data["signer_infos"]:
            all_certs.extend(certificate_values(signer))
    except PARSE_ERRORS:
        all_certs = []
    all_certs = well_formed(all_certs)
    crls, ocsps = embedded_revocation(signed_data)
    return _CMSInput(signed_data, env, coverage, attached, raw_digest, all_certs, crls, ocsps)


async def _validate_signer(shared: _CMSInput, index: int, signer: cms.SignerInfo) -> SignatureReport:
    fmt, assessment = cms_shape(shared.signed_data, signer)
    one_signer = _Signer(index, fmt, assessment, shared.coverage)
    one = _one_signer(shared.signed_data, signer)
    try:
        cert_info: SignedDataCerts = extract_certificate_info(one)
    except _EXTRACTION_ERRORS:
        missing = Verdict(
            Indication.INDETERMINATE,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            "the signer's certificate is not in the signature",
        )
        return _failure(one_signer, missing, None)
    structural = _structure_problem(signer)
    if structural is not None:
        verdict = Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, structural)
        return _failure(one_signer, verdict, cert_info.signer_cert)
    contexts = shared.env.contexts(other_certs=shared.all_certs, crls=shared.crls, ocsps=shared.ocsps)
    try:
        timing = await collect_timing_info(signer, contexts.timestamps, raw_digest=shared.raw_digest)
        algorithm = signer["digest_algorithm"]["algorithm"].native
        status = await async_validate_cms_signature(
            one,
            status_cls=StandardCMSSignatureStatus,
            raw_digest=None if shared.attached else shared.raw_digest(algorithm),
            validation_context=contexts.signer,
            status_kwargs=timing,
            key_usage_settings=SIGNER_KEY_USAGE,
        )
    except ph_errors.SignatureValidationError as exc:
        indic = exc.ades_subindication
        verdict = (
            verdict_from_ades(indic, exc.failure_message)
            if indic is not None
            else Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, exc.failure_message)
        )
        return _failure(one_signer, verdict, cert_info.signer_cert)
    except PARSE_ERRORS as exc:
        verdict = Verdict(
            Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, f"malformed signature ({type(exc).__name__})"
        )
        return _failure(one_signer, verdict, cert_info.signer_cert)
    archive = await _archive_stamps(shared, signer)
    return await report_from_status(
        f"cms-{index}",
        fmt,
        assessment.level,
        status,
        shared.coverage,
        shared.env,
        contexts,
        [cert_info.signer_cert, *cert_info.other_certs],
        crls=shared.crls,
        ocsps=shared.ocsps,
        extra_warnings=tuple(_shape_warnings(fmt, assessment)),
        baseline=assessment.checks,
        archive_stamps=tuple(archive),
    )


async def _archive_stamps(shared: _CMSInput, signer: cms.SignerInfo) -> list[TimestampInfo]:
    """The signer's archive-time-stamp-v3 tokens, validated (EN 319 122-1 §5.5.3, 319 102-1 §5.6.2)."""
    tokens = archive_tokens(shared.signed_data, signer, shared.raw_digest)
    data = ValidationData(shared.all_certs, shared.crls, shared.ocsps)
    return await validate_archive_tokens(tokens, shared.env, data)


async def report_from_status(
    sig_id: str,
    fmt: str,
    level: str,
    status: StandardCMSSignatureStatus,
    coverage: Coverage,
    env: VerificationEnvironment,
    contexts: VerificationContexts,
    certs: list[asn1_x509.Certificate],
    extra_verdicts: Callable[[], list[Verdict]] | None = None,
    extra_warnings: tuple[str, ...] = (),
    crls: list[asn1_crl.CertificateList] | None = None,
    ocsps: list[asn1_ocsp.OCSPResponse] | None = None,
    baseline: tuple[LevelCheck, ...] = (),
    archive_poe: datetime | None = None,
    archive_stamps: tuple[TimestampInfo, ...] = (),
) -> SignatureReport:
    """The report of a pyHanko status; ``archive_stamps`` are the validated archive timestamps
    (EN 319 102-1 §5.6.2: the earliest valid one is a proof of existence)."""
    archive_poe = archive_poe or earliest_valid(archive_stamps)
    verdict, contexts, poe_warnings = await _signer_verdict(
        status, env, contexts, certs, crls or [], ocsps or [], archive_poe
    )
    extra_warnings = (*extra_warnings, *poe_warnings)
    if verdict.indication is not Indication.TOTAL_FAILED:
        verdict = worst([verdict, *(extra_verdicts() if extra_verdicts else []), *archive_verdicts(archive_stamps)])
    timestamps: list[TimestampInfo] = []
    if status.timestamp_validity is not None:
        timestamps.append(timestamp_info("signature", status.timestamp_validity))
    if status.content_timestamp_validity is not None:
        timestamps.append(timestamp_info("content", status.content_timestamp_validity))
    timestamps.extend(archive_stamps)
    mechanism, digest = describe_mechanism(status)
    warnings = list(extra_warnings)
    if verdict.reason and verdict.indication is not Indication.TOTAL_PASSED:
        warnings.append(verdict.reason)
    evidence = env.evidence(contexts)
    return SignatureReport(
        id=sig_id,
        format=fmt,
        level=level,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        signer=signer_identity(status.signing_cert),
        claimed_signing_time=status.signer_reported_dt,
        timestamps=tuple(timestamps),
        certificate_chain=chain_of(status, certs),
        revocation=evidence,
        coverage=coverage,
        signature_algorithm=mechanism,
        digest_algorithm=digest,
        warnings=tuple(warnings),
        baseline=baseline,
    )


async def _signer_verdict(
    status: StandardCMSSignatureStatus,
    env: VerificationEnvironment,
    contexts: VerificationContexts,
    certs: list[asn1_x509.Certificate],
    crls: list[asn1_crl.CertificateList],
    ocsps: list[asn1_ocsp.OCSPResponse],
    archive_poe: datetime | None = None,
) -> tuple[Verdict, VerificationContexts, tuple[str, ...]]:
    """EN 319 102-1 §5.2.6, §5.5.4 and §5.6.2 for a pyHanko status: the verdict, the contexts whose
    evidence the report shows, and the proof-of-existence warning when one resolved a problem.
    The proof of existence is the signature timestamp or else ``archive_poe`` (the earliest valid
    archive / document timestamp covering the signature)."""
    warnings: tuple[str, ...] = ()
    verdict = await refine_chain_verdict(verdict_from_status(status), contexts.signer, status.signing_cert)
    listing = find_listing(status.validation_path, env.trust.crls, env.moment) if status.validation_path else None
    policy = await policy_verdict(status.validation_path, contexts.signer, env.trust)
    if policy is not None and verdict.indication is Indication.TOTAL_PASSED:
        verdict = policy
    if listing is not None and verdict.indication is not Indication.TOTAL_FAILED:
        # A consulted source that lists the certificate is the precise reason, whatever else
        # (missing revocation data in "require" mode) path validation reported.
        verdict = listing_verdict(listing)
    signature_poe = has_valid_timestamp(status)
    poe = ensure_utc(status.timestamp_validity.timestamp) if signature_poe else archive_poe  # type: ignore[union-attr]
    if verdict.sub_indication in POE_RESOLVABLE and poe is not None:
        later = await env.signer_valid_at(status.signing_cert, poe, certs, crls, ocsps)
        if later is not None and find_listing(later[1], env.trust.crls, poe) is None:
            verdict, (contexts, _path) = PASSED, later
            warnings = (POE_WARNING if signature_poe else ARCHIVE_POE_WARNING,)
        # Otherwise the proof of existence is not before the revocation: the indication stays
        # INDETERMINATE/REVOKED_NO_POE (EN 319 102-1 §5.5.4); it does not prove a later creation.
    return verdict, contexts, warnings
