"""The UPO checked by implementations no one here wrote: xmlsec1 (XML-DSig core), signxml (XAdES),
``openssl ts -verify`` (the signature timestamp over ds:SignatureValue, EN 319 132-1 §5.3)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from tests.receipts.conftest import PORTAL, upp_body
from tests.verifier.helpers import tool

pytestmark = pytest.mark.interop
NS = {"ds": "http://www.w3.org/2000/09/xmldsig#", "xades": "http://uri.etsi.org/01903/v1.3.2#"}


@pytest.fixture
def upo(receipt_service) -> bytes:  # type: ignore[no-untyped-def]
    return bytes(receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None).receipt.xml)


def test_xmlsec1_verifies_the_xmldsig_core(upo, vpki, tmp_path: Path) -> None:
    (tmp_path / "upo.xml").write_bytes(upo)
    (tmp_path / "root.pem").write_bytes(vpki.root.public_bytes(Encoding.PEM))
    result = subprocess.run(
        [
            tool("xmlsec1"),
            "--verify",
            "--trusted-pem",
            str(tmp_path / "root.pem"),
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            str(tmp_path / "upo.xml"),
        ],
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"OK" in result.stderr


def test_xmlsec1_rejects_a_changed_upo(upo, vpki, tmp_path: Path) -> None:
    (tmp_path / "upo.xml").write_bytes(upo.replace(b"56725", b"56726"))
    (tmp_path / "root.pem").write_bytes(vpki.root.public_bytes(Encoding.PEM))
    result = subprocess.run(
        [
            tool("xmlsec1"),
            "--verify",
            "--trusted-pem",
            str(tmp_path / "root.pem"),
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            str(tmp_path / "upo.xml"),
        ],
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert result.returncode != 0


def test_signxml_verifies_the_xades(upo, vpki) -> None:
    seal = vpki.cert("receipt-seal")
    config = XAdESSignatureConfiguration(expect_references=True)
    results = XAdESVerifier().verify(upo, x509_cert=seal, expect_config=config)
    signed = [r for r in results if hasattr(r, "signed_xml")]
    assert signed, results


def test_openssl_ts_verify_accepts_the_signature_timestamp(upo, vpki, tmp_path: Path) -> None:
    root = etree.fromstring(upo)
    value = root.find("ds:Signature/ds:SignatureValue", NS)
    method = root.find(".//xades:SignatureTimeStamp/ds:CanonicalizationMethod", NS).get("Algorithm")
    assert method == "http://www.w3.org/2001/10/xml-exc-c14n#"
    (tmp_path / "data.bin").write_bytes(etree.tostring(value, method="c14n", exclusive=True))
    token = root.find(".//xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp", NS).text
    (tmp_path / "token.der").write_bytes(base64.b64decode(token))
    (tmp_path / "root.pem").write_bytes(vpki.root.public_bytes(Encoding.PEM))
    (tmp_path / "tsa.pem").write_bytes(vpki.cert("tsa").public_bytes(Encoding.PEM))
    command = [
        tool("openssl"),
        "ts",
        "-verify",
        "-token_in",
        "-in",
        str(tmp_path / "token.der"),
        "-data",
        str(tmp_path / "data.bin"),
        "-CAfile",
        str(tmp_path / "root.pem"),
        "-untrusted",
        str(tmp_path / "tsa.pem"),
    ]
    result = subprocess.run(command, check=False, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
    assert b"Verification: OK" in result.stdout
    (tmp_path / "data.bin").write_bytes(b"<ds:SignatureValue>other</ds:SignatureValue>")
    assert subprocess.run(command, check=False, capture_output=True, timeout=30).returncode != 0
