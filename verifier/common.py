"""Shared pieces of the format validators: pyHanko statuses → EN 319 102-1 verdicts, and the
certificate descriptions of the report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESSubIndic
from pyhanko_certvalidator.errors import PathBuildingError

from core.clock import ensure_utc
from verifier.report import (
    PASSED,
    CertificateInfo,
    Indication,
    SignerIdentity,
    SubIndication,
    TimestampInfo,
    Verdict,
)

# Errors a hostile or broken structure can raise from the ASN.1/PDF/XML libraries.
PARSE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    NotImplementedError,
    LookupError,
)


def well_formed(items: Iterable[Any]) -> list[Any]:
    """The ASN.1 objects (embedded certificates, CRLs, OCSP responses) that parse completely:
    asn1crypto parses lazily, so a broken field deep inside would otherwise fail later, inside the
    path validator. Broken ones are left out (the document offers them; nothing requires them)."""
    result = []
    for item in items:
        try:
            _parse_used_parts(item)
        except PARSE_ERRORS:
            continue
        result.append(item)
    return result


def _parse_used_parts(item: Any) -> None:
    """Everything the validators read. An OCSP response's extensions are not: BDOC/DigiDoc
    clients send a nonce that is not wrapped in an OCTET STRING (RFC 9654 §2.1 practice) and the
    responder echoes it, which asn1crypto's nonce specification cannot parse."""
    if isinstance(item, asn1_ocsp.OCSPResponse):
        item["response_status"].native  # noqa: B018
        if item["response_status"].native != "successful":
            return
        basic = item.basic_ocsp_response
        data = basic["tbs_response_data"]
        for name in ("responder_id", "produced_at", "responses"):
            data[name].native  # noqa: B018
        for name in ("signature_algorithm", "signature", "certs"):
            basic[name].native  # noqa: B018
        return
    item.native  # noqa: B018


def present(value: Any) -> bool:
    """An optional ASN.1 field is there (cheap: does not parse it, unlike ``.native``)."""
    return not isinstance(value, asn1_core.Void)


def verdict_from_ades(indic: AdESSubIndic, reason: str | None = None) -> Verdict:
    name = indic.name if isinstance(indic, (AdESFailure, AdESIndeterminate)) else "GENERIC"
    sub = SubIndication[name] if name in SubIndication.__members__ else SubIndication.GENERIC
    indication = Indication.TOTAL_FAILED if isinstance(indic, AdESFailure) else Indication.INDETERMINATE
    return Verdict(indication, sub, reason)


