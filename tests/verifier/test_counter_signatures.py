"""Counter-signatures in CAdES (RFC 5652 §11.4, EN 319 122-1 §5.2.7) and XAdES
(EN 319 132-1 §5.2.7.2) inside ASiC-E e-packages: produced by the packer's counter-sign (over a
main CAdES signature made by ``openssl cms``, or a XAdES one made by the packer), validated by the
verifier with EN 319 102-1 indications of their own, which never change the indication of the
signature they counter.

The vectors are built at test time (no committed keys): valid, a tampered countered signature
value, a revoked or untrusted counter-signer, broken counter-signature bytes, and hostile shapes
(not a SignerInfo, nesting bombs, huge counts)."""

from __future__ import annotations

import base64
import json
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from core import der
from core.cms import ID_DATA, SignedDataSigner
from epackage import pack_and_sign
from epackage.countersign import counter_sign_package
from epackage.pack import open_package, replace_file
from tests.config.openapi_check import check_response
from tests.verifier.helpers import Citizen, issue_citizen
from tests.verifier.test_asic import ASIC_E, FORMS, _cades_package, signer_of
from verifier.common import present
from verifier.counter import MAX_COUNTER_DEPTH, MAX_COUNTER_SIGNATURES
from verifier.etsi_report import schema, to_etsi_xml
from verifier.report import ValidationReport

WITNESS = "Anna Świadek"
DS = "http://www.w3.org/2000/09/xmldsig#"
P7S = "META-INF/signature001.p7s"
XML = "META-INF/signatures0.xml"


def _witness(vpki, tmp_path: Path, **kwargs: Any) -> Citizen:  # type: ignore[no-untyped-def]
    return issue_citizen(vpki, tmp_path / "witness", name=WITNESS, semantics_id="PNOPL-90020212345", **kwargs)


def _xades(citizen: Citizen, clock) -> bytes:  # type: ignore[no-untyped-def]
    return pack_and_sign(FORMS, signer_of(citizen), at=clock.now())


def _only(report: ValidationReport) -> Any:
    assert len(report.signatures) == 1, report.to_dict()
    return report.signatures[0]


def _counter(report: ValidationReport, number: int = 0) -> Any:
    return _only(report).counter_signatures[number]


def _edit(package: bytes, name: str, change: Any) -> bytes:
    return replace_file(package, name, change(open_package(package)[name]))


# --- valid ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xades", "cades"])
def test_valid_counter_signature_is_reported_with_signer_time_and_chain(verify, vpki, citizen, clock, tmp_path, kind):
    """RFC 5652 §11.4 / EN 319 132-1 §5.2.7.2: a counter-signature over the main signature value,
    validated like a signature (EN 319 102-1 §5.2): TOTAL_PASSED with its own chain."""
    package = _xades(citizen, clock) if kind == "xades" else _cades_package(citizen, tmp_path)
    at = clock.now() - timedelta(minutes=5)
    package = counter_sign_package(package, signer_of(_witness(vpki, tmp_path)), at=at)
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    main = _only(report)
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_PASSED", None)
    assert counter.counters == main.id and counter.id == f"{main.id}/counter-0"
    assert counter.signer.name == WITNESS
    assert counter.format == ("XAdES" if kind == "xades" else "CAdES")
    assert counter.claimed_signing_time == at.replace(microsecond=0)
    assert [c.subject for c in counter.certificate_chain][1:] == [
        vpki.issuing.subject.rfc4514_string(),
        vpki.root.subject.rfc4514_string(),
    ]
    assert any(e.status == "good" for e in counter.revocation)
    assert report.package.signature_files[0].counter_signatures == 1
    assert not any("counter-signature" in w for w in main.warnings)


