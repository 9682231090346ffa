"""Counter-signing a signature already in an e-package (ASiC-E): a further party signs the
signature value of an existing signature, not the files (a witness, an approver, a receiving
office).

- XAdES (``META-INF/signatures*.xml``): ETSI EN 319 132-1 §5.2.7.2 ``xades:CounterSignature``
  holding a XAdES B-B ``ds:Signature`` over the countered ``ds:SignatureValue``
  (:func:`epackage.xades.add_counter_signature`).
- CAdES (``META-INF/*.p7s``): RFC 5652 §11.4 countersignature unsigned attribute on the chosen
  SignerInfo (EN 319 122-1 §5.2.7): a SignerInfo whose messageDigest is the hash of that
  signer's signature octets, with signingTime and signingCertificateV2 and no contentType; the
  counter-signer's certificates are added to the SignedData.

Only unsigned parts change, so every existing signature keeps verifying.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]

from core.cms import ID_DATA, SignedDataSigner
from epackage.errors import SigningError
from epackage.pack import open_package, replace_file
from epackage.signer import Signer
from epackage.xades import DS, add_counter_signature
from verifier.asic.container import CADES_NAME, XADES_NAME
from verifier.common import PARSE_ERRORS, present
from verifier.errors import UnparseableDocumentError
from verifier.xades_parsing import find_signatures, parse_xml

_CMS_ID = re.compile(r"^(?:cms-)?(\d{1,3})$")


def signature_files(entries: Mapping[str, bytes]) -> list[str]:
    """The package's signature files, named by the EN 319 162-1 rules the verifier reads them with."""
    return sorted(n for n in entries if XADES_NAME.match(n) or CADES_NAME.match(n))


def counter_sign_package(
    container: bytes,
    signer: Signer,
    *,
    signature_file: str | None = None,
    signature_id: str | None = None,
    at: datetime | None = None,
) -> bytes:
    """``container`` with a counter-signature by ``signer`` on one signature: the one in
    ``signature_file`` (needed when the package holds several signature files) with
    ``signature_id`` (a XAdES ``Id``, or ``cms-N`` / ``N`` for the N-th SignerInfo; needed when
    the file holds several signatures)."""
    entries = open_package(container)
    names = signature_files(entries)
    if signature_file is None:
        if len(names) != 1:
            raise SigningError(f"the package holds {len(names)} signature files: name the one to counter-sign")
        signature_file = names[0]
    elif signature_file not in names:
        raise SigningError(f"{signature_file} is not a signature file of the package")
    signing_time = (at or datetime.now(UTC)).astimezone(UTC)
    content = entries[signature_file]
    if signature_file.endswith(".p7s"):
        updated = counter_sign_cms(content, signer, signing_time, signature_id)
    else:
        updated = counter_sign_xades(content, signer, signing_time, signature_id)
    return replace_file(container, signature_file, updated)


def counter_sign_xades(content: bytes, signer: Signer, signing_time: datetime, signature_id: str | None) -> bytes:
    """The signature file with a xades:CounterSignature added to the chosen ds:Signature (by Id;
    nested counter-signatures can be counter-signed in turn)."""
    try:
        root = parse_xml(content)
    except UnparseableDocumentError as exc:
        raise SigningError(f"the signature file cannot be read: {exc.message}") from None
    if signature_id is None:
        top = find_signatures(root)
        if len(top) != 1:
            raise SigningError(f"the signature file holds {len(top)} signatures: name the one to counter-sign")
        target = top[0]
    else:
        found = [s for s in root.iter(f"{{{DS}}}Signature") if s.get("Id") == signature_id]
        if len(found) != 1:
            raise SigningError(f"no single signature with Id {signature_id!r} in the signature file")
        target = found[0]
    add_counter_signature(target, signer, signing_time)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")  # type: ignore[no-any-return]


def counter_sign_cms(content: bytes, signer: Signer, signing_time: datetime, signature_id: str | None) -> bytes:
    """The CMS SignedData with a countersignature attribute added to the chosen SignerInfo."""
    try:
        info = cms.ContentInfo.load(content, strict=True)
        signed_data = info["content"]
        infos = list(signed_data["signer_infos"])
    except PARSE_ERRORS:
        raise SigningError("the signature file is not a CMS SignedData") from None
    index = _cms_index(signature_id, len(infos))
    target = infos[index]
    try:
        counter_der = SignedDataSigner(
            signer.certificate.public_bytes(Encoding.DER), signer.key, content_type=ID_DATA
        ).counter_signer_info(bytes(target["signature"].native), signing_time)
    except TypeError:
        raise SigningError("unsupported counter-signer key") from None
    infos[index] = _with_counter(target, cms.SignerInfo.load(counter_der))
    fields = {name: signed_data[name] for name in ("version", "digest_algorithms", "encap_content_info")}
    fields["certificates"] = _with_certificates(signed_data, signer)
    if present(signed_data["crls"]):
        fields["crls"] = signed_data["crls"]
    fields["signer_infos"] = cms.SignerInfos(infos)
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(fields)}).dump())


def _cms_index(signature_id: str | None, count: int) -> int:
    if signature_id is None:
        if count != 1:
            raise SigningError(f"the signature file holds {count} signatures: name the one to counter-sign")
        return 0
    match = _CMS_ID.match(signature_id)
    if match is None or int(match.group(1)) >= count:
        raise SigningError(f"no signature {signature_id!r} in the signature file (cms-0 … cms-{count - 1})")
    return int(match.group(1))


def _with_counter(target: cms.SignerInfo, counter: cms.SignerInfo) -> cms.SignerInfo:
    """``target`` with one more countersignature attribute; its signed parts keep their bytes."""
    names = ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm", "signature")
    fields: dict[str, Any] = {name: target[name] for name in names if present(target[name])}
    unsigned = list(target["unsigned_attrs"]) if present(target["unsigned_attrs"]) else []
    unsigned.append(cms.CMSAttribute({"type": "counter_signature", "values": [counter]}))
    fields["unsigned_attrs"] = cms.CMSAttributes(unsigned)
    return cms.SignerInfo(fields)


def _with_certificates(signed_data: cms.SignedData, signer: Signer) -> cms.CertificateSet:
    existing = list(signed_data["certificates"]) if present(signed_data["certificates"]) else []
    held = {c.chosen.dump() for c in existing if c.name == "certificate"}
    for cert in (signer.certificate, *signer.chain):
        der = cert.public_bytes(Encoding.DER)
        if der not in held:
            held.add(der)
            existing.append(cms.CertificateChoices(name="certificate", value=asn1_x509.Certificate.load(der)))
    return cms.CertificateSet(existing)
