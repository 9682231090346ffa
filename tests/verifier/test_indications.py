"""The revocation rules of EN 319 102-1 in isolation (the format tests drive them end to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from asn1crypto import crl as asn1_crl

from verifier.common import revoked_verdict
from verifier.report import Indication, SubIndication

REVOKED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _details(reason: str = "key_compromise", *, ca: bool = False) -> SimpleNamespace:
    return SimpleNamespace(ca_revoked=ca, revocation_date=REVOKED_AT, revocation_reason=asn1_crl.CRLReason(reason))


def test_no_proof_of_existence_is_revoked_no_poe() -> None:
    """§5.2.6.4: revoked, nothing about when the signature was made → INDETERMINATE/REVOKED_NO_POE."""
    verdict = revoked_verdict(_details(), None)
    assert (verdict.indication, verdict.sub_indication) == (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)


def test_content_timestamp_before_revocation_stays_indeterminate() -> None:
    """A content timestamp before the revocation does not prove a creation after it (§5.3.4)."""
    verdict = revoked_verdict(_details(), REVOKED_AT - timedelta(seconds=1))
    assert verdict.sub_indication is SubIndication.REVOKED_NO_POE


def test_created_after_revocation_is_total_failed_revoked() -> None:
    """§5.3.4 / Table 5: a valid content timestamp at or after the revocation time proves the
    signature was made with a revoked certificate → TOTAL_FAILED/REVOKED."""
    for created in (REVOKED_AT, REVOKED_AT + timedelta(days=1)):
        verdict = revoked_verdict(_details(), created)
        assert (verdict.indication, verdict.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_hold_is_try_later_even_with_later_content_timestamp() -> None:
    """§5.2.6: a suspension is not final → INDETERMINATE/TRY_LATER (EU DSS gives the same)."""
    verdict = revoked_verdict(_details("certificate_hold"), REVOKED_AT + timedelta(days=1))
    assert (verdict.indication, verdict.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)


def test_revoked_ca_is_revoked_ca_no_poe() -> None:
    verdict = revoked_verdict(_details(ca=True), None)
    assert (verdict.indication, verdict.sub_indication) == (Indication.INDETERMINATE, SubIndication.REVOKED_CA_NO_POE)


def test_no_details_is_revoked_no_poe() -> None:
    assert revoked_verdict(None, None).sub_indication is SubIndication.REVOKED_NO_POE