def test_two_counter_signers_and_a_nested_xades_counter_signature(verify, vpki, citizen, clock, tmp_path):
    """EN 319 132-1 §5.2.7.2: a counter-signature may itself be counter-signed; each names what it
    counters."""
    package = _xades(citizen, clock)
    witness = signer_of(_witness(vpki, tmp_path))
    package = counter_sign_package(package, witness, at=clock.now())
    first = _counter(verify(package, ASIC_E))
    counter_id = first.id.rsplit("/", 1)[0]  # the main signature's Id in the file
    root = etree.fromstring(open_package(package)[XML])
    nested_id = root.findall(f".//{{{DS}}}Signature")[1].get("Id")
    second = signer_of(issue_citizen(vpki, tmp_path / "second", name="Ewa Druga"))
    package = counter_sign_package(package, second, signature_id=nested_id, at=clock.now())
    package = counter_sign_package(package, second, signature_id=counter_id.split("#", 1)[1], at=clock.now())
    report = verify(package, ASIC_E)
    counters = _only(report).counter_signatures
    assert [c.indication for c in counters] == ["TOTAL_PASSED"] * 3, report.to_dict()
    assert [c.counters for c in counters] == [_only(report).id, _only(report).id, counters[0].id]
    assert [c.signer.name for c in counters] == [WITNESS, "Ewa Druga", "Ewa Druga"]
    # TS 119 102-2: the nested one is listed by the counter-signature it counters.
    document = etree.fromstring(to_etsi_xml(report))
    schema().assertValid(document)
    ns = {"vr": "http://uri.etsi.org/19102/v1.2.1#"}
    pointers = [
        [a.get("VOReference") for a in r.iterfind("vr:SignatureAttributes/vr:CounterSignature/vr:AttributeObject", ns)]
        for r in document.iterfind("vr:SignatureValidationReport", ns)
    ]
    assert pointers == [["S-0-C-0", "S-0-C-1"], ["S-0-C-2"], [], []]


# --- tampered countered signature value ------------------------------------------------------


def _tamper_xades_value(content: bytes) -> bytes:
    root = etree.fromstring(content)
    value = root.find(f"{{{DS}}}Signature/{{{DS}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[-1] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _tamper_cms_value(content: bytes) -> bytes:
    signature = cms.ContentInfo.load(content)["content"]["signer_infos"][0]["signature"].native
    tampered = signature[:-1] + bytes([signature[-1] ^ 0x01])
    assert content.count(signature) == 1
    return content.replace(signature, tampered)


TAMPER = {"xades": (XML, _tamper_xades_value), "cades": (P7S, _tamper_cms_value)}


@pytest.mark.parametrize("kind", ["xades", "cades"])
def test_tampered_countered_signature_value(verify, vpki, citizen, clock, tmp_path, kind):
    """The countered value changed after counter-signing: the main signature fails
    (SIG_CRYPTO_FAILURE) and the counter-signature's digest no longer matches (HASH_FAILURE)."""
    package = _xades(citizen, clock) if kind == "xades" else _cades_package(citizen, tmp_path)
    package = counter_sign_package(package, signer_of(_witness(vpki, tmp_path)), at=clock.now())
    package = _edit(package, *TAMPER[kind])
    report = verify(package, ASIC_E)
    assert (_only(report).indication, _only(report).sub_indication) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE"), report.to_dict()
    assert counter.signer.name == WITNESS


# --- counter-signer revoked or untrusted -----------------------------------------------------


@pytest.mark.parametrize("kind", ["xades", "cades"])
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"revoked_at": "yesterday"}, ("INDETERMINATE", "REVOKED_NO_POE")),
        ({"foreign": True}, ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")),
    ],
    ids=["revoked", "untrusted"],
)
def test_counter_signer_revoked_or_untrusted_leaves_main_indication(
    verify, vpki, citizen, clock, tmp_path, kind, options, expected
):
    """EN 319 102-1 §5.2.6 for the counter-signer's certificate; the main signature keeps
    TOTAL_PASSED, the package passes (coverage is by main signatures) and the report says it."""
    if options.get("revoked_at") == "yesterday":
        options = {"revoked_at": clock.now() - timedelta(days=1)}
    package = _xades(citizen, clock) if kind == "xades" else _cades_package(citizen, tmp_path)
    package = counter_sign_package(package, signer_of(_witness(vpki, tmp_path, **options)), at=clock.now())
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_PASSED"
    assert _only(report).indication == "TOTAL_PASSED"
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == expected, report.to_dict()
    assert any(f"counter-signature {counter.id} is {'/'.join(expected)}" in w for w in _only(report).warnings)


