"""Enrollment fixtures, and the suite-wide check that no PESEL, document number, PIN, code,
password or token reaches a log line or an audit detail (README: personal data never in logs)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import peewee as pw
import pytest

from core.audit import AuditRecord
from tests.enrollment import helpers


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # peewee echoes SQL with its parameters at DEBUG: that logger must stay at INFO or above in
        # production (config.logging_setup); everything of ours is captured down to DEBUG.
        if record.name == "peewee" and record.levelno < logging.INFO:
            return
        text = record.getMessage()
        extras = {
            k: v
            for k, v in record.__dict__.items()
            if k not in logging.LogRecord("", 0, "", 0, "", None, None).__dict__
        }
        if record.exc_info:
            text += " " + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text} {extras}")


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_logs() -> Iterator[_Capture]:
    """Capture every log line (DEBUG and up) during the enrollment tests; fail if any holds a
    value registered in helpers.SENSITIVE."""
    handler = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("tests.enrollment").debug("log capture active")
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)
    leaks = [(value, line) for line in handler.lines for value in helpers.SENSITIVE if value and value in line]
    assert handler.lines, "the log capture saw nothing: the check would be vacuous"
    assert not leaks, f"personal data or secrets in log lines: {leaks[:3]}"


@pytest.fixture(autouse=True)
def no_personal_data_in_audit(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the database, scan every audit record."""
    database: pw.Database | None = request.getfixturevalue("db") if "db" in request.fixturenames else None
    yield
    if database is None or database.is_closed():
        return
    for row in AuditRecord.select():
        text = f"{row.actor} {row.object_id} {row.details}"
        for value in helpers.SENSITIVE:
            assert value not in text, f"audit record {row.seq} ({row.action}) contains a sensitive value"


@pytest.fixture
def settings(settings: Any) -> Any:
    """Cheap argon2 and PBKDF2 parameters (the defaults are production-strength) and EC keys at the point."""
    enrollment = replace(
        settings.enrollment,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        pkcs12_kdf_rounds=2048,
        point_key_algorithm="ec-p256",
    )
    return replace(settings, enrollment=enrollment)


@pytest.fixture
def parties(db: pw.Database, clock: Any, settings: Any) -> helpers.Parties:
    return helpers.create_parties(settings.enrollment, clock)


@pytest.fixture
def client(settings: Any, db: pw.Database, clock: Any, key_store: Any, pki: Any) -> Any:
    from tests.conftest import make_client

    return make_client(settings, ["ca", "enrollment"], db, clock, key_store)


@pytest.fixture
def api(client: Any, parties: helpers.Parties) -> helpers.API:
    return helpers.API(client)


@pytest.fixture
def bare_api(settings: Any, db: pw.Database, clock: Any, key_store: Any, parties: helpers.Parties) -> helpers.API:
    """The enrollment API without a CA hierarchy (for tests that never issue)."""
    from tests.conftest import make_client

    return helpers.API(make_client(settings, ["enrollment"], db, clock, key_store))
