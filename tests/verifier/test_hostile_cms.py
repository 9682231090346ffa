"""Hostile CMS: missing/mismatched content-type and message-digest (RFC 5652 §5.3, §11.1-11.2),
deep ASN.1 nesting (X.690), truncation."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import cms

from tests.verifier.helpers import issue_citizen
from verifier.errors import UnparseableDocumentError
from verifier.signing import sign_report

CMS = "application/pkcs7-mime"


def _resign(citizen, mutate) -> bytes:  # type: ignore[no-untyped-def]
    """A CMS made by our report signer, its signed attributes changed by ``mutate`` and re-signed."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    der = sign_report(b"payload", citizen.key, citizen.cert, citizen.cert.not_valid_before_utc)
    info = cms.ContentInfo.load(der)
    signed_data = info["content"]
    signer = signed_data["signer_infos"][0]
    attrs = cms.CMSAttributes([a for a in mutate(list(signer["signed_attrs"]))])
    signature = citizen.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    new_signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": signer["sid"],
            "digest_algorithm": signer["digest_algorithm"],
            "signed_attrs": attrs,
            "signature_algorithm": signer["signature_algorithm"],
            "signature": signature,
        }
    )
    new_sd = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": signed_data["digest_algorithms"],
            "encap_content_info": signed_data["encap_content_info"],
            "certificates": signed_data["certificates"],
            "signer_infos": [new_signer],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": new_sd}).dump()


def test_own_cms_baseline_passes(verify, citizen) -> None:
    assert verify(_resign(citizen, lambda a: a), CMS).indication == "TOTAL_PASSED"


def test_missing_content_type_attribute(verify, citizen) -> None:
    report = verify(_resign(citizen, lambda a: [x for x in a if x["type"].native != "content_type"]), CMS)
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")


def test_mismatched_content_type_attribute(verify, citizen) -> None:
    def swap(attrs):  # type: ignore[no-untyped-def]
        return [
            cms.CMSAttribute({"type": "content_type", "values": ["signed_data"]})
            if x["type"].native == "content_type"
            else x
            for x in attrs
        ]

    report = verify(_resign(citizen, swap), CMS)
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")


def test_missing_message_digest(verify, citizen) -> None:
    report = verify(_resign(citizen, lambda a: [x for x in a if x["type"].native != "message_digest"]), CMS)
    assert report.indication == "TOTAL_FAILED"


def test_mismatched_message_digest(verify, citizen) -> None:
    def swap(attrs):  # type: ignore[no-untyped-def]
        return [
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(b"other").digest()]})
            if x["type"].native == "message_digest"
            else x
            for x in attrs
        ]

    report = verify(_resign(citizen, swap), CMS)
    assert (report.indication, report.signatures[0].sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_signer_certificate_missing(verify, citizen) -> None:
    der = sign_report(b"payload", citizen.key, citizen.cert, citizen.cert.not_valid_before_utc)
    info = cms.ContentInfo.load(der)
    sd = info["content"]
    stripped = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": sd["digest_algorithms"],
            "encap_content_info": sd["encap_content_info"],
            "signer_infos": sd["signer_infos"],
        }
    )
    report = verify(cms.ContentInfo({"content_type": "signed_data", "content": stripped}).dump(), CMS)
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND")


def _nested(depth: int) -> bytes:
    inner = b"\x05\x00"
    for _ in range(depth):
        length = len(inner)
        if length < 128:
            inner = b"\x30" + bytes([length]) + inner
        else:
            n = (length.bit_length() + 7) // 8
            inner = b"\x30" + bytes([0x80 | n]) + length.to_bytes(n, "big") + inner
    return inner


@pytest.mark.parametrize(
    "body",
    [
        _nested(5000),
        b"\x30\x80" * 100000,
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x03\x02\x01",
        b"-----BEGIN PKCS7-----\nMIIB\n",
        b"\x30\x03\x06\x01\x00",
    ],
    ids=["deep-definite", "deep-indefinite", "huge-length", "truncated", "truncated-pem", "not-signed-data"],
)
def test_hostile_asn1_is_refused_quickly(verify, body) -> None:
    with pytest.raises(UnparseableDocumentError):
        verify(body, CMS)


def test_truncations_of_a_real_signature_never_pass(verify, citizen, tmp_path) -> None:
    from tests.verifier.helpers import openssl_cms_sign

    content = tmp_path / "c.txt"
    content.write_bytes(b"abc")
    der = openssl_cms_sign(citizen, content, attached=True)
    for cut in range(1, len(der), max(1, len(der) // 25)):
        try:
            report = verify(der[:cut], CMS)
        except UnparseableDocumentError:
            continue
        assert report.indication != "TOTAL_PASSED"


pytestmark = pytest.mark.interop
_ = issue_citizen