# --- bad counter-signature bytes -------------------------------------------------------------


def _break_xades_counter_value(content: bytes) -> bytes:
    root = etree.fromstring(content)
    value = root.findall(f".//{{{DS}}}Signature")[1].find(f"{{{DS}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[5] ^= 0xFF
    value.text = base64.b64encode(bytes(raw)).decode()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _break_cms_counter_value(content: bytes) -> bytes:
    signer = cms.ContentInfo.load(content)["content"]["signer_infos"][0]
    counter = signer["unsigned_attrs"][0]["values"][0]
    value = counter["signature"].native
    assert content.count(value) == 1
    return content.replace(value, value[:10] + bytes([value[10] ^ 0xFF]) + value[11:])


BREAK = {"xades": (XML, _break_xades_counter_value), "cades": (P7S, _break_cms_counter_value)}


@pytest.mark.parametrize("kind", ["xades", "cades"])
def test_bad_counter_signature_value_is_sig_crypto_failure(verify, vpki, citizen, clock, tmp_path, kind):
    """EN 319 102-1 §5.2.7: a counter-signature value that does not verify is
    TOTAL_FAILED/SIG_CRYPTO_FAILURE; the main signature and the package still pass."""
    package = _xades(citizen, clock) if kind == "xades" else _cades_package(citizen, tmp_path)
    package = counter_sign_package(package, signer_of(_witness(vpki, tmp_path)), at=clock.now())
    package = _edit(package, *BREAK[kind])
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_PASSED"
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE"), report.to_dict()


def test_xades_counter_signature_must_reference_the_countered_signature_value(verify, vpki, citizen, clock, tmp_path):
    """EN 319 132-1 §5.2.7.2: the CountersignedSignature reference points at the countered
    ds:SignatureValue; pointing elsewhere (here: the SignedProperties) is a FORMAT_FAILURE."""
    package = counter_sign_package(_xades(citizen, clock), signer_of(_witness(vpki, tmp_path)), at=clock.now())

    def retarget(content: bytes) -> bytes:
        root = etree.fromstring(content)
        main, counter = root.findall(f".//{{{DS}}}Signature")[:2]
        reference = counter.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
        reference.set("URI", f"#{main.get('Id')}-SignedProperties")
        return bytes(etree.tostring(root))

    report = verify(_edit(package, XML, retarget), ASIC_E)
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert "§5.2.7.2" in counter.warnings[0]


def test_xades_counter_signature_element_without_a_signature(verify, citizen, clock):
    """An empty xades:CounterSignature: a FORMAT_FAILURE entry. The XAdES schema, which signxml
    enforces on the whole ds:Signature, requires a ds:Signature inside it, so the main signature is
    malformed too (FORMAT_FAILURE): a schema-invalid signature, not a failed counter-signature."""
    package = _xades(citizen, clock)

    def empty_counter(content: bytes) -> bytes:
        text = content.decode()
        marker = "</xades:QualifyingProperties>"
        addition = (
            "<xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:CounterSignature/>"
            "</xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
        )
        return text.replace(marker, addition + marker, 1).encode()

    report = verify(_edit(package, XML, empty_counter), ASIC_E)
    assert (_only(report).indication, _only(report).sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")


# --- hostile CMS shapes ----------------------------------------------------------------------


def _with_unsigned(content: bytes, attributes: bytes, certificate: bytes | None = None) -> bytes:
    """The p7s with its first SignerInfo's unsigned attributes replaced by ``attributes`` (the
    DER of a SET OF Attribute, given raw so that any bytes can be put there), and one more
    ``certificate`` (DER) in the SignedData."""
    info = cms.ContentInfo.load(content)
    signed_data = info["content"]
    signer = signed_data["signer_infos"][0]
    names = ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm", "signature")
    body = b"".join(signer[n].dump() for n in names if present(signer[n]))
    signer_der = der.tlv(0x30, body + b"\xa1" + attributes[1:])
    fields = {n: signed_data[n] for n in ("version", "digest_algorithms", "encap_content_info", "certificates")}
    fields["signer_infos"] = cms.SignerInfos([cms.SignerInfo.load(signer_der)])
    if certificate is not None:
        extra = cms.CertificateChoices(name="certificate", value=asn1_x509.Certificate.load(certificate))
        fields["certificates"] = cms.CertificateSet([*signed_data["certificates"], extra])
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(fields)}).dump())


