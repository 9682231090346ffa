"""Signing XML fixtures with signxml (XAdES-BES) and xmlsec1 (XML-DSig) at test time."""

from __future__ import annotations

import subprocess
from base64 import b64encode
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod
from signxml.xades import XAdESSigner
from signxml.xades.xades import ds_tag, xades_tag

from tests.verifier.helpers import Citizen, tool

SAMPLE = Path(__file__).parent / "vectors" / "wniosek-xades-bes.xml"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
DS = "http://www.w3.org/2000/09/xmldsig#"


def crd_form() -> etree._Element:
    """The CRD form of the shared sample, without its signature."""
    root = etree.fromstring(SAMPLE.read_bytes())
    for signature in root.findall(f"{{{DS}}}Signature"):
        root.remove(signature)
    return root


class XAdESv1Signer(XAdESSigner):
    """SigningCertificate (v1, XAdES 1.3.2 §7.2.2) only, as older Polish signing tools emit."""

    def add_signing_certificate(self, signed_signature_properties: Any, sig_root: Any, signing_settings: Any) -> None:
        signing_cert = etree.SubElement(
            signed_signature_properties, xades_tag("SigningCertificate"), nsmap=self.namespaces
        )
        for cert in signing_settings.cert_chain[:1]:
            der = cert.public_bytes(Encoding.DER)
            node = etree.SubElement(signing_cert, xades_tag("Cert"), nsmap=self.namespaces)
            digest = etree.SubElement(node, xades_tag("CertDigest"), nsmap=self.namespaces)
            etree.SubElement(
                digest, ds_tag("DigestMethod"), nsmap=self.namespaces, Algorithm=DigestAlgorithm.SHA256.value
            )
            etree.SubElement(digest, ds_tag("DigestValue"), nsmap=self.namespaces).text = b64encode(
                self._get_digest(der, algorithm=DigestAlgorithm.SHA256)
            ).decode()
            serial = etree.SubElement(node, xades_tag("IssuerSerial"), nsmap=self.namespaces)
            etree.SubElement(
                serial, ds_tag("X509IssuerName"), nsmap=self.namespaces
            ).text = cert.issuer.rfc4514_string()
            etree.SubElement(serial, ds_tag("X509SerialNumber"), nsmap=self.namespaces).text = str(cert.serial_number)


def xades_sign(
    citizen: Citizen,
    root: etree._Element | None = None,
    *,
    c14n: str = C14N_11,
    v1: bool = False,
    method: Any = None,
    reference_uri: Any = None,
    chain: list[x509.Certificate] | None = None,
) -> bytes:
    root = crd_form() if root is None else root
    is_ec = isinstance(citizen.key, ec.EllipticCurvePrivateKey)
    kwargs: dict[str, Any] = {
        "signature_algorithm": SignatureMethod.ECDSA_SHA256 if is_ec else SignatureMethod.RSA_SHA256,
        "digest_algorithm": DigestAlgorithm.SHA256,
        "c14n_algorithm": c14n,
    }
    if method is not None:
        kwargs["method"] = method
    signer = (XAdESv1Signer if v1 else XAdESSigner)(**kwargs)
    certs = [citizen.cert, *(chain or [])]
    signed = signer.sign(root, key=citizen.key, cert=certs, reference_uri=reference_uri, always_add_key_value=False)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


XMLSEC_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<wnio:Dokument xmlns:wnio="http://crd.gov.pl/wzor/2013/12/12/1410/">
  <wnio:TrescDokumentu><wnio:Tytul>Wniosek xmlsec1</wnio:Tytul>
    <wnio:Informacja>Treść.</wnio:Informacja></wnio:TrescDokumentu>
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
      <SignatureMethod Algorithm="{sigalg}"/>
      <Reference URI="">
        <Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>
        <DigestMethod Algorithm="{digest}"/>
        <DigestValue/>
      </Reference>{extra}
    </SignedInfo>
    <SignatureValue/>
    <KeyInfo><X509Data/></KeyInfo>
  </Signature>
