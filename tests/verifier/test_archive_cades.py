"""CAdES B-LTA: archive-time-stamp-v3 (ETSI EN 319 122-1 §5.5.3, ats-hash-index-v3 §5.5.2) and
its use as proof of existence (EN 319 102-1 §5.6.2)."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import cms

from tests.verifier.helpers import flip

VECTORS = Path(__file__).parent / "vectors" / "dss"
P7M = "application/pkcs7-mime"


def _archive(report):  # type: ignore[no-untyped-def]
    return [t for t in report.signatures[0].timestamps if t.kind == "archive"]


def test_eu_dss_b_lta_with_ats_hash_index_v3_is_intact(verify) -> None:
    """EN 319 122-1 §5.5.3: the imprint we compute matches the one EU DSS (an independent producer)
    time-stamped, so the archive timestamp is intact (its TSA is not one of ours: no chain)."""
    report = verify((VECTORS / "Signature-C-LTA.p7m").read_bytes(), P7M)
    print(report.to_dict())
    (stamp,) = _archive(report)
    assert stamp.sub_indication != "HASH_FAILURE"
    assert stamp.indication == "INDETERMINATE"


def _tamper_first_certificate(der: bytes) -> bytes:
    """Change one bit inside the signature of the first certificate of SignedData.certificates:
    covered by the archive timestamp's certificatesHashIndex, not by the CMS signature."""
    info = cms.ContentInfo.load(der)
    first = info["content"]["certificates"][0].dump()
    at = der.index(first) + len(first) - 5
    return flip(der, at)


