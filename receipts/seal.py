"""Sealing a receipt: an enveloped XAdES signature (EN 319 132-1) by the receipt-seal key over the
whole ``pos:Dokument``, at level B-T (a SignatureTimeStamp from our TSA over ds:SignatureValue).

The reference is ``URI=""`` with the enveloped-signature transform and exclusive C14N, so the
document's digest does not depend on where it is later embedded or how it is pretty-printed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]

from core.clock import ensure_utc
from epackage.signer import Signer
from epackage.xades import (
    DS,
    EXC_C14N,
    SHA256,
    SIGNED_PROPERTIES_TYPE,
    Timestamper,
    add_signature_timestamp,
    c14n,
    signed_properties,
)

XADES = "http://uri.etsi.org/01903/v1.3.2#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


@dataclass(frozen=True)
class Sealed:
    xml: bytes
    timestamp_time: datetime
    signature_value_c14n: bytes  # what the timestamp's imprint covers (for openssl ts -verify)
    timestamp_token: bytes


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _reference(signed_info: etree._Element, uri: str, digest: bytes, transforms: list[str], **attrs: str) -> None:
    reference = etree.SubElement(signed_info, _ds("Reference"), URI=uri, **attrs)
    if transforms:
        container = etree.SubElement(reference, _ds("Transforms"))
        for algorithm in transforms:
            etree.SubElement(container, _ds("Transform"), Algorithm=algorithm)
    etree.SubElement(reference, _ds("DigestMethod"), Algorithm=SHA256)
    etree.SubElement(reference, _ds("DigestValue")).text = base64.b64encode(digest).decode()


def seal(document: etree._Element, signer: Signer, at: datetime, timestamper: Timestamper) -> Sealed:
    """Append the enveloped signature to ``document`` (changed in place) and return its bytes."""
    sig_id = f"UPO-{secrets.token_hex(8)}"
    document_digest = hashlib.sha256(c14n(document)).digest()
    signature = etree.SubElement(document, _ds("Signature"), nsmap={"ds": DS}, Id=sig_id)
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=signer.algorithm)
    _reference(signed_info, "", document_digest, [ENVELOPED, EXC_C14N], Id=f"{sig_id}-ref-0")
    value = etree.SubElement(signature, _ds("SignatureValue"), Id=f"{sig_id}-SignatureValue")
    x509_data = etree.SubElement(etree.SubElement(signature, _ds("KeyInfo")), _ds("X509Data"))
    for cert in (signer.certificate, *signer.chain):
        etree.SubElement(x509_data, _ds("X509Certificate")).text = base64.b64encode(
            cert.public_bytes(Encoding.DER)
        ).decode()
    qualifying = etree.SubElement(
        etree.SubElement(signature, _ds("Object")),
        f"{{{XADES}}}QualifyingProperties",
        nsmap={"xades": XADES},
        Target=f"#{sig_id}",
    )
    properties = signed_properties(sig_id, signer, ensure_utc(at), [])
    qualifying.append(properties)
    _reference(
        signed_info,
        f"#{sig_id}-SignedProperties",
        hashlib.sha256(c14n(properties)).digest(),
        [EXC_C14N],
        Type=SIGNED_PROPERTIES_TYPE,
    )
    value.text = base64.b64encode(signer.sign(c14n(signed_info))).decode()
    tokens: list[bytes] = []

    def keep(digest: bytes) -> bytes:
        tokens.append(timestamper(digest))
        return tokens[-1]

    add_signature_timestamp(signature, keep)
    info = cms.ContentInfo.load(tokens[0])["content"]["encap_content_info"]["content"].parsed
    return Sealed(
        xml=etree.tostring(document, xml_declaration=True, encoding="UTF-8"),
        timestamp_time=ensure_utc(info["gen_time"].native),
        signature_value_c14n=c14n(value),
        timestamp_token=tokens[0],
    )
