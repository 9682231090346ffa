"""XAdES / XML-DSig: signxml (XAdES-BES) and xmlsec1 (XML-DSig) fixtures, the shared CRD sample,
signature wrapping and hostile XML."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from signxml import SignatureConstructionMethod

from tests.verifier.helpers import PNOPL, issue_citizen, multipart
from tests.verifier.xmlsign import C14N_10, SAMPLE, xades_sign, xmlsec_sign
from verifier.detect import parse_submission
from verifier.errors import UnparseableDocumentError
from verifier.service import VerificationService

XML = "application/xml"


def test_shared_sample_is_intact_but_untrusted(verify) -> None:
    """The sample's root is not configured: crypto intact, no chain (EN 319 102-1 §5.2.6)."""
    report = verify(SAMPLE.read_bytes(), XML)
    (sig,) = report.signatures
    assert (sig.indication, sig.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"), report.to_dict()
    assert sig.format == "XAdES" and sig.level == "B-B"
    # EN 319 132-1 §6.3: B-B met, B-T missing its SignatureTimeStamp.
    assert [(c.level, c.met) for c in sig.baseline][:2] == [("B-B", True), ("B-T", False)]
    assert sig.signer is not None
    targets = {r.target for r in sig.coverage.references}
    assert "document" in targets


def test_shared_sample_with_its_certificate_configured_finds_a_chain(vpki, clock, key_store, tmp_path, db) -> None:
    root = etree.fromstring(SAMPLE.read_bytes())
    certs = root.findall(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    pem = b"".join(
        b"-----BEGIN CERTIFICATE-----\n" + c.text.strip().encode() + b"\n-----END CERTIFICATE-----\n" for c in certs
    )
    anchors = tmp_path / "sample-anchors.pem"
    anchors.write_bytes(pem)
    from verifier.settings import VerifierSettings

    service = VerificationService(
        VerifierSettings(extra_trust_anchors=(str(anchors),), revocation_mode="soft-fail"), clock, lambda: key_store
    )
    report = service.verify(parse_submission(XML, SAMPLE.read_bytes()))
    assert report.signatures[0].sub_indication != "NO_CERTIFICATE_CHAIN_FOUND", report.to_dict()
    assert report.signatures[0].sub_indication not in ("HASH_FAILURE", "SIG_CRYPTO_FAILURE")


@pytest.mark.parametrize("c14n", [C14N_10, "http://www.w3.org/2006/12/xml-c14n11"], ids=["c14n10", "c14n11"])
@pytest.mark.parametrize("v1", [False, True], ids=["signing-cert-v2", "signing-cert-v1"])
def test_signxml_xades_bes_on_crd_form_passes(verify, citizen, c14n, v1) -> None:
    report = verify(xades_sign(citizen, c14n=c14n, v1=v1), XML)
    (sig,) = report.signatures
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    assert sig.signer is not None and sig.signer.semantics_identifier == PNOPL
    assert sig.claimed_signing_time is not None
    assert any(r.target == "document" and r.uri == "" for r in sig.coverage.references)
    assert any(r.type == "http://uri.etsi.org/01903#SignedProperties" for r in sig.coverage.references)
    assert any(e.source == "local" for e in sig.revocation)


def test_signxml_tampered_twin_is_hash_failure(verify, citizen) -> None:
    signed = xades_sign(citizen).replace("Treść pisma.".encode(), "Treść zmieniona.".encode())
    report = verify(signed, XML)
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_signature_value_tampered_is_sig_crypto_failure(verify, citizen) -> None:
    root = etree.fromstring(xades_sign(citizen))
    value = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    raw = bytearray(__import__("base64").b64decode(value.text))
    raw[5] ^= 1
    value.text = __import__("base64").b64encode(bytes(raw)).decode()
    report = verify(etree.tostring(root), XML)
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")


def test_revoked_xades_signer(verify, vpki, clock, tmp_path) -> None:
    from datetime import timedelta

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    report = verify(xades_sign(twin), XML)
    # EN 319 102-1 §5.2.6.4: no proof of existence before the revocation.
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def test_suspended_xades_signer_is_try_later(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.2.6: a signing certificate on hold → INDETERMINATE/TRY_LATER."""
    from datetime import timedelta

    held = issue_citizen(vpki, tmp_path / "held", revoked_at=clock.now() - timedelta(days=1), reason="certificateHold")
    report = verify(xades_sign(held), XML)
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "TRY_LATER")


def test_rsa_signer_passes(verify, vpki, tmp_path) -> None:
    signer = issue_citizen(vpki, tmp_path / "rsa", key_kind="rsa2048")
    assert verify(xades_sign(signer), XML).indication == "TOTAL_PASSED"


def test_enveloping_xades(verify, citizen) -> None:
    data = etree.fromstring(b"<Dane xmlns='urn:test'>tresc</Dane>")
    report = verify(xades_sign(citizen, data, method=SignatureConstructionMethod.enveloping), XML)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert any(r.target.startswith("ds:Object") for r in report.signatures[0].coverage.references)


def test_detached_reference_over_multipart_part(verify, citizen, tmp_path) -> None:
    """XML-DSig §4.4.3.1: a reference to an external URI, resolved only against the request's parts."""
    content = b"%PDF-1.4 zalacznik\n"
    (tmp_path / "zalacznik.pdf").write_bytes(content)
    signed = xmlsec_sign(citizen, tmp_path, detached="zalacznik.pdf")
    ct, body = multipart(
        [("signature", "podpis.xml", XML, signed), ("att", "zalacznik.pdf", "application/pdf", content)]
    )
    report = verify(body, ct)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert report.signatures[0].coverage.detached_parts == ("zalacznik.pdf",)
    ct, body = multipart(
        [("signature", "podpis.xml", XML, signed), ("att", "zalacznik.pdf", "application/pdf", content + b"x")]
    )
    assert verify(body, ct).signatures[0].sub_indication == "HASH_FAILURE"
    # A part the signature does not reference is reported, and the verdict is not TOTAL_PASSED.
    ct, body = multipart(
        [
            ("signature", "podpis.xml", XML, signed),
            ("att", "zalacznik.pdf", "application/pdf", content),
            ("extra", "inny.pdf", "application/pdf", b"unsigned"),
        ]
    )
    report = verify(body, ct)
    assert report.indication == "INDETERMINATE"
    assert any("inny.pdf" in w for w in report.signatures[0].warnings)


def test_xmlsec1_signature_passes_and_tampered_twin_fails(verify, citizen, tmp_path) -> None:
    signed = xmlsec_sign(citizen, tmp_path)
    report = verify(signed, XML)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert any("XML-DSig" in w for w in report.signatures[0].warnings)
    # EN 319 132-1 §4.3: without xades:QualifyingProperties it is XML-DSig, not XAdES B-B.
    assert (report.signatures[0].format, report.signatures[0].level) == ("XML-DSig", "none")
    assert not any(c.met for c in report.signatures[0].baseline)
    tampered = signed.replace("Treść.".encode(), "Inna treść.".encode())
    assert verify(tampered, XML).signatures[0].sub_indication == "HASH_FAILURE"


pytestmark = pytest.mark.interop


# -- signature wrapping (W3C XML Signature Best Practices §2.1, XSW) ----------------------------


def _fragment_signed(citizen) -> bytes:
    root = etree.fromstring(b"<Koperta xmlns='urn:test'><Dane Id='dane'>100 PLN</Dane></Koperta>")
    return xades_sign(citizen, root, reference_uri=["#dane"])


def test_reference_to_a_fragment_is_never_total_passed(verify, citizen) -> None:
    report = verify(_fragment_signed(citizen), XML)
    sig = report.signatures[0]
    assert report.indication != "TOTAL_PASSED"
    assert sig.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert any(r.uri == "#dane" for r in sig.coverage.references)


def test_duplicated_signed_element_fails(verify, citizen) -> None:
    signed = _fragment_signed(citizen)
    root = etree.fromstring(signed)
    original = root.find("{urn:test}Dane")
    evil = etree.Element("{urn:test}Dane", Id="dane")
    evil.text = "1000000 PLN"
    root.insert(0, evil)
    assert original is not None
    report = verify(etree.tostring(root), XML)
    assert report.indication == "TOTAL_FAILED"


def test_moved_signed_element_is_not_passed(verify, citizen) -> None:
    signed = _fragment_signed(citizen)
    root = etree.fromstring(signed)
    original = root.find("{urn:test}Dane")
    wrapper = etree.SubElement(root, "{urn:test}Archiwum")
    root.remove(original)
    wrapper.append(original)
    forged = etree.Element("{urn:test}Dane")
    forged.text = "1000000 PLN"
    root.insert(0, forged)
    report = verify(etree.tostring(root), XML)
    assert report.indication != "TOTAL_PASSED"


def test_enveloped_document_with_extra_unsigned_content_fails(verify, citizen) -> None:
    signed = xades_sign(citizen)
    extra = signed.replace(b"</wnio:Dokument>", b"<wnio:Dopisek>niepodpisane</wnio:Dopisek></wnio:Dokument>")
    assert verify(extra, XML).signatures[0].sub_indication == "HASH_FAILURE"


# -- hostile XML ---------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<d>&xxe;</d>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d/>"""


@pytest.mark.parametrize(
    "body",
    [XXE, LAUGHS, EXTERNAL_DTD, b"<a><b></a>", b"<" * 5000, b"<a>" * 100000],
    ids=["xxe", "billion-laughs", "external-dtd", "malformed", "angle-junk", "deep-nesting"],
)
def test_hostile_xml_is_refused(verify, body) -> None:
    with pytest.raises(UnparseableDocumentError):
        verify(body, XML)


def test_xml_without_signature_is_total_failed(verify) -> None:
    report = verify(b"<a/>", XML)
    assert report.indication == "TOTAL_FAILED" and report.signatures == ()


def test_sha1_xml_signature_is_crypto_constraints_failure(verify, vpki, tmp_path) -> None:
    signer = issue_citizen(vpki, tmp_path / "rsa", key_kind="rsa2048")
    report = verify(xmlsec_sign(signer, tmp_path, sha1=True), XML)
    assert report.signatures[0].sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"
    assert report.indication == "INDETERMINATE"


_ = (replace, Path)


# -- XAdES B-T (EN 319 132-1 §5.3: SignatureTimeStamp over the canonical ds:SignatureValue) ------


def _add_signature_timestamp(signed: bytes, vpki, *, over: bytes | None = None, at=None) -> bytes:  # type: ignore[no-untyped-def]
    import asyncio
    import base64
    import hashlib

    from pyhanko.sign.timestamps import DummyTimeStamper

    from tests.verifier.test_pades import rsa_tsa

    ds = "http://www.w3.org/2000/09/xmldsig#"
    xades = "http://uri.etsi.org/01903/v1.3.2#"
    root = etree.fromstring(signed)
    value = root.find(f".//{{{ds}}}SignatureValue")
    canonical = etree.tostring(etree.fromstring(etree.tostring(value, with_tail=False)), method="c14n")
    tsa_cert, tsa_key = rsa_tsa(vpki)
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=at or vpki.clock.now())
    token = asyncio.run(stamper.async_timestamp(hashlib.sha256(over or canonical).digest(), "sha256"))
    qp = root.find(f".//{{{xades}}}QualifyingProperties")
    unsigned = etree.SubElement(qp, f"{{{xades}}}UnsignedProperties")
    usp = etree.SubElement(unsigned, f"{{{xades}}}UnsignedSignatureProperties")
    stamp = etree.SubElement(usp, f"{{{xades}}}SignatureTimeStamp")
    etree.SubElement(stamp, f"{{{ds}}}CanonicalizationMethod", Algorithm=C14N_10)
    etree.SubElement(stamp, f"{{{xades}}}EncapsulatedTimeStamp").text = base64.b64encode(token.dump()).decode()
    return etree.tostring(root)


def test_xades_b_t_with_signature_timestamp(verify, citizen, vpki) -> None:
    signed = _add_signature_timestamp(xades_sign(citizen, c14n=C14N_10), vpki)
    report = verify(signed, XML)
    sig = report.signatures[0]
    assert sig.level == "B-T"
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    assert sig.timestamps[0].indication == "TOTAL_PASSED" and sig.timestamps[0].time == vpki.clock.now()


def test_xades_timestamp_over_other_data_is_not_passed(verify, citizen, vpki) -> None:
    signed = _add_signature_timestamp(xades_sign(citizen, c14n=C14N_10), vpki, over=b"something else")
    report = verify(signed, XML)
    assert report.signatures[0].level == "B-T"
    assert report.indication != "TOTAL_PASSED"
    assert report.signatures[0].timestamps[0].indication != "TOTAL_PASSED"


def test_two_signatures_are_each_validated(verify, citizen, vpki, tmp_path) -> None:
    """Each top-level signature is validated on its own. XML-DSig §6.6.4: the enveloped-signature
    transform removes only the signature that contains it, so a second enveloped signature added
    to the document later changes what the first one covers (its digest no longer matches)."""
    second = issue_citizen(vpki, tmp_path / "second", name="Anna Druga", semantics_id="PNOPL-90020254321")
    twice = xades_sign(second, etree.fromstring(xades_sign(citizen)))
    report = verify(twice, XML)
    first, last = report.signatures
    assert (first.indication, first.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert last.indication == "TOTAL_PASSED", report.to_dict()
    assert last.signer is not None and last.signer.semantics_identifier == "PNOPL-90020254321"
    assert report.indication == "TOTAL_FAILED"


def test_xades_timestamp_before_revocation_is_proof_of_existence(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.5.4 for XAdES B-T."""
    from datetime import timedelta

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    signed = _add_signature_timestamp(xades_sign(twin, c14n=C14N_10), vpki, at=clock.now() - timedelta(days=3))
    report = verify(signed, XML)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    late = _add_signature_timestamp(xades_sign(twin, c14n=C14N_10), vpki, at=clock.now() - timedelta(hours=1))
    assert (verify(late, XML).signatures[0].sub_indication) == "REVOKED_NO_POE"
