"""Adulthood at the identity check (issue 14): a certificate only for a citizen aged 18 or over on
the day of the check, from the PESEL (REFERENCE.md: the month carries the century) or, without
one, from the date of birth on the document."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from ca.models import Certificate
from core.clock import FrozenClock
from core.identifiers import pesel_birth_date
from enrollment.adulthood import WARSAW, anniversary, is_adult
from tests.enrollment.helpers import API, ID_CARD, PIN, Parties, application_body, remember

URL = "/api/v1/officer/applications/{}/identity-check"
# The issue's report: born 2015-12-10, an 11-year-old got a certificate.
CHILD_PESEL = remember("15321012344")


def pesel_for(birth: date, serial: int = 123, sex_digit: int = 5) -> str:
    """A valid PESEL for ``birth`` (REFERENCE.md: weights 1,3,7,9,1,3,7,9,1,3)."""
    offset = {18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[birth.year // 100]
    digits = f"{birth.year % 100:02d}{birth.month + offset:02d}{birth.day:02d}{serial:03d}{sex_digit}"
    total = sum(int(d) * w for d, w in zip(digits, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True))
    return remember(digits + str((10 - total % 10) % 10))


def _check_body(parties: Parties, **extra: object) -> dict[str, object]:
    return {
        "document_type": "id_card",
        "document_number": ID_CARD,
        "document_expiry": "2030-01-01",
        "data_match": True,
        "agreement_version": parties.agreement_version,
        **extra,
    }


def _submit(api: API, parties: Parties, **kwargs: object) -> str:
    r = api.call(
        "POST",
        "/api/v1/applications",
        api.bearer(parties.portal_token),
        json=application_body(parties.point_id, **kwargs),
    )
    assert r.status_code == 201, r.json
    return str(r.json["reference"])


def _today(clock: FrozenClock) -> date:
    return clock.now().astimezone(WARSAW).date()


def test_the_reported_child_gets_no_certificate(api: API, parties: Parties) -> None:
    assert pesel_birth_date(CHILD_PESEL) == date(2015, 12, 10)
    certificates = Certificate.select().count()  # the hierarchy's own
    reference = _submit(api, parties, pesel=CHILD_PESEL)
    r = api.call("POST", URL.format(reference), api.as_officer("officer1"), json=_check_body(parties))
    assert r.status_code == 422
    assert {(e["field"], e["code"]) for e in r.json["errors"]} == {("pesel", "underage")}
    issue = api.call(
        "POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer1"), json={"pin": PIN}
    )
    assert issue.status_code == 409  # never verified, never issued
    assert Certificate.select().count() == certificates


@pytest.mark.parametrize(("days_short", "expected"), [(0, 201), (1, 422)], ids=["18-today", "18-tomorrow"])
def test_the_eighteenth_birthday_counts(api: API, parties: Parties, clock: FrozenClock, days_short, expected) -> None:
    today = _today(clock)
    birth = anniversary(today, -18) + timedelta(days=days_short)
    reference = _submit(api, parties, pesel=pesel_for(birth))
    r = api.call("POST", URL.format(reference), api.as_officer("officer1"), json=_check_body(parties))
    assert r.status_code == expected, r.json


def test_without_pesel_the_document_birth_date_decides(api: API, parties: Parties, clock: FrozenClock) -> None:
    reference = _submit(api, parties, pesel=None, identity_document={"type": "id_card", "number": ID_CARD})
    url = URL.format(reference)
    missing = api.call("POST", url, api.as_officer("officer1"), json=_check_body(parties))
    assert missing.status_code == 422 and missing.json["errors"][0]["code"] == "required"
    young = (anniversary(_today(clock), -18) + timedelta(days=1)).isoformat()
    r = api.call("POST", url, api.as_officer("officer1"), json=_check_body(parties, birth_date=young))
    assert r.status_code == 422 and r.json["errors"][0] == {
        "field": "birth_date",
        "message": "the citizen must be 18 or older on the day of the identity check",
        "code": "underage",
    }
    future = api.call("POST", url, api.as_officer("officer1"), json=_check_body(parties, birth_date="2999-01-01"))
    assert future.status_code == 422
    ok = api.call("POST", url, api.as_officer("officer1"), json=_check_body(parties, birth_date="1990-02-03"))
    assert ok.status_code == 201


def test_a_birth_date_must_agree_with_the_pesel(api: API, parties: Parties) -> None:
    reference = _submit(api, parties)  # PESEL 44051401359: born 1944-05-14
    r = api.call(
        "POST", URL.format(reference), api.as_officer("officer1"), json=_check_body(parties, birth_date="1950-01-01")
    )
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "mismatch"


def test_the_day_is_the_polish_day() -> None:
    """23:30 UTC on 14 May is already 15 May in Warsaw: a birthday on 15 May counts."""
    moment = datetime(2026, 5, 14, 23, 30, tzinfo=WARSAW).astimezone(WARSAW)
    late_utc = datetime.fromisoformat("2026-05-14T23:30:00+00:00")
    assert late_utc.astimezone(WARSAW).date() == date(2026, 5, 15)
    assert is_adult(date(2008, 5, 15), late_utc.astimezone(WARSAW).date())
    assert not is_adult(date(2008, 5, 15), moment.date())


@pytest.mark.parametrize(
    ("birth", "years", "expected"),
    [
        (date(2008, 2, 29), 18, date(2026, 2, 28)),  # Civil Code art. 112: last day of February
        (date(2008, 2, 29), 16, date(2024, 2, 29)),
        (date(2000, 12, 31), 18, date(2018, 12, 31)),
    ],
)
def test_anniversary(birth: date, years: int, expected: date) -> None:
    assert anniversary(birth, years) == expected
