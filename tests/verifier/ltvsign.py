"""Adding archive timestamps to signatures made by other tools, written from the standards' text
(not from the verifier's code): no independent producer of CAdES archive-time-stamp-v3 or XAdES
ArchiveTimeStamp is installable here (see vectors/README.md), so the tests build them byte by byte:

- CAdES (ETSI EN 319 122-1 §5.5.2 ats-hash-index-v3, §5.5.3 archive-time-stamp-v3);
- XAdES (ETSI EN 319 132-1 §5.5.2.2, xadesv141:ArchiveTimeStamp).

The tokens come from pyHanko's DummyTimeStamper with a TSA certificate under the test root.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import datetime
from typing import Any

from asn1crypto import cms, core
from lxml import etree
from pyhanko.sign.timestamps import DummyTimeStamper

ATS_V3 = "0.4.0.1733.2.4"
ATS_HASH_INDEX_V3 = "0.4.0.19122.1.5"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _token(tsa: tuple[Any, Any], at: datetime, imprint: bytes) -> cms.ContentInfo:
    stamper = DummyTimeStamper(tsa_cert=tsa[0], tsa_key=tsa[1], fixed_dt=at)
    return asyncio.run(stamper.async_timestamp(imprint, "sha256"))


# -- CAdES ---------------------------------------------------------------------------------------


def _hash_index_v3(signed_data: cms.SignedData, signer: cms.SignerInfo) -> bytes:
    """ATSHashIndexV3 with hashIndAlgorithm omitted (DEFAULT sha256), EN 319 122-1 §5.5.2."""
    certs = [_sha256(c.dump()) for c in signed_data["certificates"]] if signed_data["certificates"] else []
    crls = [_sha256(c.dump()) for c in signed_data["crls"]] if signed_data["crls"] else []
    attrs = []
    for attr in signer["unsigned_attrs"] if signer["unsigned_attrs"] else []:
        for value in attr["values"]:
            attrs.append(_sha256(attr["type"].dump() + value.dump()))

    def seq_of(items: list[bytes]) -> bytes:
        body = b"".join(core.OctetString(i).dump() for i in items)
        return b"\x30" + _length(len(body)) + body

    body = seq_of(certs) + seq_of(crls) + seq_of(attrs)
    return b"\x30" + _length(len(body)) + body


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def add_cades_archive_timestamp(
    der: bytes, tsa: tuple[Any, Any], at: datetime, *, detached: bytes | None = None
) -> bytes:
    """Append an archive-time-stamp-v3 to the first SignerInfo (EN 319 122-1 §5.5.3)."""
    info = cms.ContentInfo.load(der)
    signed_data = info["content"]
    signer = signed_data["signer_infos"][0]
    eci = signed_data["encap_content_info"]
    content = detached if detached is not None else bytes(eci["content"])
    index = _hash_index_v3(signed_data, signer)
    fields = ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm", "signature")
    covered = eci["content_type"].dump() + _sha256(content) + b"".join(signer[f].dump() for f in fields) + index
    token = _token(tsa, at, _sha256(covered))
    token_signer = token["content"]["signer_infos"][0]
    index_attr = cms.CMSAttribute({"type": ATS_HASH_INDEX_V3, "values": [core.Any.load(index)]})
    token_signer["unsigned_attrs"] = cms.CMSAttributes([index_attr])
    ats = cms.CMSAttribute({"type": ATS_V3, "values": [core.Any.load(token.dump(force=True))]})
    existing = list(signer["unsigned_attrs"]) if signer["unsigned_attrs"] else []
    signer["unsigned_attrs"] = cms.CMSAttributes([*existing, ats])
    return bytes(info.dump(force=True))


# -- XAdES ---------------------------------------------------------------------------------------


def _c14n(element: Any) -> bytes:
    copy = etree.fromstring(etree.tostring(element, with_tail=False))
    return bytes(etree.tostring(copy, method="c14n", exclusive=False, with_comments=False))


def _unsigned_properties(signed: bytes) -> tuple[Any, Any, Any]:
    """(document root, ds:Signature, xades:UnsignedSignatureProperties — created when missing)."""
    root = etree.fromstring(signed)
    signature = root if root.tag == f"{{{DS}}}Signature" else root.find(f".//{{{DS}}}Signature")
    qp = signature.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties")
    unsigned = qp.find(f"{{{XADES}}}UnsignedProperties")
    if unsigned is None:
        unsigned = etree.SubElement(qp, f"{{{XADES}}}UnsignedProperties")
    usp = unsigned.find(f"{{{XADES}}}UnsignedSignatureProperties")
    if usp is None:
        usp = etree.SubElement(unsigned, f"{{{XADES}}}UnsignedSignatureProperties")
    return root, signature, usp


def add_xades_archive_timestamp(
    signed: bytes, reference_octets: list[bytes], tsa: tuple[Any, Any], at: datetime
) -> bytes:
    """Append a xadesv141:ArchiveTimeStamp (EN 319 132-1 §5.5.2.2, Canonical XML 1.0):
    ``reference_octets`` are the octets each ds:Reference's digest was computed over, in order."""
    root, signature, usp = _unsigned_properties(signed)
    parts = list(reference_octets)
    for name in ("SignedInfo", "SignatureValue", "KeyInfo"):
        element = signature.find(f"{{{DS}}}{name}")
        if element is not None:
            parts.append(_c14n(element))
    parts += [_c14n(child) for child in usp if isinstance(child.tag, str)]
    for obj in signature.findall(f"{{{DS}}}Object"):
        if obj.find(f"{{{XADES}}}QualifyingProperties") is None:
            parts.append(_c14n(obj))
    token = _token(tsa, at, _sha256(b"".join(parts)))
    stamp = etree.SubElement(usp, f"{{{XADES141}}}ArchiveTimeStamp", nsmap={"xades141": XADES141})
    etree.SubElement(stamp, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14N_10)
    etree.SubElement(stamp, f"{{{XADES}}}EncapsulatedTimeStamp").text = base64.b64encode(token.dump()).decode()
    return bytes(etree.tostring(root))


def add_xades_validation_data(signed: bytes, certs: list[bytes], ocsps: list[bytes]) -> bytes:
    """xades:CertificateValues and xades:RevocationValues (EN 319 132-1 §5.4.1, §5.4.2)."""
    root, _signature, usp = _unsigned_properties(signed)
    if certs:
        values = etree.SubElement(usp, f"{{{XADES}}}CertificateValues")
        for cert in certs:
            etree.SubElement(values, f"{{{XADES}}}EncapsulatedX509Certificate").text = base64.b64encode(cert).decode()
    if not ocsps:
        return bytes(etree.tostring(root))
    revocation = etree.SubElement(usp, f"{{{XADES}}}RevocationValues")
    ocsp_values = etree.SubElement(revocation, f"{{{XADES}}}OCSPValues")
    for response in ocsps:
        etree.SubElement(ocsp_values, f"{{{XADES}}}EncapsulatedOCSPValue").text = base64.b64encode(response).decode()
    return bytes(etree.tostring(root))