def _counter_attribute(*values: bytes) -> bytes:
    return der.set_of(der.sequence(der.oid("1.2.840.113549.1.9.6"), der.set_of(*values)))


def test_counter_signature_that_is_not_a_signer_info_is_a_format_failure(verify, citizen, tmp_path):
    """A countersignature attribute whose value is an OCTET STRING: FORMAT_FAILURE, never a 500."""
    package = _edit(
        _cades_package(citizen, tmp_path), P7S, lambda c: _with_unsigned(c, _counter_attribute(der.octet_string(b"x")))
    )
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_PASSED"
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")


def test_counter_signature_with_content_type_attribute_is_a_format_failure(verify, vpki, citizen, tmp_path):
    """RFC 5652 §11.4: a countersignature has no content-type attribute. A whole SignedData
    SignerInfo (which has one) reused as a counter-signature is refused."""
    witness = _witness(vpki, tmp_path)
    signer = SignedDataSigner(witness.cert.public_bytes(Encoding.DER), witness.key, content_type=ID_DATA)
    package = _cades_package(citizen, tmp_path)

    def add(content: bytes) -> bytes:
        main = cms.ContentInfo.load(content)["content"]["signer_infos"][0]["signature"].native
        whole = cms.ContentInfo.load(signer.sign(main, include_certificate=True))
        return _with_unsigned(content, _counter_attribute(whole["content"]["signer_infos"][0].dump()))

    report = verify(_edit(package, P7S, add), ASIC_E)
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert "content-type" in counter.warnings[0]


def _nested(witness: Citizen, top_signature: bytes, depth: int) -> bytes:
    """A chain of ``depth`` counter-signatures, each over the one above (DER of the first)."""
    signer = SignedDataSigner(witness.cert.public_bytes(Encoding.DER), witness.key, content_type=ID_DATA)
    chain = []
    above = top_signature
    for _ in range(depth):
        info = cms.SignerInfo.load(signer.counter_signer_info(above, datetime(2026, 1, 1, tzinfo=UTC)))
        chain.append(info)
        above = info["signature"].native
    nested = b""
    for info in reversed(chain):
        body = der_body(info.dump())
        if nested:
            body += b"\xa1" + _counter_attribute(nested)[1:]
        nested = der.tlv(0x30, body)
    return nested


def der_body(encoding: bytes) -> bytes:
    """The contents octets of a DER TLV."""
    length = encoding[1]
    return encoding[2:] if length < 0x80 else encoding[2 + (length & 0x7F) :]


