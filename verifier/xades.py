"""XAdES / XML-DSig (ETSI EN 319 132-1, W3C XML Signature 1.1): enveloped, enveloping and detached,
B-B and B-T, via signxml for the cryptography and pyhanko-certvalidator for the path.

XML is parsed once with a hardened lxml parser (no DTD, no entities, no network, no huge trees);
documents with a DOCTYPE are refused. Only what signxml reports as signed is described, and a
reference that covers a fragment somewhere inside the document (rather than the whole document,
a ds:Object of the signature, or a detached part) is not accepted as TOTAL_PASSED: that is how
signature-wrapping attacks present themselves (W3C XML Signature Best Practices §2.1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
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
from pyhanko.sign.validation.generic_cms import validate_cert_usage, validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from signxml import SignatureConfiguration, XMLVerifier  # type: ignore[attr-defined]
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature, SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier  # type: ignore[attr-defined]

from core.clock import ensure_utc
from verifier.common import (
    PARSE_ERRORS,
    POE_RESOLVABLE,
    POE_WARNING,
    certificate_info,
    refine_chain_verdict,
    revoked_verdict,
    signer_identity,
    timestamp_info,
    verdict_from_ades,
)
from verifier.detect import Part
from verifier.environment import VerificationEnvironment
from verifier.errors import UnparseableDocumentError
from verifier.policy import MIN_RSA_BITS, SIGNER_KEY_USAGE
from verifier.report import (
    PASSED,
    Coverage,
    Indication,
    ReferenceInfo,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    Verdict,
    worst,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
NS = {"ds": DS, "xades": XADES, "xades141": XADES141}
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
_WEAK = re.compile(r"(sha1|md5)$|#(rsa|dsa|ecdsa|hmac)-sha1$", re.IGNORECASE)
_C14N_EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
MAX_CANDIDATE_CERTS = 5
_SIGNXML_ERRORS: tuple[type[BaseException], ...] = (SignXMLException, etree.LxmlError, *PARSE_ERRORS)
_TIMESTAMP_ERRORS: tuple[type[BaseException], ...] = (ph_errors.SignatureValidationError, binascii.Error, *PARSE_ERRORS)
_DER = Encoding.DER


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML: DTDs (and so XXE and entity expansion) are refused outright (→ 400)."""
    if _DOCTYPE.search(data):
        raise UnparseableDocumentError(
            "XML documents with a DOCTYPE or entity declarations are not accepted", document_format="XAdES"
        )
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise UnparseableDocumentError(f"the XML cannot be parsed: {str(exc)[:200]}", document_format="XAdES") from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise UnparseableDocumentError("XML documents with a DTD are not accepted", document_format="XAdES")
    for _ in root.iter(etree.Entity):
        raise UnparseableDocumentError("XML entity references are not accepted", document_format="XAdES")
    return root


def find_signatures(root: etree._Element) -> list[etree._Element]:
    """Top-level ds:Signature elements (not those nested in another signature)."""
    result = []
    for element in root.iter(f"{{{DS}}}Signature"):
        if not any(a.tag == f"{{{DS}}}Signature" for a in element.iterancestors()):
            result.append(element)
    return result


def _ids(root: etree._Element) -> dict[str, list[etree._Element]]:
    index: dict[str, list[etree._Element]] = {}
    for element in root.iter(etree.Element):
        for name, value in element.attrib.items():
            local = etree.QName(name).localname if isinstance(name, str) and name.startswith("{") else name
            if local in ("Id", "ID", "id"):
                index.setdefault(value, []).append(element)
    return index


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _certs(signature: etree._Element) -> list[x509.Certificate]:
    certs = []
    for node in signature.iterfind("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((node.text or "").split()))))
        except (ValueError, binascii.Error):
            continue
        if len(certs) >= MAX_CANDIDATE_CERTS:
            break
    return _signing_certificate_first(signature, certs)


_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}


