"""XAdES / XML-DSig validation (ETSI EN 319 132-1, W3C XML Signature 1.1): enveloped, enveloping and
detached signatures, via signxml for the cryptography (:mod:`verifier.xades_references`) and
pyhanko-certvalidator for the path and the signature timestamps."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]
from pyhanko.sign.validation import errors as ph_errors
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from verifier.archive import ValidationData, archive_verdicts, earliest_valid, validate_archive_tokens
from verifier.baseline import Assessment, assess, summary
from verifier.common import (
    ARCHIVE_POE_WARNING,
    PARSE_ERRORS,
    POE_RESOLVABLE,
    POE_WARNING,
    certificate_info,
    signer_identity,
    timestamp_info,
)
from verifier.counter_xades import xades_counter_signatures
from verifier.detect import Part
from verifier.environment import VerificationEnvironment
from verifier.listed import find_listing
from verifier.paths import PathOutcome, validate_certificate_path
from verifier.policy import MIN_RSA_BITS, VerificationContexts
from verifier.report import (
    PASSED,
    Coverage,
    Indication,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    Verdict,
    with_counter_signatures,
)
from verifier.xades_archive import archive_tokens
from verifier.xades_parsing import (
    NS,
    algorithm_of,
    candidate_certificates,
    certificate_values,
    claimed_time,
    embedded_revocation,
    find_signatures,
    is_xades,
    signature_value_c14n,
    xades_elements,
)
from verifier.xades_references import Outcome, algorithm_check, coverage, crypto_verify, describe_only

_TIMESTAMP_ERRORS: tuple[type[BaseException], ...] = (ph_errors.SignatureValidationError, binascii.Error, *PARSE_ERRORS)
_DER = Encoding.DER
_NOT_XADES = "plain XML-DSig, not XAdES: no xades:QualifyingProperties (EN 319 132-1 §4.3)"


async def validate_xml(
    root: etree._Element,
    env: VerificationEnvironment,
    detached: list[Part],
    *,
    max_signatures: int = 16,
    counter_parts: list[Part] | None = None,
) -> tuple[list[SignatureReport], list[str]]:
    """Validate every top-level ds:Signature of ``root`` (at most ``max_signatures``) and its
    counter-signatures, which may also reference files of ``counter_parts`` (default: ``detached``)."""
    signatures = find_signatures(root)
    reports = []
    for index, signature in enumerate(signatures[:max_signatures]):
        report = await _validate_signature(root, signature, index, env, detached)
        parts = detached if counter_parts is None else counter_parts
        counters = await xades_counter_signatures(root, signature, report.id, env, parts)
        reports.append(with_counter_signatures(report, counters))
    warnings = []
    if len(signatures) > max_signatures:
        warnings.append(f"only the first {max_signatures} of {len(signatures)} signatures were examined")
    return reports, warnings


@dataclass(frozen=True)
class _Shape:
    format: str
    assessment: Assessment


def _shape(signature: etree._Element, outcome: Outcome) -> _Shape:
    """XAdES (with its baseline assessment) or plain XML-DSig, which meets no baseline level."""
    xades = is_xades(signature)
    assessment = assess("XAdES", xades_elements(signature) if xades else set())
    if not xades:
        outcome.warnings.append(_NOT_XADES)
        return _Shape("XML-DSig", Assessment("none", assessment.checks))
    missing = summary(assessment.checks[:1])
    if missing:
        outcome.warnings.append(missing)
    return _Shape("XAdES", assessment)


async def _validate_signature(
    root: etree._Element, signature: etree._Element, index: int, env: VerificationEnvironment, detached: list[Part]
) -> SignatureReport:
    sig_id = signature.get("Id") or f"xml-{index}"
    outcome = Outcome()
    shape = _shape(signature, outcome)
    candidates = candidate_certificates(signature)
    weak = algorithm_check(signature)
    xades = shape.format == "XAdES"
    octets: list[bytes] = []
    cert, verdict = crypto_verify(root, signature, candidates, detached, env.moment, xades, index, octets)
    outcome.verdict = weak or verdict
    if outcome.verdict.indication is Indication.TOTAL_FAILED or cert is None or weak is not None:
        describe_only(signature, outcome)
        chain = tuple(certificate_info(c) for c in candidates)
        return _report(sig_id, shape, outcome, cert, signature, chain, (), ())
    coverage(root, signature, detached, outcome)
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        outcome.add(
            Verdict(
                Indication.INDETERMINATE,
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                f"RSA key of {key.key_size} bits",
            )
        )
    chain, stamps, evidence = await _validate_path(signature, cert, candidates, env, outcome, octets)
    return _report(sig_id, shape, outcome, cert, signature, chain, stamps, evidence)


@dataclass
class _Signer:
    """The signer's certificate and the validation data the document offers for its path."""

    cert: asn1_x509.Certificate
    chain_certs: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    ocsps: list[asn1_ocsp.OCSPResponse]
    contexts: VerificationContexts