def verdict_from_status(status: Any) -> Verdict:
    """EN 319 102-1 §5.2 order: format/crypto first (TOTAL_FAILED), then the X.509 validation
    (§5.2.6) as pyhanko-certvalidator reported it, then timestamps."""
    if not status.intact:
        return Verdict(
            Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, "the digest of the signed data does not match"
        )
    if not status.valid:
        return Verdict(Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE, "the signature value does not verify")
    indic = getattr(status, "trust_problem_indic", None)
    if indic is not None:
        verdict = verdict_from_ades(indic, "certificate validation failed")
        if verdict.sub_indication in (SubIndication.REVOKED_NO_POE, SubIndication.REVOKED):
            return revoked_verdict(getattr(status, "revocation_details", None), content_poe(status))
        return verdict
    if getattr(status, "revoked", False):
        return revoked_verdict(getattr(status, "revocation_details", None), content_poe(status))
    if not status.trusted:
        return Verdict(Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no chain to a trust anchor")
    ts = getattr(status, "timestamp_validity", None)
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        return Verdict(
            Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE, "the signature timestamp does not validate"
        )
    return PASSED


SUSPENDED = Verdict(
    Indication.INDETERMINATE,
    SubIndication.TRY_LATER,
    "the signing certificate is suspended (on hold): validate again when the hold is lifted or ends",
)
REVOKED_NO_POE = Verdict(
    Indication.INDETERMINATE,
    SubIndication.REVOKED_NO_POE,
    "the signing certificate is revoked and nothing proves the signature existed before the revocation",
)


def revoked_verdict(details: Any, created_not_before: datetime | None) -> Verdict:
    """EN 319 102-1 for a signing certificate found revoked at the validation time.

    - on hold (certificateHold): INDETERMINATE/TRY_LATER — the status may still change either way
      (§5.2.6: suspension; EU DSS gives the same);
    - a revoked CA certificate: INDETERMINATE/REVOKED_CA_NO_POE (§5.2.6);
    - TOTAL_FAILED/REVOKED only when a proof shows the signature was created at or after the
      revocation time, i.e. a valid content timestamp not before it (§5.3.4 and Table 5);
    - otherwise INDETERMINATE/REVOKED_NO_POE (§5.2.6.4): a proof of existence before the
      revocation (a signature or archive timestamp, §5.5.4 / §5.6.2) can still resolve it.
    """
    reason = getattr(getattr(details, "revocation_reason", None), "native", None)
    if reason == "certificate_hold":
        return SUSPENDED
    if getattr(details, "ca_revoked", False):
        return Verdict(
            Indication.INDETERMINATE, SubIndication.REVOKED_CA_NO_POE, "a CA certificate of the chain is revoked"
        )
    revoked_at = getattr(details, "revocation_date", None)
    if revoked_at is not None and created_not_before is not None and created_not_before >= revoked_at:
        return Verdict(
            Indication.TOTAL_FAILED,
            SubIndication.REVOKED,
            "the signing certificate is revoked and a content timestamp proves the signature was made after it",
        )
    return REVOKED_NO_POE


def content_poe(status: Any) -> datetime | None:
    """The time of a valid content timestamp: the signature was created no earlier (§5.3.4)."""
    ts = getattr(status, "content_timestamp_validity", None)
    if ts is not None and ts.intact and ts.valid and ts.trusted:
        return ensure_utc(ts.timestamp)
    return None


async def refine_chain_verdict(verdict: Verdict, context: Any, cert: Any) -> Verdict:
    """certvalidator reports an untrusted self-signed or foreign certificate as a constraints
    failure; when no path to any trust anchor exists at all, EN 319 102-1 calls it
    NO_CERTIFICATE_CHAIN_FOUND."""
    if verdict.sub_indication not in (
        SubIndication.CHAIN_CONSTRAINTS_FAILURE,
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
    ):
        return verdict
    try:
        await context.path_builder.async_build_paths(cert)
        return verdict
    except PathBuildingError:
        return Verdict(Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no chain to a trust anchor")
    except PARSE_ERRORS:
        return verdict


# Indications a proof of existence before the problem can resolve (EN 319 102-1 §5.5.4).
POE_RESOLVABLE = frozenset(
    {
        SubIndication.REVOKED_NO_POE,
        SubIndication.TRY_LATER,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
        SubIndication.OUT_OF_BOUNDS_NOT_REVOKED,
        SubIndication.EXPIRED,
    }
)
POE_WARNING = "the signing certificate was validated at the time of the signature timestamp (proof of existence)"
ARCHIVE_POE_WARNING = (
    "the signing certificate was validated at the time of an archive timestamp "
    "(proof of existence, EN 319 102-1 §5.6.2)"
)


def has_valid_timestamp(status: Any) -> bool:
    ts = getattr(status, "timestamp_validity", None)
    return bool(ts is not None and ts.intact and ts.valid and ts.trusted)


def timestamp_info(kind: str, ts: Any) -> TimestampInfo:
    verdict = verdict_from_status(ts)
    tsa = None
    cert = getattr(ts, "signing_cert", None)
    if cert is not None:
        tsa = dn(to_crypto(cert).subject)
    when = getattr(ts, "timestamp", None)
    return TimestampInfo(
        kind=kind,
        time=ensure_utc(when) if when else None,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        tsa=tsa,
    )


# RFC 4514 names for the attributes EN 319 412-2 puts in natural-person certificates.
_NAME_OVERRIDES = {
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.SURNAME: "surname",
    NameOID.GIVEN_NAME: "givenName",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
    NameOID.PSEUDONYM: "pseudonym",
    NameOID.TITLE: "title",
}


def dn(name: x509.Name) -> str:
    return name.rfc4514_string(attr_name_overrides=_NAME_OVERRIDES)


def to_crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


def certificate_info(cert: asn1_x509.Certificate | x509.Certificate) -> CertificateInfo:
    c = cert if isinstance(cert, x509.Certificate) else to_crypto(cert)
    from cryptography.hazmat.primitives.serialization import Encoding

    return CertificateInfo(
        subject=dn(c.subject),
        issuer=dn(c.issuer),
        serial=format(c.serial_number, "X"),
        fingerprint_sha256=fingerprint(c.public_bytes(Encoding.DER)),
        not_before=c.not_valid_before_utc,
        not_after=c.not_valid_after_utc,
    )


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def signer_identity(cert: asn1_x509.Certificate | x509.Certificate) -> SignerIdentity:
    """Name and EN 319 412-1 §5.1.3 semantics identifier (subject serialNumber, e.g. PNOPL-…)."""
    c = cert if isinstance(cert, x509.Certificate) else to_crypto(cert)
    subject = c.subject
    name = _attr(subject, NameOID.COMMON_NAME)
    if name is None:
        parts = [p for p in (_attr(subject, NameOID.GIVEN_NAME), _attr(subject, NameOID.SURNAME)) if p]
        name = " ".join(parts) or None
    info = certificate_info(c)
    return SignerIdentity(
        name=name,
        semantics_identifier=_attr(subject, NameOID.SERIAL_NUMBER),
        subject=info.subject,
        issuer=info.issuer,
        serial=info.serial,
        fingerprint_sha256=info.fingerprint_sha256,
    )


def chain_of(status: Any, fallback: Iterable[asn1_x509.Certificate]) -> tuple[CertificateInfo, ...]:
    """The validated path (end entity first) or, without one, the certificates the document holds."""
    path = getattr(status, "validation_path", None)
    if path is not None:
        try:
            certs = list(path.iter_certs(include_root=True))
            return tuple(certificate_info(c) for c in reversed(certs))
        except (AttributeError, TypeError):
            pass
    seen: set[bytes] = set()
    result = []
    for cert in fallback:
        der = cert.dump()
        if der not in seen:
            seen.add(der)
            result.append(certificate_info(cert))
    return tuple(result)


def describe_mechanism(status: Any) -> tuple[str | None, str | None]:
    return getattr(status, "pkcs7_signature_mechanism", None), getattr(status, "md_algorithm", None)