def _signing_certificate_first(signature: etree._Element, certs: list[x509.Certificate]) -> list[x509.Certificate]:
    """Order candidates so the one named by xades:SigningCertificate(V2) (EN 319 132-1 §5.2.2) is
    tried first: each try re-canonicalises the document, so a signature padded with decoy
    certificates must not multiply the work."""
    path = "ds:Object/xades:QualifyingProperties/xades:SignedProperties/xades:SignedSignatureProperties/"
    for container in ("xades:SigningCertificateV2", "xades:SigningCertificate"):
        digest = signature.find(path + container + "/xades:Cert/xades:CertDigest", NS)
        if digest is None:
            continue
        method = digest.find("ds:DigestMethod", NS)
        value = digest.find("ds:DigestValue", NS)
        name = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        if name is None or value is None or not value.text:
            continue
        try:
            wanted = base64.b64decode("".join(value.text.split()))
        except (ValueError, binascii.Error):
            continue
        der = [c.public_bytes(_DER) for c in certs]
        named = [c for c, d in zip(certs, der, strict=True) if hashlib.new(name, d).digest() == wanted]
        return named + [c for c in certs if c not in named]
    return certs


def _level(signature: etree._Element) -> str:
    usp = signature.find(
        "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties", NS
    )
    if usp is None:
        return "B-B"
    if usp.find("xades141:ArchiveTimeStamp", NS) is not None or usp.find("xades:ArchiveTimeStamp", NS) is not None:
        return "B-LTA"
    if usp.find("xades:SignatureTimeStamp", NS) is None:
        return "B-B"
    if usp.find("xades:CertificateValues", NS) is not None and usp.find("xades:RevocationValues", NS) is not None:
        return "B-LT"
    return "B-T"


def _claimed_time(signature: etree._Element) -> datetime | None:
    node = signature.find(
        "ds:Object/xades:QualifyingProperties/xades:SignedProperties/xades:SignedSignatureProperties/xades:SigningTime",
        NS,
    )
    if node is None or not node.text:
        return None
    try:
        value = datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
        return ensure_utc(value) if value.tzinfo else None
    except ValueError:
        return None


def _embedded_revocation(
    signature: etree._Element,
) -> tuple[list[asn1_crl.CertificateList], list[asn1_ocsp.OCSPResponse]]:
    crls, ocsps = [], []
    base = "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties/"
    try:
        for node in signature.iterfind(base + "xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue", NS):
            crls.append(asn1_crl.CertificateList.load(base64.b64decode("".join((node.text or "").split()))))
        for node in signature.iterfind(
            base + "xades:RevocationValues/xades:OCSPValues/xades:EncapsulatedOCSPValue", NS
        ):
            ocsps.append(asn1_ocsp.OCSPResponse.load(base64.b64decode("".join((node.text or "").split()))))
    except (ValueError, binascii.Error):
        return [], []
    return crls, ocsps


class _DetachedC14NMixin:
    """libxml2 2.14 canonicalises a subtree wrongly when a descendant two or more levels below the
    apex is in a default namespace (it emits ``xmlns=""``), which breaks XML-DSig signatures made
    by xmlsec1 and Java/.NET tools. Canonicalising a standalone copy of the node (serialised with
    all in-scope namespace declarations) gives the W3C C14N result."""

    def _c14n(self, nodes: Any, algorithm: Any, inclusive_ns_prefixes: Any = None) -> bytes:
        items = nodes if isinstance(nodes, list) else [nodes]
        detached = [_standalone(n) for n in items]
        return super()._c14n(detached, algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)  # type: ignore[misc,no-any-return]


def _standalone(node: Any) -> Any:
    if (
        isinstance(node, etree._Element)
        and not isinstance(node, etree._Comment)
        and (node.getparent() is not None or len(node))
    ):
        return etree.fromstring(etree.tostring(node, with_tail=False), parser=hardened_parser())
    return node


