"""Detached XAdES for ASiC-E (ETSI EN 319 132-1 B-B and B-T, EN 319 162-1 §4.4.3.2): one
``ds:Signature`` in an ``asic:XAdESSignatures`` root, a ``ds:Reference`` per data file (SHA-256
of its bytes), SignedProperties with SigningTime, SigningCertificateV2 and a DataObjectFormat per
file, exclusive C14N throughout (nothing depends on where the signature is embedded). For B-T a
SignatureTimeStamp over the canonicalised ds:SignatureValue (EN 319 132-1 §5.3) is added.

Built with lxml; the key only signs the canonical SignedInfo, so PKCS#11 keys work unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import quote

from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]

from epackage.errors import SigningError
from epackage.signer import Signer

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
ASIC = "http://uri.etsi.org/02918/v1.2.1#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
COUNTERSIGNED_TYPE = "http://uri.etsi.org/01903#CountersignedSignature"
NSMAP = {"ds": DS}

# digest of the bytes to timestamp (SHA-256) → DER of a TimeStampToken (ContentInfo).
Timestamper = Callable[[bytes], bytes]


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _xades(tag: str) -> str:
    return f"{{{XADES}}}{tag}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def c14n(element: etree._Element) -> bytes:
    canonical: bytes = etree.tostring(element, method="c14n", exclusive=True, with_comments=False)
    return canonical


def media_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _digest_element(parent: etree._Element, data: bytes) -> None:
    etree.SubElement(parent, _ds("DigestMethod"), Algorithm=SHA256)
    etree.SubElement(parent, _ds("DigestValue")).text = _b64(hashlib.sha256(data).digest())


def signed_properties(
    sig_id: str, signer: Signer, signing_time: datetime, refs: list[tuple[str, str]]
) -> etree._Element:
    properties = etree.Element(
        _xades("SignedProperties"), nsmap={"xades": XADES, "ds": DS}, Id=f"{sig_id}-SignedProperties"
    )
    signature_properties = etree.SubElement(properties, _xades("SignedSignatureProperties"))
    etree.SubElement(signature_properties, _xades("SigningTime")).text = signing_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    certificate = etree.SubElement(signature_properties, _xades("SigningCertificateV2"))
    cert = etree.SubElement(certificate, _xades("Cert"))
    _digest_element(etree.SubElement(cert, _xades("CertDigest")), signer.certificate.public_bytes(Encoding.DER))
    if not refs:
        return properties
    objects = etree.SubElement(properties, _xades("SignedDataObjectProperties"))
    for ref_id, name in refs:
        data_format = etree.SubElement(objects, _xades("DataObjectFormat"), ObjectReference=f"#{ref_id}")
        etree.SubElement(data_format, _xades("MimeType")).text = media_type(name)
    return properties


def build_signature(
    files: Mapping[str, bytes], signer: Signer, signing_time: datetime, timestamper: Timestamper | None = None
) -> bytes:
    """``META-INF/signatures*.xml`` content signing every file of ``files`` (name → bytes)."""
    root = etree.Element(f"{{{ASIC}}}XAdESSignatures", nsmap={"asic": ASIC})
    signature = etree.SubElement(root, _ds("Signature"), nsmap=NSMAP, Id=f"S-{secrets.token_hex(8)}")

    def references(signed_info: etree._Element, sig_id: str) -> list[tuple[str, str]]:
        refs: list[tuple[str, str]] = []
        for index, (name, data) in enumerate(files.items()):
            ref_id = f"{sig_id}-ref-{index}"
            reference = etree.SubElement(signed_info, _ds("Reference"), Id=ref_id, URI=quote(name, safe="/"))
            _digest_element(reference, data)
            refs.append((ref_id, name))
        return refs

    _sign_into(signature, signer, signing_time, references)
    if timestamper is not None:
        add_signature_timestamp(signature, timestamper)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")  # type: ignore[no-any-return]


def _sign_into(
    signature: etree._Element,
    signer: Signer,
    signing_time: datetime,
    references: Callable[[etree._Element, str], list[tuple[str, str]]],
) -> None:
    """Fill the empty ``signature`` (which has its Id) as XAdES B-B: SignedInfo with the
    references ``references`` adds (returning (reference Id, file name) for DataObjectFormat),
    SignatureValue, KeyInfo, and the SignedProperties and their reference."""
    sig_id = signature.get("Id")
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=signer.algorithm)
    refs = references(signed_info, sig_id)
    value = etree.SubElement(signature, _ds("SignatureValue"), Id=f"{sig_id}-SignatureValue")
    key_info = etree.SubElement(signature, _ds("KeyInfo"))
    x509_data = etree.SubElement(key_info, _ds("X509Data"))
    for cert in (signer.certificate, *signer.chain):
        etree.SubElement(x509_data, _ds("X509Certificate")).text = _b64(cert.public_bytes(Encoding.DER))
    qualifying = etree.SubElement(
        etree.SubElement(signature, _ds("Object")),
        _xades("QualifyingProperties"),
        nsmap={"xades": XADES},
        Target=f"#{sig_id}",
    )
    properties = signed_properties(sig_id, signer, signing_time, refs)
    qualifying.append(properties)
    reference = etree.SubElement(
        signed_info, _ds("Reference"), Type=SIGNED_PROPERTIES_TYPE, URI=f"#{sig_id}-SignedProperties"
    )
    transforms = etree.SubElement(reference, _ds("Transforms"))
    etree.SubElement(transforms, _ds("Transform"), Algorithm=EXC_C14N)
    _digest_element(reference, c14n(properties))
    value.text = _b64(signer.sign(c14n(signed_info)))


def add_counter_signature(signature: etree._Element, signer: Signer, signing_time: datetime) -> str:
    """EN 319 132-1 §5.2.7.2: a xades:CounterSignature in ``signature``'s
    UnsignedSignatureProperties holding a XAdES B-B ds:Signature whose CountersignedSignature
    reference covers the countered ds:SignatureValue (exclusive C14N, SHA-256). Returns the new
    signature's Id. The countered SignatureValue needs an Id to be referenced."""
    value = signature.find(_ds("SignatureValue"))
    value_id = value.get("Id") if value is not None else None
    if value is None or not value_id:
        raise SigningError("the signature's SignatureValue has no Id, so a counter-signature cannot reference it")
    wrapper = etree.SubElement(_unsigned_signature_properties(signature), _xades("CounterSignature"))
    counter = etree.SubElement(wrapper, _ds("Signature"), nsmap=NSMAP, Id=f"S-{secrets.token_hex(8)}")

    def references(signed_info: etree._Element, sig_id: str) -> list[tuple[str, str]]:
        reference = etree.SubElement(
            signed_info, _ds("Reference"), Id=f"{sig_id}-ref-0", URI=f"#{value_id}", Type=COUNTERSIGNED_TYPE
        )
        transforms = etree.SubElement(reference, _ds("Transforms"))
        etree.SubElement(transforms, _ds("Transform"), Algorithm=EXC_C14N)
        _digest_element(reference, c14n(value))
        return []

    _sign_into(counter, signer, signing_time, references)
    return str(counter.get("Id"))


