"""The validation report in the ETSI TS 119 102-2 XML format: schema-valid against the published
XSD (verifier/schemas, sources in its README), and signed like the JSON report."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from lxml import etree

from tests.verifier.helpers import issue_citizen, openssl_cms_sign, tool
from tests.verifier.test_resources import URL, _client
from verifier.etsi_report import VR, schema, to_etsi_xml

pytestmark = pytest.mark.interop


def _signed(signer, tmp_path) -> bytes:  # type: ignore[no-untyped-def]
    content = tmp_path / "c.txt"
    content.write_bytes(b"tresc wniosku\n")
    return openssl_cms_sign(signer, content, attached=True)


def test_xml_report_is_schema_valid_with_indications(verify, citizen, vpki, clock, tmp_path) -> None:
    """TS 119 102-2 §5: main indication and sub-indication URIs, one report per signature."""
    revoked = issue_citizen(vpki, tmp_path / "r", revoked_at=clock.now() - timedelta(days=1))
    for signer, main, sub in (
        (citizen, "total-passed", None),
        (revoked, "indeterminate", "REVOKED_NO_POE"),
    ):
        xml = to_etsi_xml(verify(_signed(signer, tmp_path), "application/pkcs7-mime"))
        document = etree.fromstring(xml)
        validator = schema()
        assert validator.validate(document), validator.error_log
        ns = {"vr": VR}
        assert document.findtext(
            "vr:SignatureValidationReport/vr:SignatureValidationStatus/vr:MainIndication", namespaces=ns
        ) == (f"urn:etsi:019102:mainindication:{main}")
        found = document.findtext(
            "vr:SignatureValidationReport/vr:SignatureValidationStatus/vr:SubIndication", namespaces=ns
        )
        assert found == (f"urn:etsi:019102:subindication:{sub}" if sub else None)
        # The signer's certificate is a validation object the signer information points at.
        reference = document.find("vr:SignatureValidationReport/vr:SignerInformation/vr:SignerCertificate", ns)
        assert (
            document.find(
                f"vr:SignatureValidationObjects/vr:ValidationObject[@id='{reference.get('VOReference')}']", ns
            )
            is not None
        )


def test_schema_rejects_a_broken_report(verify, citizen, tmp_path) -> None:
    """The schema check is real: a report without its status is invalid."""
    document = etree.fromstring(to_etsi_xml(verify(_signed(citizen, tmp_path), "application/pkcs7-mime")))
    status = document.find(f"{{{VR}}}SignatureValidationReport/{{{VR}}}SignatureValidationStatus")
    status.getparent().remove(status)
    assert not schema().validate(document)


def test_xml_report_over_http_plain_and_signed(app_settings, db, clock, key_store, vpki, citizen, tmp_path) -> None:
    """?format=etsi → application/xml; with ?signed=true the same XML in CMS SignedData signed by
    the report key, verifiable with openssl."""
    client = _client(app_settings, db, clock, key_store)
    body = _signed(citizen, tmp_path)
    plain = client.simulate_post(
        URL, body=body, params={"format": "etsi"}, headers={"Content-Type": "application/pkcs7-mime"}
    )
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("application/xml")
    assert schema().validate(etree.fromstring(plain.content))
    signed = client.simulate_post(
        URL, body=body, params={"format": "etsi", "signed": "true"}, headers={"Content-Type": "application/pkcs7-mime"}
    )
    assert signed.headers["content-type"].startswith("application/pkcs7-mime")
    p7m = tmp_path / "report.p7m"
    p7m.write_bytes(signed.content)
    root, _ = vpki.write_chain(tmp_path)
    out = subprocess.run(
        [tool("openssl"), "cms", "-verify", "-inform", "DER", "-in", str(p7m), "-CAfile", str(root), "-purpose", "any"],
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert schema().validate(etree.fromstring(out.stdout))