class _TargetedMixin:
    """Verify the n-th top-level ds:Signature of the document (signxml otherwise takes the first)."""

    target_index = 0

    def _get_signature(self, root: etree._Element) -> etree._Element:
        if root.tag == f"{{{DS}}}Signature":
            return root
        found = find_signatures(root)
        if self.target_index >= len(found):
            raise InvalidInput("signature not found")
        return found[self.target_index]


class _XMLVerifier(_TargetedMixin, _DetachedC14NMixin, XMLVerifier):
    pass


class _XAdESVerifier(_TargetedMixin, _DetachedC14NMixin, XAdESVerifier):
    pass


def _verifier(kind: type[_XMLVerifier] | type[_XAdESVerifier], index: int) -> Any:
    verifier = kind()
    verifier.target_index = index
    return verifier


class _Outcome:
    def __init__(self) -> None:
        self.verdict: Verdict = PASSED
        self.warnings: list[str] = []
        self.references: list[ReferenceInfo] = []
        self.parts: list[str] = []


def _algorithm_check(signature: etree._Element) -> Verdict | None:
    """SHA-1/MD5 in SignatureMethod or a DigestMethod → CRYPTO_CONSTRAINTS_FAILURE."""
    algorithms = [n.get("Algorithm", "") for n in signature.iterfind("ds:SignedInfo/ds:SignatureMethod", NS)]
    algorithms += [n.get("Algorithm", "") for n in signature.iterfind("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS)]
    for algorithm in algorithms:
        if _WEAK.search(algorithm):
            return Verdict(
                Indication.INDETERMINATE,
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                f"algorithm {algorithm} is not accepted for new signatures",
            )
    return None


def _crypto_verify(
    data_root: etree._Element,
    signature: etree._Element,
    candidates: list[x509.Certificate],
    detached: list[Part],
    moment: datetime,
    is_xades: bool,
    index: int = 0,
) -> tuple[x509.Certificate | None, list[Any], Verdict]:
    """Try the candidate certificates with signxml; returns (signer, results, verdict)."""
    parts = {p.label: p.data for p in detached}

    def resolve(uri: str) -> bytes | None:
        return parts.get(uri)

    last = Verdict(Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE, "no certificate verifies the signature")
    if not candidates:
        return (
            None,
            [],
            Verdict(
                Indication.INDETERMINATE,
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                "the signature carries no X.509 certificate",
            ),
        )
    location = "./" if data_root is signature else ".//"
    for cert in candidates:
        # signxml checks the validity period; that judgement belongs to the path validation, so
        # hand it a time inside the certificate's period.
        when = min(max(moment, cert.not_valid_before_utc), cert.not_valid_after_utc)
        try:
            if is_xades:
                config: SignatureConfiguration = XAdESSignatureConfiguration(
                    location=location, expect_references=True, verification_time=when
                )
                results = _verifier(_XAdESVerifier, index).verify(
                    data_root, x509_cert=cert, expect_config=config, uri_resolver=resolve, parser=hardened_parser()
                )
            else:
                config = SignatureConfiguration(location=location, expect_references=True, verification_time=when)
                found = _verifier(_XMLVerifier, index).verify(
                    data_root, x509_cert=cert, expect_config=config, uri_resolver=resolve, parser=hardened_parser()
                )
                results = found if isinstance(found, list) else [found]
            return cert, list(results), PASSED
        except InvalidDigest as exc:
            if "certificate digest" in str(exc).lower():
                last = Verdict(
                    Indication.INDETERMINATE,
                    SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                    "the signing certificate does not match SigningCertificate",
                )
                continue
            return (
                cert,
                [],
                Verdict(Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, f"reference digest mismatch: {exc}"),
            )
        except InvalidInput as exc:
            message = str(exc)
            if "digest" in message.lower() and "certificate" in message.lower():
                last = Verdict(
                    Indication.INDETERMINATE,
                    SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                    "the signing certificate does not match SigningCertificate",
                )
                continue
            return cert, [], Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, message[:200])
        except InvalidSignature as exc:
            if "certificate digest" in str(exc).lower():
                last = Verdict(
                    Indication.INDETERMINATE,
                    SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                    "the signing certificate does not match SigningCertificate",
                )
            continue
        except _SIGNXML_ERRORS as exc:
            return (
                cert,
                [],
                Verdict(
                    Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, f"malformed signature ({type(exc).__name__})"
                ),
            )
    return None, [], last


def _coverage(root: etree._Element, signature: etree._Element, detached: list[Part], outcome: _Outcome) -> None:
    """Describe the references (from the signature signxml verified) and refuse partial coverage."""
    ids = _ids(root)
    covers_document = False
    for reference in signature.iterfind("ds:SignedInfo/ds:Reference", NS):
        uri = reference.get("URI")
        ref_type = reference.get("Type")
        digest = reference.find("ds:DigestMethod", NS)
        algorithm = digest.get("Algorithm", "") if digest is not None else ""
        if uri is None:
            outcome.verdict = worst(
                [
                    outcome.verdict,
                    Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, "a reference without URI"),
                ]
            )
            continue
        if uri == "":
            target = "document"
            covers_document = signature is not root
        elif uri.startswith("#"):
            found = ids.get(uri[1:], [])
            if len(found) != 1:
                outcome.verdict = worst(
                    [
                        outcome.verdict,
                        Verdict(
                            Indication.TOTAL_FAILED,
                            SubIndication.FORMAT_FAILURE,
                            f"reference {uri} is ambiguous or missing",
                        ),
                    ]
                )
                continue
            element = found[0]
            inside = element is signature or any(a is signature for a in element.iterancestors())
            if element is root and signature is not root:
                target = "document"
                covers_document = True
            elif inside and element.tag == f"{{{DS}}}Object" and element.getparent() is signature:
                target = f"ds:Object#{uri[1:]}"
                covers_document = covers_document or signature is root
            elif inside and (
                ref_type == SIGNED_PROPERTIES_TYPE
                or _local(element) in ("SignedProperties", "KeyInfo", "X509Data", "X509Certificate")
            ):
                target = f"{_local(element)}#{uri[1:]}"
            else:
                target = f"{_local(element)}#{uri[1:]}"
                outcome.verdict = worst(
                    [
                        outcome.verdict,
                        Verdict(
                            Indication.INDETERMINATE,
                            SubIndication.SIG_CONSTRAINTS_FAILURE,
                            f"reference {uri} covers only part of the document",
                        ),
                    ]
                )
        else:
            target = f"detached:{uri}"
            outcome.parts.append(uri)
        outcome.references.append(ReferenceInfo(uri=uri, type=ref_type, target=target, digest_algorithm=algorithm))
    if detached:
        missing = [p.label for p in detached if p.label not in outcome.parts]
        if missing:
            outcome.warnings.append(f"detached parts not covered by the signature: {', '.join(sorted(missing))}")
            outcome.verdict = worst(
                [
                    outcome.verdict,
                    Verdict(
                        Indication.INDETERMINATE,
                        SubIndication.SIG_CONSTRAINTS_FAILURE,
                        "a detached part is not covered by the signature",
                    ),
                ]
            )
    elif not covers_document and signature is not root:
        outcome.verdict = worst(
            [
                outcome.verdict,
                Verdict(
                    Indication.INDETERMINATE,
                    SubIndication.SIG_CONSTRAINTS_FAILURE,
                    "the signature does not cover the document it is embedded in",
                ),
            ]
        )


