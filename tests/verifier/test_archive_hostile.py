"""Hostile archive timestamps: broken tokens, missing or oversized hash indexes and many tokens
give a clear per-timestamp FORMAT_FAILURE (never a 500, never TOTAL_PASSED), in bounded work."""

from __future__ import annotations

import time
from pathlib import Path

from asn1crypto import cms, core

from tests.verifier.helpers import openssl_cms_sign
from tests.verifier.test_archive_cades import P7M, _archive, _openssl_with_ats

ATS_V3 = "0.4.0.1733.2.4"


def _with_unsigned(der: bytes, extra: list[cms.CMSAttribute]) -> bytes:
    info = cms.ContentInfo.load(der)
    signer = info["content"]["signer_infos"][0]
    existing = list(signer["unsigned_attrs"]) if signer["unsigned_attrs"] else []
    signer["unsigned_attrs"] = cms.CMSAttributes([*existing, *extra])
    return bytes(info.dump(force=True))


def _signed(citizen, tmp_path: Path) -> bytes:  # type: ignore[no-untyped-def]
    content = tmp_path / "c.txt"
    content.write_bytes(b"tresc\n")
    return openssl_cms_sign(citizen, content, attached=True)


def test_garbage_archive_timestamp_is_format_failure(verify, citizen, tmp_path) -> None:
    """EN 319 122-1 §5.5.3: a value that is no timestamp token → FORMAT_FAILURE for that timestamp,
    the signature INDETERMINATE (SIG_CONSTRAINTS_FAILURE), not a 500."""
    garbage = cms.CMSAttribute({"type": ATS_V3, "values": [core.Any.load(core.OctetString(b"\x00" * 40).dump())]})
    report = verify(_with_unsigned(_signed(citizen, tmp_path), [garbage]), P7M)
    (stamp,) = _archive(report)
    assert (stamp.indication, stamp.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")


def test_archive_timestamp_without_hash_index_is_not_passed(verify, citizen, vpki, clock, tmp_path) -> None:
    """§5.5.3: an archive-time-stamp-v3 token must carry one ats-hash-index-v3; without it the
    imprint cannot be computed → the timestamp does not validate."""
    good = _openssl_with_ats(citizen, vpki, tmp_path, clock.now())
    info = cms.ContentInfo.load(good)
    signer = info["content"]["signer_infos"][0]
    (attr,) = [a for a in signer["unsigned_attrs"] if a["type"].dotted == ATS_V3]
    token = cms.ContentInfo.load(attr["values"][0].dump())
    token["content"]["signer_infos"][0]["unsigned_attrs"] = None
    stripped = cms.CMSAttribute({"type": ATS_V3, "values": [core.Any.load(token.dump(force=True))]})
    others = [a for a in signer["unsigned_attrs"] if a["type"].dotted != ATS_V3]
    signer["unsigned_attrs"] = cms.CMSAttributes([*others, stripped])
    report = verify(bytes(info.dump(force=True)), P7M)
    (stamp,) = _archive(report)
    assert stamp.indication != "TOTAL_PASSED"
    assert report.indication != "TOTAL_PASSED"


def test_many_archive_timestamps_are_bounded(verify, citizen, vpki, clock, tmp_path) -> None:
    """200 copies of one archive timestamp: at most 8 are examined, quickly."""
    good = _openssl_with_ats(citizen, vpki, tmp_path, clock.now())
    info = cms.ContentInfo.load(good)
    (attr,) = [a for a in info["content"]["signer_infos"][0]["unsigned_attrs"] if a["type"].dotted == ATS_V3]
    many = cms.CMSAttribute({"type": ATS_V3, "values": [core.Any.load(attr["values"][0].dump())] * 200})
    started = time.monotonic()
    report = verify(_with_unsigned(_signed(citizen, tmp_path), [many]), P7M)
    assert len(_archive(report)) == 8
    assert time.monotonic() - started < 30
    # Copied from another signature, they cover other data: none validates.
    assert report.indication != "TOTAL_PASSED"


def test_xades_archive_timestamp_with_broken_token_is_format_failure(verify, citizen, vpki, clock) -> None:
    """EN 319 132-1 §5.5.2: an EncapsulatedTimeStamp whose base64 holds no timestamp token →
    FORMAT_FAILURE for it; the signature is not passed."""
    import base64

    from tests.verifier.test_archive_xades import XML, _with_ats

    good = _with_ats(citizen, vpki, clock.now())
    marker = b"<xades:EncapsulatedTimeStamp>"
    start = good.rindex(marker) + len(marker)
    broken = good[:start] + base64.b64encode(b"\x30\x03\x02\x01\x00" * 8) + good[good.index(b"<", start) :]
    report = verify(broken, XML)
    (stamp,) = [t for t in report.signatures[0].timestamps if t.kind == "archive"]
    assert (stamp.indication, stamp.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert report.indication != "TOTAL_PASSED"
