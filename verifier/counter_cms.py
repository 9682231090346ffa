"""CMS / CAdES counter-signatures (RFC 5652 §11.4, ETSI EN 319 122-1 §5.2.7).

A countersignature unsigned attribute holds SignerInfos over the signature value of the
SignerInfo that carries it: the "content" is the octets of that signer's ``signature`` field, so
the messageDigest attribute is the hash of those octets and a contentType attribute must not be
there. Each counter-signature is checked for that structure, its signer's certificate is found in
the SignedData certificates (issuerAndSerialNumber or subjectKeyIdentifier, and any
signing-certificate(-v2) attribute must match it), its signature value is verified, and its
certificate path is validated like a main signer's (:func:`verifier.counter.with_path`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from asn1crypto import cms
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from pyhanko.sign.general import check_ess_certid
from pyhanko.sign.validation.generic_cms import get_signing_cert_attr
from pyhanko_certvalidator.errors import DisallowedAlgorithmError
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator, SignatureValidationContext

from core.clock import ensure_utc
from verifier.archive import ValidationData, digest
from verifier.common import PARSE_ERRORS, present
from verifier.counter import MAX_COUNTER_SIGNATURES, CounterBase, Walk, failed, walk, with_path
from verifier.environment import VerificationEnvironment
from verifier.report import CounterSignatureReport, Indication, SubIndication, Verdict

COUNTER_SIGNATURE_OID = "1.2.840.113549.1.9.6"
_WEAK_DIGESTS = frozenset({"md5", "sha1", "md2", "md4"})


def counter_signer_infos(signer: cms.SignerInfo) -> list[cms.SignerInfo | None]:
    """The countersignature attribute values of ``signer``, each parsed on its own (None: one
    that is not a SignerInfo), at most one more than :data:`MAX_COUNTER_SIGNATURES`."""
    found: list[cms.SignerInfo | None] = []
    try:
        attrs = signer["unsigned_attrs"]
        for attr in attrs if present(attrs) else ():
            if attr["type"].dotted == COUNTER_SIGNATURE_OID:
                found.extend(_values(bytes(attr["values"].contents or b""), MAX_COUNTER_SIGNATURES + 1 - len(found)))
    except PARSE_ERRORS:
        found.append(None)
    return found[: MAX_COUNTER_SIGNATURES + 1]


def _values(contents: bytes, limit: int) -> list[cms.SignerInfo | None]:
    """Split the SET OF's contents into elements without trusting their type."""
    values: list[cms.SignerInfo | None] = []
    while contents and len(values) < limit:
        try:
            encoded = asn1_core.load(contents, strict=False).dump()
        except PARSE_ERRORS:
            values.append(None)
            break
        contents = contents[len(encoded) :]
        try:
            info = cms.SignerInfo.load(encoded, strict=True)
            info["sid"].native  # noqa: B018 - a non-SignerInfo fails here, not deep in the checks
            values.append(info)
        except PARSE_ERRORS:
            values.append(None)
    return values


async def cms_counter_signatures(
    signer: cms.SignerInfo, signer_id: str, data: ValidationData, env: VerificationEnvironment
) -> tuple[CounterSignatureReport, ...]:
    """Every counter-signature of ``signer`` (nested ones too), validated."""

    async def judge(
        child: cms.SignerInfo, parent: cms.SignerInfo, child_id: str, parent_id: str
    ) -> tuple[CounterSignatureReport, cms.SignerInfo | None]:
        return await _judge(child, parent, CounterBase(child_id, parent_id, "CMS"), data, env)

    return await walk(signer, signer_id, Walk("CMS", counter_signer_infos, judge))


async def _judge(
    counter: cms.SignerInfo,
    parent: cms.SignerInfo,
    base: CounterBase,
    data: ValidationData,
    env: VerificationEnvironment,
) -> tuple[CounterSignatureReport, cms.SignerInfo | None]:
    try:
        base = _describe(counter, base)
        target = bytes(parent["signature"].native)
        cert = _signer_certificate(counter, data.certs)
        verdict = _structure(counter) or _certificate_match(counter, cert) or _integrity(counter, target, cert)
    except PARSE_ERRORS as exc:
        reason = f"the counter-signature is not a well-formed SignerInfo ({type(exc).__name__})"
        return failed(base, Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, reason)), None
    if verdict is not None:
        return failed(base, verdict, cert), counter
    assert cert is not None  # _certificate_match reports a missing one
    return await with_path(base, cert, data, env), counter