def _signature_value_c14n(signature: etree._Element, method: str | None) -> bytes:
    value = signature.find("ds:SignatureValue", NS)
    if value is None:
        raise ValueError("no SignatureValue")
    exclusive = bool(method and method.startswith(_C14N_EXCLUSIVE))
    with_comments = bool(method and method.endswith("#WithComments"))
    canonical: bytes = etree.tostring(
        _standalone(value), method="c14n", exclusive=exclusive, with_comments=with_comments
    )
    return canonical


async def _timestamps(signature: etree._Element, env_contexts: Any) -> list[tuple[TimestampInfo, bool]]:
    """EN 319 132-1 §5.3: SignatureTimeStamp over the canonicalised ds:SignatureValue."""
    found: list[tuple[TimestampInfo, bool]] = []
    base = "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties/"
    for stamp in signature.iterfind(base + "xades:SignatureTimeStamp", NS):
        method_node = stamp.find("ds:CanonicalizationMethod", NS)
        method = method_node.get("Algorithm") if method_node is not None else None
        token = stamp.find("xades:EncapsulatedTimeStamp", NS)
        try:
            if token is None or not token.text:
                raise ValueError("no EncapsulatedTimeStamp")
            info = cms.ContentInfo.load(base64.b64decode("".join(token.text.split())))
            signed_data = info["content"]
            covered = _signature_value_c14n(signature, method)

            def imprint(algorithm: str, covered: bytes = covered) -> bytes:
                h = hashlib.new(get_pyca_cryptography_hash(algorithm).name)
                h.update(covered)
                return h.digest()

            kwargs = await validate_tst_signed_data(signed_data, env_contexts.timestamps, imprint)
            status = TimestampSignatureStatus(**kwargs)
            ts = timestamp_info("signature", status)
            found.append((ts, ts.indication is Indication.TOTAL_PASSED))
        except _TIMESTAMP_ERRORS:
            found.append(
                (
                    TimestampInfo(
                        kind="signature",
                        time=None,
                        indication=Indication.TOTAL_FAILED,
                        sub_indication=SubIndication.FORMAT_FAILURE,
                    ),
                    False,
                )
            )
    return found