async def _validate_path(
    signature: etree._Element,
    cert: x509.Certificate,
    candidates: list[x509.Certificate],
    env: VerificationEnvironment,
    outcome: Outcome,
    reference_octets: list[bytes],
) -> tuple[tuple[Any, ...], tuple[TimestampInfo, ...], tuple[Any, ...]]:
    """EN 319 102-1 §5.2.6 path validation with POE from signature timestamps (§5.5.4) or archive
    timestamps (§5.6.2), the embedded CertificateValues and RevocationValues as validation data;
    returns (certificate chain, timestamps, revocation evidence) for the report."""
    chain_certs = [asn1_x509.Certificate.load(c.public_bytes(_DER)) for c in candidates]
    chain_certs += certificate_values(signature)
    crls, ocsps = embedded_revocation(signature)
    contexts = env.contexts(other_certs=chain_certs, crls=crls, ocsps=ocsps)
    signer = _Signer(asn1_x509.Certificate.load(cert.public_bytes(_DER)), chain_certs, crls, ocsps, contexts)
    stamps = await _timestamps(signature, contexts)
    archive = await validate_archive_tokens(
        archive_tokens(signature, reference_octets), env, ValidationData(chain_certs, crls, ocsps)
    )
    checked = await validate_certificate_path(signer.cert, contexts.signer, env.trust, env.moment)
    path = checked.path
    trust, later, warning = await _with_poe(checked, signer, stamps, archive, env)
    if later is not None:
        contexts, path = later
        outcome.warnings.append(warning)
    outcome.add(trust)
    for problem in archive_verdicts(archive):
        outcome.add(problem)
    if any(not ok for _, ok in stamps):
        outcome.add(
            Verdict(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "the signature timestamp does not validate",
            )
        )
    if path is not None:
        chain = tuple(certificate_info(c) for c in reversed(list(path.iter_certs(include_root=True))))
    else:
        chain = tuple(certificate_info(c) for c in candidates)
    return chain, (*(ts for ts, _ in stamps), *archive), env.evidence(contexts)


async def _with_poe(
    checked: PathOutcome,
    signer: _Signer,
    stamps: list[tuple[TimestampInfo, bool]],
    archive: list[TimestampInfo],
    env: VerificationEnvironment,
) -> tuple[Verdict, Any, str]:
    """The path verdict and, when a valid signature timestamp (EN 319 102-1 §5.5.4) or else a
    valid archive timestamp (§5.6.2) proves existence at a time the signer was still valid,
    PASSED with the (contexts, path) at that time and the warning saying which proof it was."""
    valid_stamps = [ts.time for ts, ok in stamps if ok and ts.time is not None]
    poe = min(valid_stamps) if valid_stamps else earliest_valid(archive)
    warning = POE_WARNING if valid_stamps else ARCHIVE_POE_WARNING
    if checked.verdict.sub_indication not in POE_RESOLVABLE or poe is None:
        return checked.verdict, None, warning
    if checked.listing is not None and poe >= checked.listing.revoked_at:
        return checked.verdict, None, warning
    later = await env.signer_valid_at(signer.cert, poe, signer.chain_certs, signer.crls, signer.ocsps)
    if later is not None and find_listing(later[1], env.trust.crls, poe) is None:
        return PASSED, later, warning
    return checked.verdict, None, warning


async def _timestamps(signature: etree._Element, env_contexts: Any) -> list[tuple[TimestampInfo, bool]]:
    """EN 319 132-1 §5.3: SignatureTimeStamp over the canonicalised ds:SignatureValue."""
    found: list[tuple[TimestampInfo, bool]] = []
    base = "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties/"
    for stamp in signature.iterfind(base + "xades:SignatureTimeStamp", NS):
        try:
            ts = await _signature_timestamp(signature, stamp, env_contexts)
            found.append((ts, ts.indication is Indication.TOTAL_PASSED))
        except _TIMESTAMP_ERRORS:
            failed = TimestampInfo(
                kind="signature",
                time=None,
                indication=Indication.TOTAL_FAILED,
                sub_indication=SubIndication.FORMAT_FAILURE,
            )
            found.append((failed, False))
    return found


async def _signature_timestamp(signature: etree._Element, stamp: etree._Element, env_contexts: Any) -> TimestampInfo:
    method_node = stamp.find("ds:CanonicalizationMethod", NS)
    method = method_node.get("Algorithm") if method_node is not None else None
    token = stamp.find("xades:EncapsulatedTimeStamp", NS)
    if token is None or not token.text:
        raise ValueError("no EncapsulatedTimeStamp")
    info = cms.ContentInfo.load(base64.b64decode("".join(token.text.split())))
    covered = signature_value_c14n(signature, method)

    def imprint(algorithm: str) -> bytes:
        h = hashlib.new(get_pyca_cryptography_hash(algorithm).name)
        h.update(covered)
        return h.digest()

    kwargs = await validate_tst_signed_data(info["content"], env_contexts.timestamps, imprint)
    return timestamp_info("signature", TimestampSignatureStatus(**kwargs))


def _report(
    sig_id: str,
    shape: _Shape,
    outcome: Outcome,
    cert: x509.Certificate | None,
    signature: etree._Element,
    chain: tuple[Any, ...],
    stamps: tuple[TimestampInfo, ...],
    evidence: tuple[Any, ...],
) -> SignatureReport:
    verdict = outcome.verdict
    warnings = list(outcome.warnings)
    if verdict.reason and verdict.indication is not Indication.TOTAL_PASSED:
        warnings.append(verdict.reason)
    return SignatureReport(
        id=sig_id,
        format=shape.format,
        level=shape.assessment.level,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        signer=signer_identity(cert) if cert is not None else None,
        claimed_signing_time=claimed_time(signature),
        timestamps=stamps,
        certificate_chain=chain,
        revocation=evidence,
        coverage=Coverage(
            kind="xml-references", references=tuple(outcome.references), detached_parts=tuple(outcome.parts)
        ),
        signature_algorithm=algorithm_of(signature, "ds:SignedInfo/ds:SignatureMethod"),
        digest_algorithm=algorithm_of(signature, "ds:SignedInfo/ds:Reference/ds:DigestMethod"),
        warnings=tuple(warnings),
        baseline=shape.assessment.checks,
    )