def test_eu_dss_b_lta_tampered_certificate_is_hash_failure(verify) -> None:
    """§5.5.2: an element listed in ats-hash-index-v3 that no longer matches → the archive timestamp
    is not intact (HASH_FAILURE)."""
    report = verify(_tamper_first_certificate((VECTORS / "Signature-C-LTA.p7m").read_bytes()), P7M)
    (stamp,) = _archive(report)
    assert (stamp.indication, stamp.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert report.indication != "TOTAL_PASSED"


def test_eu_dss_two_archive_timestamps_with_ts_101_733_index(verify) -> None:
    """Two archive-time-stamp-v3 with the older ats-hash-index (ETSI TS 101 733 V2.2.1 §6.4.2,
    hashes of whole attributes), made by EU DSS: both intact, reported in time order; EU DSS's own
    tampered twin (an altered hash-index element) is not."""
    report = verify((VECTORS / "CAdESDoubleLTA.p7m").read_bytes(), P7M)
    stamps = _archive(report)
    assert len(stamps) == 2 and stamps[0].time < stamps[1].time
    assert all(s.sub_indication != "HASH_FAILURE" and s.indication != "TOTAL_FAILED" for s in stamps)
    tampered = verify((VECTORS / "CAdES-BpLTA_modified_ats_hash_element.p7m").read_bytes(), P7M)
    (stamp,) = _archive(tampered)
    assert (stamp.indication, stamp.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")


def _openssl_with_ats(signer, vpki, tmp_path, at):  # type: ignore[no-untyped-def]
    from tests.verifier.helpers import openssl_cms_sign
    from tests.verifier.ltvsign import add_cades_archive_timestamp
    from tests.verifier.test_pades import rsa_tsa

    content = tmp_path / "wniosek.txt"
    content.write_bytes("treść wniosku\n".encode())
    signed = openssl_cms_sign(signer, content, attached=True)
    return add_cades_archive_timestamp(signed, rsa_tsa(vpki), at)


def test_archive_timestamp_before_revocation_is_proof_of_existence(verify, vpki, clock, tmp_path) -> None:
    """EN 319 102-1 §5.6.2 (past signature validation): signed by openssl, archive-time-stamped
    three days ago, signer revoked one day ago → TOTAL_PASSED with the proof-of-existence warning;
    an archive timestamp after the revocation proves nothing more → INDETERMINATE/REVOKED_NO_POE."""
    from datetime import timedelta

    from tests.verifier.helpers import issue_citizen

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    report = verify(_openssl_with_ats(twin, vpki, tmp_path, clock.now() - timedelta(days=3)), P7M)
    sig = report.signatures[0]
    assert (report.indication, sig.indication) == ("TOTAL_PASSED", "TOTAL_PASSED"), report.to_dict()
    (stamp,) = _archive(report)
    assert stamp.indication == "TOTAL_PASSED" and stamp.time == clock.now() - timedelta(days=3)
    assert any("archive timestamp" in w and "§5.6.2" in w for w in sig.warnings)
    late = verify(_openssl_with_ats(twin, vpki, tmp_path, clock.now() - timedelta(hours=1)), P7M)
    assert (late.indication, late.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def _tamper_imprint(der: bytes) -> bytes:
    """One bit of the archive timestamp's message imprint changed (the token no longer matches)."""
    info = cms.ContentInfo.load(der)
    (attr,) = [a for a in info["content"]["signer_infos"][0]["unsigned_attrs"] if a["type"].dotted == "0.4.0.1733.2.4"]
    token = cms.ContentInfo.load(attr["values"][0].dump())
    tst = token["content"]["encap_content_info"]["content"].parsed
    return flip(der, der.index(tst["message_imprint"]["hashed_message"].native) + 3)


def test_tampered_archive_timestamp_is_no_proof(verify, vpki, clock, tmp_path) -> None:
    """A tampered twin: one bit of the archive timestamp's imprint changed → the token is not
    intact (HASH_FAILURE), no proof of existence → INDETERMINATE/REVOKED_NO_POE, never passed."""
    from datetime import timedelta

    from tests.verifier.helpers import issue_citizen

    twin = issue_citizen(vpki, tmp_path / "twin", revoked_at=clock.now() - timedelta(days=1))
    good = _openssl_with_ats(twin, vpki, tmp_path, clock.now() - timedelta(days=3))
    report = verify(_tamper_imprint(good), P7M)
    (stamp,) = _archive(report)
    assert stamp.indication != "TOTAL_PASSED"
    assert (report.indication, report.signatures[0].sub_indication) == ("INDETERMINATE", "REVOKED_NO_POE")


def test_archive_timestamp_on_a_valid_signature_is_b_lta(verify, citizen, vpki, clock, tmp_path) -> None:
    """EN 319 122-1 §6.3: the archive timestamp validates and the signature passes; each level's
    own requirement is reported (no signature-time-stamp nor revocation data here: B-T and B-LT
    are not met, so the level stays B-B although the archive timestamp is there)."""
    report = verify(_openssl_with_ats(citizen, vpki, tmp_path, clock.now()), P7M)
    sig = report.signatures[0]
    assert sig.indication == "TOTAL_PASSED", report.to_dict()
    (stamp,) = _archive(report)
    assert stamp.indication == "TOTAL_PASSED" and stamp.token_sha256 and stamp.tsa == "CN=Test TSA"
    assert [c.met for c in sig.baseline] == [True, False, False, True] and sig.level == "B-B"


def test_archive_timestamp_in_the_ts_119_102_2_report(verify, citizen, vpki, clock, tmp_path) -> None:
    """TS 119 102-2: the archive timestamp is a validation object (ObjectType …:timestamp, the
    token's SHA-256, its POE and its own status) that the signature's vr:ArchiveTimeStamp
    attribute points at; the document stays valid against the published XSD. The tampered twin's
    timestamp object says total-failed / HASH_FAILURE."""
    from lxml import etree

    from verifier.etsi_report import VR, schema, to_etsi_xml

    ns = {"vr": VR}
    good = _openssl_with_ats(citizen, vpki, tmp_path, clock.now())
    for data, main, sub in (
        (good, "total-passed", None),
        (_tamper_imprint(good), "total-failed", "HASH_FAILURE"),
    ):
        report = verify(data, P7M)
        document = etree.fromstring(to_etsi_xml(report))
        assert schema().validate(document), schema().error_log
        attribute = document.find(
            "vr:SignatureValidationReport/vr:SignatureAttributes/vr:ArchiveTimeStamp/vr:AttributeObject", ns
        )
        found = document.find(
            f"vr:SignatureValidationObjects/vr:ValidationObject[@id='{attribute.get('VOReference')}']", ns
        )
        assert found.findtext("vr:ObjectType", namespaces=ns) == "urn:etsi:019102:validationObject:timestamp"
        status = "vr:ValidationReport/vr:SignatureValidationStatus/"
        assert found.findtext(status + "vr:MainIndication", namespaces=ns) == f"urn:etsi:019102:mainindication:{main}"
        assert found.findtext(status + "vr:SubIndication", namespaces=ns) == (
            f"urn:etsi:019102:subindication:{sub}" if sub else None
        )
        assert (found.find("vr:POE", ns) is not None) == (sub is None)