async def validate_xml(
    root: etree._Element, env: VerificationEnvironment, detached: list[Part], *, max_signatures: int = 16
) -> tuple[list[SignatureReport], list[str]]:
    signatures = find_signatures(root)
    warnings: list[str] = []
    reports: list[SignatureReport] = []
    for index, signature in enumerate(signatures[:max_signatures]):
        sig_id = signature.get("Id") or f"xml-{index}"
        is_xades = signature.find("ds:Object/xades:QualifyingProperties", NS) is not None
        level = _level(signature) if is_xades else "B-B"
        outcome = _Outcome()
        if not is_xades:
            outcome.warnings.append("XML-DSig signature without XAdES qualifying properties")
        candidates = _certs(signature)
        chain_certs = [asn1_x509.Certificate.load(c.public_bytes(_DER)) for c in candidates]
        weak = _algorithm_check(signature)
        cert, _results, verdict = _crypto_verify(root, signature, candidates, detached, env.moment, is_xades, index)
        outcome.verdict = weak or verdict
        if outcome.verdict.indication is Indication.TOTAL_FAILED or cert is None or weak is not None:
            _describe_only(signature, outcome)
            reports.append(
                _report(
                    sig_id,
                    level,
                    outcome,
                    cert,
                    _claimed_time(signature),
                    tuple(certificate_info(c) for c in candidates),
                    (),
                    (),
                    signature,
                )
            )
            continue
        _coverage(root, signature, detached, outcome)
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
            outcome.verdict = worst(
                [
                    outcome.verdict,
                    Verdict(
                        Indication.INDETERMINATE,
                        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                        f"RSA key of {key.key_size} bits",
                    ),
                ]
            )
        crls, ocsps = _embedded_revocation(signature)
        contexts = env.contexts(other_certs=chain_certs, crls=crls, ocsps=ocsps)
        stamps = await _timestamps(signature, contexts)
        signer_asn1 = asn1_x509.Certificate.load(cert.public_bytes(_DER))
        result = await validate_cert_usage(
            signer_asn1,
            contexts.signer,
            key_usage_settings=SIGNER_KEY_USAGE,
            paths=contexts.signer.path_builder.async_build_paths_lazy(signer_asn1),
        )
        path = result.success_result or result.error_path
        if result.error_subindic is not None:
            trust = verdict_from_ades(result.error_subindic, "certificate validation failed")
            if trust.sub_indication is SubIndication.REVOKED_NO_POE:
                trust = revoked_verdict(result.revo_details, None)
            trust = await refine_chain_verdict(trust, contexts.signer, signer_asn1)
            valid_stamps = [ts.time for ts, ok in stamps if ok and ts.time is not None]
            if trust.sub_indication in POE_RESOLVABLE and valid_stamps:
                later = await env.signer_valid_at(signer_asn1, min(valid_stamps), chain_certs, crls, ocsps)
                if later is not None:
                    trust, (contexts, path) = PASSED, later
                    outcome.warnings.append(POE_WARNING)
            outcome.verdict = worst([outcome.verdict, trust])
        elif result.success_result is None:
            outcome.verdict = worst(
                [
                    outcome.verdict,
                    Verdict(
                        Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no chain to a trust anchor"
                    ),
                ]
            )
        if any(not ok for _, ok in stamps):
            outcome.verdict = worst(
                [
                    outcome.verdict,
                    Verdict(
                        Indication.INDETERMINATE,
                        SubIndication.SIG_CONSTRAINTS_FAILURE,
                        "the signature timestamp does not validate",
                    ),
                ]
            )
        if path is not None:
            chain = tuple(certificate_info(c) for c in reversed(list(path.iter_certs(include_root=True))))
        else:
            chain = tuple(certificate_info(c) for c in candidates)
        reports.append(
            _report(
                sig_id,
                level,
                outcome,
                cert,
                _claimed_time(signature),
                chain,
                tuple(ts for ts, _ in stamps),
                env.evidence(contexts),
                signature,
            )
        )
    if len(signatures) > max_signatures:
        warnings.append(f"only the first {max_signatures} of {len(signatures)} signatures were examined")
    return reports, warnings