def _describe(counter: cms.SignerInfo, base: CounterBase) -> CounterBase:
    """Format (CAdES with a signing-certificate(-v2) attribute, else CMS), claimed time, algorithms."""
    attrs = counter["signed_attrs"]
    types = [a["type"].native for a in attrs] if present(attrs) else []
    cades = "signing_certificate_v2" in types or "signing_certificate" in types
    return CounterBase(
        id=base.id,
        counters=base.counters,
        format="CAdES" if cades else "CMS",
        claimed_signing_time=_signing_time(counter),
        signature_algorithm=str(counter["signature_algorithm"]["algorithm"].native),
        digest_algorithm=str(counter["digest_algorithm"]["algorithm"].native),
    )


def _signing_time(counter: cms.SignerInfo) -> datetime | None:
    attrs = counter["signed_attrs"]
    for attr in attrs if present(attrs) else ():
        if attr["type"].native == "signing_time" and len(attr["values"]) == 1:
            value = attr["values"][0].native
            return ensure_utc(value) if isinstance(value, datetime) else None
    return None


def _structure(counter: cms.SignerInfo) -> Verdict | None:
    """RFC 5652 §11.4: no contentType attribute; §5.3: with signed attributes, exactly one
    messageDigest."""
    attrs = counter["signed_attrs"]
    if not present(attrs):
        return None
    types = [a["type"].native for a in attrs]
    if "content_type" in types:
        reason = "a counter-signature must not have a content-type attribute (RFC 5652 §11.4)"
        return Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, reason)
    if types.count("message_digest") != 1:
        reason = "signed attribute message_digest must be present exactly once"
        return Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, reason)
    return None


def _signer_certificate(
    counter: cms.SignerInfo, certs: Iterable[asn1_x509.Certificate]
) -> asn1_x509.Certificate | None:
    sid = counter["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if cert.issuer == wanted["issuer"] and cert.serial_number == wanted["serial_number"].native:
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    return None


def _certificate_match(counter: cms.SignerInfo, cert: asn1_x509.Certificate | None) -> Verdict | None:
    """EN 319 102-1 §5.2.3: the signer's certificate is in the SignedData and matches the
    signing-certificate(-v2) attribute when there is one."""
    if cert is None:
        reason = "the counter-signer's certificate is not in the signature"
        return Verdict(Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND, reason)
    attrs = counter["signed_attrs"]
    attr = get_signing_cert_attr(attrs) if present(attrs) else None
    if attr is not None and not check_ess_certid(cert, attr["certs"][0]):
        reason = "the counter-signer's certificate does not match its signing-certificate attribute"
        return Verdict(Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND, reason)
    return None


def _integrity(counter: cms.SignerInfo, target: bytes, cert: asn1_x509.Certificate | None) -> Verdict | None:
    """The messageDigest over the countered signature value (HASH_FAILURE), then the signature
    value (SIG_CRYPTO_FAILURE); weak or unknown algorithms are CRYPTO_CONSTRAINTS_FAILURE."""
    assert cert is not None
    algorithm = counter["digest_algorithm"]["algorithm"].native
    if algorithm in _WEAK_DIGESTS:
        reason = f"digest algorithm {algorithm} is not accepted"
        return Verdict(Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, reason)
    attrs = counter["signed_attrs"]
    signed = target
    if present(attrs):
        embedded = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
        if embedded != digest(algorithm, target):
            reason = "the counter-signature's message digest does not match the signature value it counters"
            return Verdict(Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, reason)
        signed = attrs.untag().dump()
    try:
        DefaultSignatureValidator().validate_signature(
            counter["signature"].native,
            signed,
            cert.public_key,
            counter["signature_algorithm"],
            context=SignatureValidationContext(contextual_md_algorithm=algorithm, prehashed=False),
        )
    except InvalidSignature:
        reason = "the counter-signature value does not verify"
        return Verdict(Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE, reason)
    except (DisallowedAlgorithmError, NotImplementedError, UnsupportedAlgorithm) as exc:
        reason = f"the counter-signature algorithm is not supported ({type(exc).__name__})"
        return Verdict(Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, reason)
    return None
