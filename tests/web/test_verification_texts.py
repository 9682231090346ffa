"""The Polish words for counter-signatures on the public verification page (EN 319 132-1
§5.2.7.2, RFC 5652 §11.4): which signature each one counters, and its verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from verifier.report import CounterSignatureReport, Coverage, Indication, SignatureReport, SubIndication
from web.verification_texts import counter_texts


def _counter(counter_id: str, counters: str, indication: Indication, sub: SubIndication | None = None):  # type: ignore[no-untyped-def]
    return CounterSignatureReport(
        id=counter_id,
        counters=counters,
        format="CAdES",
        indication=indication,
        sub_indication=sub,
        signer=None,
        claimed_signing_time=None,
        certificate_chain=(),
    )


def test_nested_counter_signatures_name_what_they_counter() -> None:
    """EN 319 132-1 §5.2.7.2: a nested counter-signature names the counter-signature it counters;
    HASH_FAILURE in counter-signature words."""
    signature = SignatureReport(
        id="sig",
        format="CAdES",
        level="B-B",
        indication=Indication.TOTAL_PASSED,
        sub_indication=None,
        signer=None,
        claimed_signing_time=datetime(2026, 1, 1, tzinfo=UTC),
        timestamps=(),
        certificate_chain=(),
        revocation=(),
        coverage=Coverage(kind="cms-detached"),
        counter_signatures=(
            _counter("sig/counter-0", "sig", Indication.TOTAL_PASSED),
            _counter("sig/counter-0/counter-0", "sig/counter-0", Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE),
        ),
    )
    first, nested = counter_texts(signature, 2)
    assert (first.label, first.target, first.verdict, first.tone) == (
        "Kontrasygnata 2.1",
        "podpisu 2",
        "kontrasygnata jest prawidłowa",
        "ok",
    )
    assert (nested.label, nested.target, nested.tone) == ("Kontrasygnata 2.2", "kontrasygnaty 2.1", "bad")
    assert nested.reason == "Podpis, pod którym złożono kontrasygnatę, zmieniono po jej złożeniu."