def test_nesting_bomb_is_bounded(verify, vpki, citizen, tmp_path):
    """Counter-signatures nested deeper than MAX_COUNTER_DEPTH are not validated: the report
    says so (INDETERMINATE) instead of recursing."""
    witness = _witness(vpki, tmp_path)
    package = _cades_package(citizen, tmp_path)

    def add(content: bytes) -> bytes:
        main = cms.ContentInfo.load(content)["content"]["signer_infos"][0]["signature"].native
        nested = _nested(witness, main, MAX_COUNTER_DEPTH + 2)
        return _with_unsigned(content, _counter_attribute(nested), witness.cert.public_bytes(Encoding.DER))

    report = verify(_edit(package, P7S, add), ASIC_E)
    counters = _only(report).counter_signatures
    assert [c.indication for c in counters[:MAX_COUNTER_DEPTH]] == ["TOTAL_PASSED"] * MAX_COUNTER_DEPTH
    assert len(counters) == MAX_COUNTER_DEPTH + 1
    assert (counters[-1].indication, counters[-1].sub_indication) == ("INDETERMINATE", "GENERIC")
    assert report.indication == "TOTAL_PASSED"


def test_huge_number_of_counter_signatures_is_bounded(verify, vpki, citizen, tmp_path):
    """More than MAX_COUNTER_SIGNATURES values (here not even SignerInfos: each one a
    FORMAT_FAILURE): the rest are not validated (one INDETERMINATE entry says so)."""
    package = _cades_package(citizen, tmp_path)
    garbage = [der.octet_string(n.to_bytes(2, "big")) for n in range(5000)]
    report = verify(_edit(package, P7S, lambda c: _with_unsigned(c, _counter_attribute(*garbage))), ASIC_E)
    counters = _only(report).counter_signatures
    assert len(counters) == MAX_COUNTER_SIGNATURES + 1
    assert {c.sub_indication for c in counters[:-1]} == {"FORMAT_FAILURE"}
    assert (counters[-1].indication, counters[-1].sub_indication) == ("INDETERMINATE", "GENERIC")
    assert report.indication == "TOTAL_PASSED"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary(max_size=200))
def test_arbitrary_counter_signature_bytes_never_break_the_report(verify, citizen, tmp_path, value) -> None:
    """Hypothesis: any bytes inside a SEQUENCE as a countersignature value give a report (never
    an exception): the main signature untouched and the counter-signature not passing, or, when
    the bytes break the DER of the whole signature file, that file is a FORMAT_FAILURE."""
    package = _edit(
        _cades_package(citizen, tmp_path), P7S, lambda c: _with_unsigned(c, _counter_attribute(der.tlv(0x30, value)))
    )
    report = verify(package, ASIC_E)
    if not report.signatures:
        assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
        assert report.package.signature_files[0].problems
        return
    assert _only(report).indication == "TOTAL_PASSED"
    assert [c.indication for c in _only(report).counter_signatures] != ["TOTAL_PASSED"]


# --- the report: JSON against the OpenAPI document, TS 119 102-2 XML ------------------------


def test_report_with_counter_signatures_matches_openapi_and_etsi_schema(verify, vpki, citizen, clock, tmp_path):
    """The JSON report matches the OpenAPI document; the TS 119 102-2 XML report (§A.11
    CounterSignature) validates against the published schema."""
    package = counter_sign_package(_xades(citizen, clock), signer_of(_witness(vpki, tmp_path)), at=clock.now())
    report = verify(package, ASIC_E)
    body = json.dumps(report.to_dict()).encode()
    check_response("POST", "/api/v1/verifications", 200, "application/json", body)
    document = etree.fromstring(to_etsi_xml(report))
    schema().assertValid(document)
    ns = {"vr": "http://uri.etsi.org/19102/v1.2.1#"}
    reports = document.findall("vr:SignatureValidationReport", ns)
    assert [r.findtext("vr:SignatureIdentifier/vr:DAIdentifier", namespaces=ns) for r in reports] == [
        _only(report).id,
        _counter(report).id,
    ]
    pointer = reports[0].find("vr:SignatureAttributes/vr:CounterSignature/vr:AttributeObject", ns)
    assert pointer.get("VOReference") == reports[1].find("vr:SignatureIdentifier", ns).get("id")
    assert reports[1].findtext("vr:SignerInformation/vr:Signer", namespaces=ns) == WITNESS


