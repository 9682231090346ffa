"""Serials, the token record and retries (RFC 3161 §2.4.2 serialNumber; EN 319 421 §7.7)."""

from __future__ import annotations

import pytest

from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI
from tests.tsa.conftest import AlwaysSynced, make_query, make_service, parse_reply
from tests.tsa.tokens import check_token
from tsa import service as service_module
from tsa.errors import SystemFailureError
from tsa.models import TSAToken
from tsa.query import parse_query
from tsa.service import TimeStampService


def test_serial_collision_is_retried_with_a_new_serial(
    service: TimeStampService, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = parse_query(make_query(), service.rules)
    first = 2**158 + 1
    service.issue(query)
    existing = int(TSAToken.get().serial, 16)
    values = iter([existing, first])
    monkeypatch.setattr(service_module, "new_serial", lambda _at=None: next(values))
    token = service.issue(query)
    assert check_token(token, pki.cert("tsa"))["serial_number"].native == first
    assert TSAToken.select().count() == 2


def test_persistent_collision_is_a_system_failure(service: TimeStampService, monkeypatch: pytest.MonkeyPatch) -> None:
    query = parse_query(make_query(), service.rules)
    service.issue(query)
    existing = int(TSAToken.get().serial, 16)
    monkeypatch.setattr(service_module, "new_serial", lambda _at=None: existing)
    with pytest.raises(SystemFailureError):
        service.issue(query)


def test_many_tokens_have_unique_serials(service: TimeStampService, clock: FrozenClock) -> None:
    query = parse_query(make_query(), service.rules)
    for _ in range(50):
        service.issue(query)
        clock.advance(milliseconds=10)
    assert TSAToken.select(TSAToken.serial).distinct().count() == 50


def test_requested_policy_and_sha1_when_allowed(
    pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced
) -> None:
    service = make_service(pki, clock, key_store, sync, accept_sha1=True, accepted_policies=("2.999.1.2.9",))
    token = service.issue(parse_query(make_query(algorithm="sha1", policy="2.999.1.2.9"), service.rules))
    assert check_token(token, pki.cert("tsa"))["policy"].dotted == "2.999.1.2.9"
    row = TSAToken.get()
    assert (row.hash_algorithm, row.policy) == ("sha1", "2.999.1.2.9")


def test_gen_time_recorded_with_configured_precision(
    pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced
) -> None:
    clock.set(clock.now().replace(microsecond=987654))
    service = make_service(pki, clock, key_store, sync, gen_time_precision=3)
    token = service.issue(parse_query(make_query(), service.rules))
    gen_time = check_token(token, pki.cert("tsa"))["gen_time"].native
    assert gen_time.microsecond == 987000
    assert TSAToken.get().gen_time == gen_time


def test_expired_tsa_certificate_is_system_failure(service: TimeStampService, clock: FrozenClock, pki: TestPKI) -> None:
    clock.set(pki.cert("tsa").not_valid_after_utc.replace(microsecond=0) + __import__("datetime").timedelta(seconds=1))
    with pytest.raises(SystemFailureError):
        service.issue(parse_query(make_query(), service.rules))


def test_renewed_certificate_is_picked_up(
    service: TimeStampService, pki: TestPKI, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    from ca.models import Authority
    from hsm.base import KeySpec

    query = parse_query(make_query(), service.rules)
    old = pki.cert("tsa")
    check_token(service.issue(query), old)
    # A renewal (as the CA would do it): new key, new certificate from the root, row updated.
    key = pki.key_store.generate("tsa-renewed", KeySpec("ec-p256"))
    renewed = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(clock.now() - timedelta(minutes=5))
        .not_valid_after(clock.now() + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(pki.key("root"), hashes.SHA384())
    )
    Authority.update(
        certificate_der=renewed.public_bytes(Encoding.DER),
        serial=format(renewed.serial_number, "X"),
        key_label="tsa-renewed",
        updated_at=clock.now(),
    ).where(Authority.name == "tsa").execute()
    # Within the refresh interval the worker keeps its signer; after it, the new one signs.
    check_token(service.issue(query), old)
    real = service_module.time.monotonic
    monkeypatch.setattr(service_module.time, "monotonic", lambda: real() + 3600)
    check_token(service.issue(query), renewed)
    assert TSAToken.select().where(TSAToken.key_label == "tsa-renewed").count() == 1


def test_reply_roundtrip(service: TimeStampService) -> None:
    from tsa.authority import granted

    reply = parse_reply(granted(service.issue(parse_query(make_query(), service.rules))))
    assert reply.status == "granted"


def test_database_failure_while_recording_is_system_failure(service: TimeStampService) -> None:
    # No token leaves the TSA unless its record committed.
    import peewee as pw

    def broken(rows: list[dict[str, object]]) -> None:
        raise pw.OperationalError("database is locked")

    service.recorder._insert = broken  # type: ignore[method-assign]
    with pytest.raises(SystemFailureError):
        service.issue(parse_query(make_query(), service.rules))
    assert TSAToken.select().count() == 0
