"""XAdES / XML-DSig references: the cryptographic check of SignedInfo and its references (signxml)
and what they cover.

Only what signxml reports as signed is described, and a reference that covers a fragment
somewhere inside the document (rather than the whole document, a ds:Object of the signature, or a
detached part) is not accepted as TOTAL_PASSED: that is how signature-wrapping attacks present
themselves (W3C XML Signature Best Practices §2.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography import x509
from lxml import etree  # type: ignore[import-untyped]
from signxml import SignatureConfiguration, XMLVerifier  # type: ignore[attr-defined]
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature, SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier  # type: ignore[attr-defined]

from verifier.common import PARSE_ERRORS
from verifier.detect import Part
from verifier.report import PASSED, Indication, ReferenceInfo, SubIndication, Verdict, worst
from verifier.xades_parsing import (
    DS,
    NS,
    SIGNED_PROPERTIES_TYPE,
    find_signatures,
    hardened_parser,
    ids,
    local_name,
    standalone,
)

_WEAK = re.compile(r"(sha1|md5)$|#(rsa|dsa|ecdsa|hmac)-sha1$", re.IGNORECASE)
_SIGNXML_ERRORS: tuple[type[BaseException], ...] = (SignXMLException, etree.LxmlError, *PARSE_ERRORS)
_CERT_MISMATCH = Verdict(
    Indication.INDETERMINATE,
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
    "the signing certificate does not match SigningCertificate",
)


class Outcome:
    """What the checks of one signature found so far: the worst verdict, warnings, references."""

    def __init__(self) -> None:
        self.verdict: Verdict = PASSED
        self.warnings: list[str] = []
        self.references: list[ReferenceInfo] = []
        self.parts: list[str] = []

    def add(self, verdict: Verdict) -> None:
        self.verdict = worst([self.verdict, verdict])


class _DetachedC14NMixin:
    """libxml2 2.14 canonicalises a subtree wrongly when a descendant two or more levels below the
    apex is in a default namespace (it emits ``xmlns=""``), which breaks XML-DSig signatures made
    by xmlsec1 and Java/.NET tools. Canonicalising a standalone copy of the node (serialised with
    all in-scope namespace declarations) gives the W3C C14N result."""

    def _c14n(self, nodes: Any, algorithm: Any, inclusive_ns_prefixes: Any = None) -> bytes:
        items = nodes if isinstance(nodes, list) else [nodes]
        detached = [standalone(n) for n in items]
        return super()._c14n(detached, algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)  # type: ignore[misc,no-any-return]


class _TargetedMixin:
    """Verify the n-th top-level ds:Signature of the document (signxml otherwise takes the first),
    or the one at ``target_path`` (a counter-signature nested in another signature)."""

    target_index = 0
    target_path: str | None = None

    def _get_signature(self, root: etree._Element) -> etree._Element:
        if self.target_path is not None:
            nested = root.find(self.target_path)
            if nested is None or nested.tag != f"{{{DS}}}Signature":
                raise InvalidInput("signature not found")
            return nested
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


def algorithm_check(signature: etree._Element) -> Verdict | None:
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


def crypto_verify(
    data_root: etree._Element,
    signature: etree._Element,
    candidates: list[x509.Certificate],
    detached: list[Part],
    moment: datetime,
    xades: bool,
    index: int = 0,
    reference_octets: list[bytes] | None = None,
    *,
    target_path: str | None = None,
) -> tuple[x509.Certificate | None, Verdict]:
    """Try the candidate certificates with signxml; returns (signer, verdict). When the signature
    verifies, ``reference_octets`` receives, per ds:Reference in order, the octets its digest was
    computed over (what an archive timestamp covers, EN 319 132-1 §5.5.2.2). ``target_path`` (an
    ElementPath from the document root, as ``getelementpath`` gives it) selects a nested signature
    instead of the ``index``-th one."""
    if not candidates:
        return None, Verdict(
            Indication.INDETERMINATE,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            "the signature carries no X.509 certificate",
        )
    parts = {p.label: p.data for p in detached}
    last = Verdict(Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE, "no certificate verifies the signature")
    for cert in candidates:
        verdict, final = _try_certificate(
            data_root, signature, cert, parts.get, moment, xades, (index, target_path), reference_octets
        )
        if final:
            return cert, verdict or last
        last = verdict or last
    return None, last


def _try_certificate(
    data_root: etree._Element,
    signature: etree._Element,
    cert: x509.Certificate,
    resolve: Callable[[str], bytes | None],
    moment: datetime,
    xades: bool,
    target: tuple[int, str | None],
    reference_octets: list[bytes] | None = None,
) -> tuple[Verdict | None, bool]:
    """(verdict, final): final when this certificate decides; otherwise the next one is tried."""
    location = "./" if data_root is signature else ".//"
    # signxml checks the validity period; that judgement belongs to the path validation, so hand
    # it a time inside the certificate's period.
    when = min(max(moment, cert.not_valid_before_utc), cert.not_valid_after_utc)
    kind: type[_XMLVerifier] | type[_XAdESVerifier] = _XAdESVerifier if xades else _XMLVerifier
    config_type = XAdESSignatureConfiguration if xades else SignatureConfiguration
    config = config_type(location=location, expect_references=True, verification_time=when)
    verifier = kind()
    verifier.target_index, verifier.target_path = target
    try:
        results = verifier.verify(
            data_root, x509_cert=cert, expect_config=config, uri_resolver=resolve, parser=hardened_parser()
        )
        if reference_octets is not None:
            reference_octets[:] = [r.signed_data for r in (results if isinstance(results, list) else [results])]
        return PASSED, True
    except InvalidDigest as exc:
        if "certificate digest" in str(exc).lower():
            return _CERT_MISMATCH, False
        return Verdict(Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, f"reference digest mismatch: {exc}"), True
    except InvalidInput as exc:
        message = str(exc)
        if "digest" in message.lower() and "certificate" in message.lower():
            return _CERT_MISMATCH, False
        return Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, message[:200]), True
    except InvalidSignature as exc:
        return (_CERT_MISMATCH if "certificate digest" in str(exc).lower() else None), False
    except _SIGNXML_ERRORS as exc:
        verdict = Verdict(
            Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, f"malformed signature ({type(exc).__name__})"
        )
        return verdict, True


def coverage(root: etree._Element, signature: etree._Element, detached: list[Part], outcome: Outcome) -> None:
    """Describe the references (from the signature signxml verified) and refuse partial coverage."""
    index = ids(root)
    covers_document = False
    for reference in signature.iterfind("ds:SignedInfo/ds:Reference", NS):
        uri = reference.get("URI")
        digest = reference.find("ds:DigestMethod", NS)
        algorithm = digest.get("Algorithm", "") if digest is not None else ""
        if uri is None:
            outcome.add(Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, "a reference without URI"))
            continue
        target, problem, covers = _target(uri, reference.get("Type"), root, signature, index)
        covers_document = covers_document or covers
        if problem is not None:
            outcome.add(problem)
        if target is None:
            continue
        if target.startswith("detached:"):
            outcome.parts.append(uri)
        outcome.references.append(
            ReferenceInfo(uri=uri, type=reference.get("Type"), target=target, digest_algorithm=algorithm)
        )
    _whole_coverage(root, signature, detached, outcome, covers_document)


def _target(
    uri: str,
    ref_type: str | None,
    root: etree._Element,
    signature: etree._Element,
    index: dict[str, list[etree._Element]],
) -> tuple[str | None, Verdict | None, bool]:
    """(what the reference covers or None, a problem, whether it covers the whole document)."""
    if uri == "":
        return "document", None, signature is not root
    if not uri.startswith("#"):
        return f"detached:{uri}", None, False
    found = index.get(uri[1:], [])
    if len(found) != 1:
        return (
            None,
            Verdict(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                f"reference {uri} is ambiguous or missing",
            ),
            False,
        )
    element = found[0]
    inside = element is signature or any(a is signature for a in element.iterancestors())
    if element is root and signature is not root:
        return "document", None, True
    if inside and element.tag == f"{{{DS}}}Object" and element.getparent() is signature:
        return f"ds:Object#{uri[1:]}", None, signature is root
    target = f"{local_name(element)}#{uri[1:]}"
    if inside and (
        ref_type == SIGNED_PROPERTIES_TYPE
        or local_name(element) in ("SignedProperties", "KeyInfo", "X509Data", "X509Certificate")
    ):
        return target, None, False
    partial = Verdict(
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
        f"reference {uri} covers only part of the document",
    )
    return target, partial, False


def _whole_coverage(
    root: etree._Element, signature: etree._Element, detached: list[Part], outcome: Outcome, covers_document: bool
) -> None:
    """Every detached part covered; an embedded signature covers the document it is in."""
    if detached:
        missing = [p.label for p in detached if p.label not in outcome.parts]
        if missing:
            outcome.warnings.append(f"detached parts not covered by the signature: {', '.join(sorted(missing))}")
            outcome.add(
                Verdict(
                    Indication.INDETERMINATE,
                    SubIndication.SIG_CONSTRAINTS_FAILURE,
                    "a detached part is not covered by the signature",
                )
            )
    elif not covers_document and signature is not root:
        outcome.add(
            Verdict(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "the signature does not cover the document it is embedded in",
            )
        )


def describe_only(signature: etree._Element, outcome: Outcome) -> None:
    """The references as listed, marked "not verified" (the signature itself did not verify)."""
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