def test_openapi_names_every_field_of_a_counter_signature_report() -> None:
    """The OpenAPI schemas name exactly the fields the report dataclasses serialise."""
    from dataclasses import fields

    from verifier import openapi
    from verifier.report import CounterSignatureReport, SignatureReport

    schemas = openapi.schemas()
    assert {f.name for f in fields(CounterSignatureReport)} == set(schemas["CounterSignatureReport"]["properties"])
    assert "counter_signatures" in schemas["SignatureReport"]["properties"]
    assert {f.name for f in fields(SignatureReport)} == set(schemas["SignatureReport"]["properties"])


# --- independent producers: EU DSS (stored vectors) and xmlsec1 (at test time) -------------

VECTORS = Path(__file__).parent / "vectors" / "dss"
ASIC_S = "application/vnd.etsi.asic-s+zip"


@pytest.mark.interop
def test_xmlsec1_counter_signature_over_our_xades(verify, vpki, citizen, clock, tmp_path):
    """An independent implementation (xmlsec1) counter-signs our XAdES: a plain XML-DSig
    counter-signature, validated like ours."""
    from tests.verifier.xmlsign import xmlsec_counter_sign

    witness = _witness(vpki, tmp_path)
    package = _xades(citizen, clock)
    package = _edit(package, XML, lambda content: xmlsec_counter_sign(content, witness, tmp_path))
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    counter = _counter(report)
    assert (counter.indication, counter.format, counter.signer.name) == ("TOTAL_PASSED", "XML-DSig", WITNESS)


