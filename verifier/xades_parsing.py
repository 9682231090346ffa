"""XAdES / XML-DSig parsing: the hardened parser, namespaces, and what a ds:Signature holds
(certificates, signing time, embedded revocation data, the elements the baseline levels require).

XML is parsed once with a hardened lxml parser (no DTD, no entities, no network, no huge trees);
documents with a DOCTYPE are refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import re
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]

from core.clock import ensure_utc
from verifier.common import well_formed
from verifier.errors import UnparseableDocumentError

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
NS = {"ds": DS, "xades": XADES, "xades141": XADES141}
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
_C14N_EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
MAX_CANDIDATE_CERTS = 5
MAX_VALIDATION_CERTS = 64
_DER = Encoding.DER
_QP = "ds:Object/xades:QualifyingProperties/"
_SSP = _QP + "xades:SignedProperties/xades:SignedSignatureProperties/"
_USP = _QP + "xades:UnsignedProperties/xades:UnsignedSignatureProperties/"


def is_xades(signature: etree._Element) -> bool:
    """XAdES needs xades:QualifyingProperties (EN 319 132-1 §4.3); without them it is XML-DSig."""
    return signature.find("ds:Object/xades:QualifyingProperties", NS) is not None


def xades_elements(signature: etree._Element) -> set[str]:
    """The baseline-relevant elements (names of :mod:`verifier.baseline`) of a XAdES signature."""
    found: set[str] = set()
    for reference in signature.iterfind("ds:SignedInfo/ds:Reference", NS):
        if reference.get("Type") == SIGNED_PROPERTIES_TYPE:
            found.add("SignedProperties")
    for name in ("SigningCertificateV2", "SigningCertificate", "SigningTime"):
        if signature.find(_SSP + "xades:" + name, NS) is not None:
            found.add(name)
    for name in ("SignatureTimeStamp", "CertificateValues", "RevocationValues"):
        if signature.find(_USP + "xades:" + name, NS) is not None:
            found.add(name)
    if signature.find(_USP + "xades141:ArchiveTimeStamp", NS) is not None:
        found.add("ArchiveTimeStamp")
    if signature.find(_USP + "xades:ArchiveTimeStamp", NS) is not None:
        found.add("ArchiveTimeStamp")
    return found


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


def ids(root: etree._Element) -> dict[str, list[etree._Element]]:
    index: dict[str, list[etree._Element]] = {}
    for element in root.iter(etree.Element):
        for name, value in element.attrib.items():
            local = etree.QName(name).localname if isinstance(name, str) and name.startswith("{") else name
            if local in ("Id", "ID", "id"):
                index.setdefault(value, []).append(element)
    return index


def local_name(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def candidate_certificates(signature: etree._Element) -> list[x509.Certificate]:
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


def claimed_time(signature: etree._Element) -> datetime | None:
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


def certificate_values(signature: etree._Element) -> list[asn1_x509.Certificate]:
    """xades:CertificateValues (EN 319 132-1 §5.4.1): certificates offered as validation data."""
    found = []
    for node in signature.iterfind(_USP + "xades:CertificateValues/xades:EncapsulatedX509Certificate", NS):
        try:
            cert = asn1_x509.Certificate.load(base64.b64decode("".join((node.text or "").split()), validate=True))
            cert.native  # noqa: B018 - a broken certificate is skipped here, not deep in path building
        except (ValueError, TypeError, binascii.Error):
            continue
        found.append(cert)
        if len(found) >= MAX_VALIDATION_CERTS:
            break
    return found


def embedded_revocation(
    signature: etree._Element,
) -> tuple[list[asn1_crl.CertificateList], list[asn1_ocsp.OCSPResponse]]:
    """xades:RevocationValues (EN 319 132-1 §5.4.2); entries that do not parse are left out."""
    crls, ocsps = [], []
    base = _USP + "xades:RevocationValues/"
    for node in signature.iterfind(base + "xades:CRLValues/xades:EncapsulatedCRLValue", NS):
        with contextlib.suppress(ValueError, TypeError, binascii.Error):
            crls.append(asn1_crl.CertificateList.load(base64.b64decode("".join((node.text or "").split()))))
    for node in signature.iterfind(base + "xades:OCSPValues/xades:EncapsulatedOCSPValue", NS):
        with contextlib.suppress(ValueError, TypeError, binascii.Error):
            ocsps.append(asn1_ocsp.OCSPResponse.load(base64.b64decode("".join((node.text or "").split()))))
    return well_formed(crls[:MAX_VALIDATION_CERTS]), well_formed(ocsps[:MAX_VALIDATION_CERTS])


def standalone(node: Any) -> Any:
    if (
        isinstance(node, etree._Element)
        and not isinstance(node, etree._Comment)
        and (node.getparent() is not None or len(node))
    ):
        return etree.fromstring(etree.tostring(node, with_tail=False), parser=hardened_parser())
    return node


def signature_value_c14n(signature: etree._Element, method: str | None) -> bytes:
    value = signature.find("ds:SignatureValue", NS)
    if value is None:
        raise ValueError("no SignatureValue")
    exclusive = bool(method and method.startswith(_C14N_EXCLUSIVE))
    with_comments = bool(method and method.endswith("#WithComments"))
    canonical: bytes = etree.tostring(
        standalone(value), method="c14n", exclusive=exclusive, with_comments=with_comments
    )
    return canonical


def algorithm_of(signature: etree._Element | None, path: str) -> str | None:
    node = signature.find(path, NS) if signature is not None else None
    return str(node.get("Algorithm")) if node is not None and node.get("Algorithm") else None
