"""The clock guard (RFC 3161 §2.4.2 timeNotAvailable; EN 319 421 §7.7.2: no time-stamps while
the clock is out of sync): refusals, recovery, and one audit record per transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from falcon import testing

from core.audit import AuditRecord
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI
from tests.tsa.conftest import AlwaysSynced, make_query, make_service, post
from tsa.clock_guard import BACKWARDS, OK, UNSYNCHRONISED, ClockGuard, SyncStatus, kernel_sync_status
from tsa.errors import TimeNotAvailableError
from tsa.models import TSAHostState, TSAToken
from tsa.query import parse_query
from tsa.service import TimeStampService


def _actions() -> list[str]:
    return [
        r.action
        for r in AuditRecord.select().where(AuditRecord.action.startswith("tsa.clock")).order_by(AuditRecord.seq)
    ]


def test_unsynchronised_clock_refuses_and_recovers(service: TimeStampService, sync: AlwaysSynced) -> None:
    query = parse_query(make_query(), service.rules)
    service.issue(query)
    sync.status = SyncStatus(False, 16_000_000, "the kernel reports the clock unsynchronised (STA_UNSYNC)")
    for _ in range(5):
        with pytest.raises(TimeNotAvailableError) as caught:
            service.issue(query)
        assert caught.value.fail_info == "time_not_available"
        assert caught.value.reason == UNSYNCHRONISED
    # Audit the transition, not every refused request.
    assert _actions() == ["tsa.clock.refuse"]
    refused = AuditRecord.get(AuditRecord.action == "tsa.clock.refuse")
    assert refused.outcome == "failure"
    assert refused.details["to"] == UNSYNCHRONISED
    assert TSAHostState.get().clock_state == UNSYNCHRONISED
    sync.status = SyncStatus(True, 2000, "synchronised")
    service.issue(query)
    assert _actions() == ["tsa.clock.refuse", "tsa.clock.resume"]
    assert TSAHostState.get().clock_state == OK
    assert TSAToken.select().count() == 2


def test_clock_moving_backwards_refuses_until_it_passes_the_last_token(
    service: TimeStampService, clock: FrozenClock
) -> None:
    query = parse_query(make_query(), service.rules)
    service.issue(query)
    clock.advance(seconds=-3)
    with pytest.raises(TimeNotAvailableError) as caught:
        service.issue(query)
    assert caught.value.reason == BACKWARDS
    clock.advance(seconds=2)
    with pytest.raises(TimeNotAvailableError):
        service.issue(query)
    clock.advance(seconds=1)
    service.issue(query)
    assert _actions() == ["tsa.clock.refuse", "tsa.clock.resume"]


def test_backwards_is_detected_after_a_restart_from_the_record(
    pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced
) -> None:
    first = make_service(pki, clock, key_store, sync)
    query = parse_query(make_query(), first.rules)
    first.issue(query)
    clock.advance(minutes=-10)
    # A new process (worker restart) knows the last genTime only from tsa_token.
    restarted = make_service(pki, clock, key_store, sync)
    with pytest.raises(TimeNotAvailableError):
        restarted.issue(query)
    # Another host's newer token counts only beyond the accuracy (hosts' clocks differ a little).
    clock.advance(minutes=10, milliseconds=-500)
    other_host = make_service(pki, clock, key_store, sync, host_id="other-host")
    other_host.issue(query)


def test_transitions_of_several_workers_are_audited_once(
    pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced
) -> None:
    workers = [make_service(pki, clock, key_store, sync, require_ntp_sync=True) for _ in range(3)]
    query = parse_query(make_query(), workers[0].rules)
    for worker in workers:
        worker.issue(query)
    sync.status = SyncStatus(False, None, "unsynchronised")
    for worker in workers:
        with pytest.raises(TimeNotAvailableError):
            worker.issue(query)
    assert _actions() == ["tsa.clock.refuse"]


def test_sync_not_checked_when_not_required(
    pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced
) -> None:
    sync.status = SyncStatus(False, None, "unsynchronised")
    service = make_service(pki, clock, key_store, sync, require_ntp_sync=False)
    service.issue(parse_query(make_query(), service.rules))
    assert sync.calls == 0


def test_refusal_over_http(client: testing.TestClient, clock: FrozenClock) -> None:
    assert post(client, make_query())[2].status == "granted"
    clock.advance(hours=-1)
    status, _, reply = post(client, make_query())
    assert status == 200
    assert (reply.status, reply.fail_info) == ("rejection", {"time_not_available"})


def test_guard_alone_is_monotonic_and_reports_transitions() -> None:
    clock = FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
    seen: list[tuple[str, str]] = []
    guard = ClockGuard(
        clock,
        require_sync=False,
        sync_check=lambda: SyncStatus(True, 0, "ok"),
        floor=lambda: datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC),
        on_transition=lambda old, new, reason, at: seen.append((old, new)),
    )
    with pytest.raises(TimeNotAvailableError):
        guard.now()
    clock.advance(seconds=1)
    assert guard.now() == clock.now()
    assert seen == [(OK, BACKWARDS), (BACKWARDS, OK)]


def test_failing_transition_callback_does_not_block_tokens() -> None:
    clock = FrozenClock()

    def broken(old: str, new: str, reason: str, at: datetime) -> None:
        raise RuntimeError("database down")

    guard = ClockGuard(
        clock, require_sync=False, sync_check=lambda: SyncStatus(True, 0, ""), floor=lambda: None, on_transition=broken
    )
    guard.now()
    clock.advance(timedelta(seconds=-1))
    with pytest.raises(TimeNotAvailableError):
        guard.now()


def test_kernel_status_is_read() -> None:
    # Whatever this machine's kernel says, the read works and yields a judgement with a reason.
    status = kernel_sync_status(1_000_000)
    assert isinstance(status.synchronised, bool)
    assert status.detail
    if status.synchronised:
        assert status.max_error_us is not None and status.max_error_us <= 1_000_000


def test_kernel_max_error_limit_applies() -> None:
    status = kernel_sync_status(-1)  # no kernel has a negative maximum error
    assert status.synchronised is False


def test_default_production_setting_documented() -> None:
    from config.settings import load_settings

    settings = load_settings(env={})
    # make run works on unsynchronised machines; production sets require_ntp_sync = true.
    assert settings.tsa.require_ntp_sync is False
    assert load_settings(env={"SEKAP_TRUST__TSA__REQUIRE_NTP_SYNC": "true"}).tsa.require_ntp_sync is True