</wnio:Dokument>
"""


SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"


def xmlsec_sign(citizen: Citizen, directory: Path, *, sha1: bool = False, detached: str | None = None) -> bytes:
    """xmlsec1 --sign of an enveloped template; ``detached`` adds a reference to that local file."""
    is_ec = isinstance(citizen.key, ec.EllipticCurvePrivateKey)
    bits = "sha1" if sha1 else "sha256"
    sigalg = (
        f"http://www.w3.org/2001/04/xmldsig-more#ecdsa-{bits}"
        if is_ec
        else (
            f"http://www.w3.org/2001/04/xmldsig-more#rsa-{bits}"
            if not sha1
            else "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        )
    )
    digest = SHA1 if sha1 else SHA256
    extra = ""
    if detached:
        extra = f'\n      <Reference URI="{detached}"><DigestMethod Algorithm="{digest}"/><DigestValue/></Reference>'
    template = directory / "template.xml"
    template.write_text(XMLSEC_TEMPLATE.format(sigalg=sigalg, digest=digest, extra=extra), encoding="utf-8")
    return _xmlsec_sign(citizen, template, directory / "signed.xml", [])


def _xmlsec_sign(citizen: Citizen, template: Path, out: Path, options: list[str]) -> bytes:
    """``xmlsec1 --sign`` with the citizen's key and certificate, run in the template's folder."""
    key = ["--privkey-pem", f"{citizen.key_path},{citizen.cert_path}"]
    command = [tool("xmlsec1"), "--sign", *key, *options, "--output", str(out), str(template)]
    subprocess.run(command, check=True, capture_output=True, timeout=30, cwd=template.parent)
    return out.read_bytes()


COUNTER_TEMPLATE = """<xades:CounterSignature xmlns:xades="http://uri.etsi.org/01903/v1.3.2#">
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="CS-xmlsec1">
  <SignedInfo>
    <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>
    <Reference URI="#{target}" Type="http://uri.etsi.org/01903#CountersignedSignature">
      <Transforms><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>
      <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/>
    </Reference>{extra}
  </SignedInfo>
  <SignatureValue/>
  <KeyInfo><X509Data/></KeyInfo>
</Signature>
</xades:CounterSignature>"""


def xmlsec_counter_sign(
    signatures_xml: bytes, citizen: Citizen, directory: Path, *, also: tuple[str, bytes] | None = None
) -> bytes:
    """A plain XML-DSig counter-signature (EN 319 132-1 §5.2.7.2) over the first ds:Signature's
    SignatureValue of an ASiC-E signature file, signed by ``xmlsec1 --sign`` (EC key): the
    template goes into the signature's UnsignedSignatureProperties and xmlsec1 fills in the
    digest, the signature value and the certificate. ``also`` (name, content) adds a reference to
    that data file too (written next to the template for xmlsec1 to read)."""
    from lxml import etree

    ds, xades = "http://www.w3.org/2000/09/xmldsig#", "http://uri.etsi.org/01903/v1.3.2#"
    root = etree.fromstring(signatures_xml)
    signature = root.find(f"{{{ds}}}Signature")
    target = signature.find(f"{{{ds}}}SignatureValue").get("Id")
    qualifying = signature.find(f"{{{ds}}}Object/{{{xades}}}QualifyingProperties")
    unsigned = etree.SubElement(qualifying, f"{{{xades}}}UnsignedProperties")
    usp = etree.SubElement(unsigned, f"{{{xades}}}UnsignedSignatureProperties")
    extra = ""
    if also is not None:
        (directory / also[0]).write_bytes(also[1])
        extra = f'<Reference URI="{also[0]}"><DigestMethod Algorithm="{SHA256}"/><DigestValue/></Reference>'
    usp.append(etree.fromstring(COUNTER_TEMPLATE.format(target=target, extra=extra)))
    template = directory / "counter-template.xml"
    template.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    options = ["--id-attr:Id", f"{ds}:SignatureValue", "--node-xpath", "//*[@Id='CS-xmlsec1']"]
    return _xmlsec_sign(citizen, template, directory / "counter-signed.xml", options)