@pytest.mark.interop
def test_xmlsec1_counter_signature_that_also_references_a_data_file(verify, vpki, citizen, clock, tmp_path):
    """EN 319 132-1 §5.2.7.2 allows references besides the CountersignedSignature one: the
    counter-signature's reference to a file of the container resolves (and a changed file breaks
    it); coverage of the package stays the main signatures' business."""
    from tests.verifier.xmlsign import xmlsec_counter_sign

    witness = _witness(vpki, tmp_path)
    package = _xades(citizen, clock)
    also = ("wniosek-1.xml", FORMS["wniosek-1.xml"])
    package = _edit(package, XML, lambda content: xmlsec_counter_sign(content, witness, tmp_path, also=also))
    report = verify(package, ASIC_E)
    assert _counter(report).indication == "TOTAL_PASSED", report.to_dict()
    changed = replace_file(package, "wniosek-1.xml", b"<wniosek>inny</wniosek>")
    report = verify(changed, ASIC_E)
    assert (_counter(report).indication, _counter(report).sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


@pytest.mark.interop
def test_dss_xades_counter_signature_in_asic_s(verify):
    """EU DSS's ASiC-S with a XAdES counter-signature (vectors/dss README): the counter-signature's
    cryptography holds; DSS's test PKI is not ours, so its chain is not trusted."""
    report = verify((VECTORS / "container-with-counter-signature.asics").read_bytes(), ASIC_S)
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert counter.counters == _only(report).id and counter.format == "XAdES"
    assert counter.signer.name == "Ágnes Juhász"


@pytest.mark.interop
def test_dss_xades_counter_signature_tampered_twin(verify):
    """The same DSS container with one bit of the countered SignatureValue changed here."""
    data = (VECTORS / "container-with-counter-signature.asics").read_bytes()
    package = _edit(data, "META-INF/signatures.xml", _tamper_xades_value)
    report = verify(package, ASIC_S)
    assert (_only(report).indication, _only(report).sub_indication) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")
    assert (_counter(report).indication, _counter(report).sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


@pytest.mark.interop
def test_dss_cades_counter_signature_in_asic_s(verify):
    """EU DSS's ASiC-S with a CAdES countersignature attribute: the counter-signature verifies
    (untrusted DSS chain). Its main signature does not match the data file here, as in DSS's own
    test, which checks only the counter-signature."""
    report = verify((VECTORS / "containerWithCounterSig.asics").read_bytes(), ASIC_S)
    assert (_only(report).indication, _only(report).sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert counter.format == "CAdES"


@pytest.mark.interop
def test_dss_sha1_cms_counter_signature_is_a_crypto_constraints_failure(verify):
    """EN 319 102-1 §5.2.8: DSS's SHA-1 counter-signature fails the cryptographic constraints."""
    report = verify((VECTORS / "counterSig.p7m").read_bytes(), "application/pkcs7-mime")
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE")


@pytest.mark.interop
@pytest.mark.parametrize("name", ["xades-fake-counter-signature.xml", "xades-counter-signature-injected.xml"])
def test_dss_counter_signatures_not_over_the_signature_value_fail(verify, name):
    """DSS's attack vectors: a CountersignedSignature reference to a ds:Object instead of the
    countered SignatureValue (DSS: not valid). Ours: FORMAT_FAILURE; the main signature unaffected."""
    report = verify((VECTORS / name).read_bytes(), "application/xml")
    assert _only(report).indication == "INDETERMINATE"  # DSS's chain is not ours
    counter = _counter(report)
    assert (counter.indication, counter.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")


def test_pades_signature_with_a_counter_signature(verify, vpki, citizen, clock, tmp_path):
    """A countersignature attribute added to a PAdES signature's SignerInfo (RFC 5652 §11.4) in
    the reserved /Contents space (outside the byte range): reported like in CAdES."""
    from epackage.countersign import counter_sign_cms
    from tests.verifier.pdfsign import pades_sign

    pdf = pades_sign(citizen, bytes_reserved=16384)
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    original = cms.ContentInfo.load(bytes.fromhex(pdf[start:end].decode()), strict=False).dump()
    countered = counter_sign_cms(original, signer_of(_witness(vpki, tmp_path)), clock.now(), None)
    assert 2 * len(countered) <= end - start
    pdf = pdf[:start] + countered.hex().encode().ljust(end - start, b"0") + pdf[end:]
    report = verify(pdf, "application/pdf")
    assert _only(report).indication == "TOTAL_PASSED", report.to_dict()
    counter = _counter(report)
    assert (counter.indication, counter.signer.name, counter.format) == ("TOTAL_PASSED", WITNESS, "CAdES")


URI_CHARACTERS = string.ascii_letters + string.digits + "#-_./"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(uri=st.text(alphabet=URI_CHARACTERS, max_size=40), value=st.binary(max_size=96), digest=st.binary(max_size=48))
def test_arbitrary_xades_counter_signature_fields_never_break_the_report(
    verify, vpki, citizen, clock, tmp_path, uri, value, digest
) -> None:
    """Hypothesis: any reference URI, digest and signature value in a XAdES counter-signature
    give a report in which it does not pass and the main signature is untouched. (A URI that is
    not an xs:anyURI makes the whole ds:Signature schema-invalid, which signxml refuses: then the
    main signature is a FORMAT_FAILURE too, see the empty CounterSignature test.)"""
    package = counter_sign_package(_xades(citizen, clock), signer_of(_witness(vpki, tmp_path)), at=clock.now())

    def mutate(content: bytes) -> bytes:
        root = etree.fromstring(content)
        counter = root.findall(f".//{{{DS}}}Signature")[1]
        reference = counter.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
        reference.set("URI", uri)
        reference.find(f"{{{DS}}}DigestValue").text = base64.b64encode(digest).decode()
        counter.find(f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()
        return bytes(etree.tostring(root))

    report = verify(_edit(package, XML, mutate), ASIC_E)
    assert _only(report).indication == "TOTAL_PASSED"
    assert _counter(report).indication != "TOTAL_PASSED"