def _unsigned_signature_properties(signature: etree._Element) -> etree._Element:
    qualifying = signature.find(f"{_ds('Object')}/{_xades('QualifyingProperties')}")
    if qualifying is None:
        raise SigningError("not a XAdES signature (no QualifyingProperties)")
    unsigned = qualifying.find(_xades("UnsignedProperties"))
    if unsigned is None:
        unsigned = etree.SubElement(qualifying, _xades("UnsignedProperties"))
    usp = unsigned.find(_xades("UnsignedSignatureProperties"))
    if usp is None:
        usp = etree.SubElement(unsigned, _xades("UnsignedSignatureProperties"))
    return usp


def add_signature_timestamp(signature: etree._Element, timestamper: Timestamper) -> None:
    """EN 319 132-1 §5.3 SignatureTimeStamp: the token's imprint is SHA-256 of the exclusive
    canonical form of ds:SignatureValue (the level becomes B-T)."""
    value = signature.find(_ds("SignatureValue"))
    if value is None:
        raise ValueError("not a XAdES signature")
    usp = _unsigned_signature_properties(signature)
    token = timestamper(hashlib.sha256(c14n(value)).digest())
    stamp = etree.SubElement(usp, _xades("SignatureTimeStamp"), Id=f"{signature.get('Id')}-SignatureTimeStamp")
    etree.SubElement(stamp, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(stamp, _xades("EncapsulatedTimeStamp")).text = _b64(token)