def _describe_only(signature: etree._Element, outcome: _Outcome) -> None:
    for reference in signature.iterfind("ds:SignedInfo/ds:Reference", NS):
        digest = reference.find("ds:DigestMethod", NS)
        outcome.references.append(
            ReferenceInfo(
                uri=reference.get("URI") or "",
                type=reference.get("Type"),
                target="not verified",
                digest_algorithm=digest.get("Algorithm", "") if digest is not None else "",
            )
        )


def _algorithm(signature: etree._Element | None, path: str) -> str | None:
    node = signature.find(path, NS) if signature is not None else None
    return str(node.get("Algorithm")) if node is not None and node.get("Algorithm") else None


def _report(
    sig_id: str,
    level: str,
    outcome: _Outcome,
    cert: x509.Certificate | None,
    claimed: datetime | None,
    chain: tuple[Any, ...],
    stamps: tuple[TimestampInfo, ...],
    evidence: tuple[Any, ...],
    signature: etree._Element | None = None,
) -> SignatureReport:
    verdict = outcome.verdict
    warnings = list(outcome.warnings)
    if verdict.reason and verdict.indication is not Indication.TOTAL_PASSED:
        warnings.append(verdict.reason)
    return SignatureReport(
        id=sig_id,
        format="XAdES",
        level=level,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        signer=signer_identity(cert) if cert is not None else None,
        claimed_signing_time=claimed,
        timestamps=stamps,
        certificate_chain=chain,
        revocation=evidence,
        coverage=Coverage(
            kind="xml-references", references=tuple(outcome.references), detached_parts=tuple(outcome.parts)
        ),
        signature_algorithm=_algorithm(signature, "ds:SignedInfo/ds:SignatureMethod"),
        digest_algorithm=_algorithm(signature, "ds:SignedInfo/ds:Reference/ds:DigestMethod"),
        warnings=tuple(warnings),
    )
