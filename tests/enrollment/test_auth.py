"""Officer logins, sessions, lockout, password policy; portal tokens."""

from __future__ import annotations

from typing import Any

import pytest

from access.models import Officer, OfficerSession, PortalClient
from access.secrets import check_password_policy, token_hash
from core.audit import AuditRecord
from core.errors import ValidationError
from enrollment.admin import Administration
from tests.enrollment.helpers import API, PASSWORD, Parties


def login(api: API, username: str, password: str) -> Any:
    return api.call("POST", "/api/v1/sessions", json={"username": username, "password": password})


def test_login_issues_short_lived_session_stored_hashed(
    bare_api: API, parties: Parties, clock: Any, settings: Any
) -> None:
    r = login(bare_api, "officer1", PASSWORD)
    assert r.status_code == 201
    token = r.json["token"]
    assert r.json["roles"] == ["ra_officer"] and r.json["points"] == [parties.point_id]
    session = OfficerSession.get()
    assert session.token_hash == token_hash(token) and token not in session.token_hash
    headers = bare_api.bearer(token)
    assert bare_api.call("GET", "/api/v1/points", headers).status_code == 200
    clock.advance(minutes=settings.enrollment.session_ttl_minutes, seconds=1)
    assert bare_api.call("GET", "/api/v1/points", headers).status_code == 401


def test_logout_ends_the_session(bare_api: API, parties: Parties) -> None:
    token = login(bare_api, "officer1", PASSWORD).json["token"]
    assert bare_api.call("DELETE", "/api/v1/sessions/current", bare_api.bearer(token)).status_code == 204
    assert bare_api.call("GET", "/api/v1/points", bare_api.bearer(token)).status_code == 401


def test_every_login_is_audited_without_the_password(bare_api: API, parties: Parties) -> None:
    """EN 319 401 / BR §5.4.1: logins, successful and failed, are audited."""
    assert login(bare_api, "officer1", PASSWORD).status_code == 201
    assert login(bare_api, "officer1", "Wrong-Password-1").status_code == 401
    assert login(bare_api, "nobody", "Wrong-Password-1").status_code == 401
    rows = list(AuditRecord.select().where(AuditRecord.action == "enrollment.login").order_by(AuditRecord.seq))
    assert [r.outcome for r in rows] == ["success", "failure", "failure"]
    assert [r.details["username"] for r in rows] == ["officer1", "officer1", "nobody"]
    for row in rows:
        assert "Wrong-Password-1" not in str(row.details) and PASSWORD not in str(row.details)


def test_lockout_after_repeated_failures(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    for _ in range(settings.enrollment.login_max_failures):
        assert login(bare_api, "officer1", "Wrong-Password-1").status_code == 401
    locked = login(bare_api, "officer1", PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) <= settings.enrollment.login_lockout_minutes * 60
    lockout = AuditRecord.get(AuditRecord.action == "enrollment.officer.lockout")  # issue 15: audit coverage
    assert lockout.outcome == "locked" and lockout.object_id == str(Officer.get(Officer.username == "officer1").id)
    clock.advance(minutes=settings.enrollment.login_lockout_minutes, seconds=1)
    assert login(bare_api, "officer1", PASSWORD).status_code == 201
    assert Officer.get(Officer.username == "officer1").failed_logins == 0


def test_disabled_officer(bare_api: API, parties: Parties, settings: Any, clock: Any) -> None:
    token = login(bare_api, "officer1", PASSWORD).json["token"]
    Administration(settings.enrollment, clock).disable_officer("officer1", actor="test")
    assert bare_api.call("GET", "/api/v1/points", bare_api.bearer(token)).status_code == 401
    assert login(bare_api, "officer1", PASSWORD).status_code == 401


def test_reset_password(bare_api: API, parties: Parties, settings: Any, clock: Any) -> None:
    Administration(settings.enrollment, clock).reset_password("officer1", "Nowe-Haslo-99", actor="test")
    assert login(bare_api, "officer1", PASSWORD).status_code == 401
    assert login(bare_api, "officer1", "Nowe-Haslo-99").status_code == 201
    assert Officer.get(Officer.username == "officer1").password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1a", "at least 8 characters"),
        ("alllowercase1", "an upper-case letter"),
        ("ALLUPPERCASE1", "a lower-case letter"),
        ("NoDigitsHere", "a digit"),
        ("Officer9x", "must not be the username"),
    ],
)
def test_password_policy(password: str, problem: str) -> None:
    """CC SEKAP portal practice (REFERENCE.md): ≥ 8 characters, lower, upper, digit; not the username."""
    with pytest.raises(ValidationError) as info:
        check_password_policy(password, "officer9x")
    assert problem in info.value.errors[0].message


def test_password_policy_accepts_good_passwords() -> None:
    check_password_policy("Zażółć-Gęślą-1", "officer")
    check_password_policy("Abcdefg1", "officer")


def test_portal_token_shown_once_stored_hashed(db: Any, settings: Any, clock: Any) -> None:
    client = Administration(settings.enrollment, clock).add_portal_client(name="p", scopes=["verify"], actor="test")
    row = PortalClient.get(PortalClient.id == client.id)
    assert row.token_hash == token_hash(client.token) and client.token.startswith("stp_")
    assert len(client.token) > 40
    with pytest.raises(ValidationError):
        Administration(settings.enrollment, clock).add_portal_client(name="q", scopes=["everything"], actor="test")


def test_disabled_portal_client(bare_api: API, parties: Parties) -> None:
    PortalClient.update(disabled=True).where(PortalClient.name == "portal").execute()
    assert bare_api.call("GET", "/api/v1/points", bare_api.bearer(parties.portal_token)).status_code == 401


def test_officer_with_totp_needs_the_code_for_an_api_session(bare_api: API, parties: Parties, clock: Any) -> None:
    """RFC 6238 second factor on POST /api/v1/sessions: an officer with a confirmed TOTP factor gets
    no session without the current code; a wrong code ends the new session at once; wrong codes
    share the pages' limit (5 per 15 minutes), after which even the right code waits (429)."""
    import pyotp

    from enrollment.totp import SecondFactor

    officer_id = Officer.get(Officer.username == "officer1").id
    factor = SecondFactor(clock)
    totp = pyotp.TOTP(factor.start_enrolment(officer_id).secret)
    assert factor.confirm(officer_id, totp.at(clock.now()))
    clock.advance(seconds=30)

    def attempt(code: str | None) -> Any:
        body = {"username": "officer1", "password": PASSWORD} | ({"totp_code": code} if code is not None else {})
        return bare_api.call("POST", "/api/v1/sessions", json=body)

    missing = attempt(None)
    assert missing.status_code == 401 and missing.json["code"] == "invalid_totp_code"
    assert attempt("000000").status_code == 401
    # Neither refused attempt left a live session behind.
    assert not OfficerSession.select().where(OfficerSession.ended_at.is_null()).exists()
    assert (
        bare_api.call(
            "POST", "/api/v1/sessions", json={"username": "officer1", "password": PASSWORD, "totp_code": 123456}
        ).status_code
        == 422
    )
    ok = attempt(totp.at(clock.now()))
    assert ok.status_code == 201, ok.json
    assert attempt(totp.at(clock.now())).status_code == 401  # the same code twice: a replay
    # Officers without a factor log in with the password alone, as before.
    assert (
        bare_api.call("POST", "/api/v1/sessions", json={"username": "officer2", "password": PASSWORD}).status_code
        == 201
    )
    for _ in range(2):  # the missing code, 000000 and the replay were the first three failures
        assert attempt("111111").status_code == 401
    clock.advance(seconds=30)
    limited = attempt(totp.at(clock.now()))
    assert limited.status_code == 429
    live = OfficerSession.select().where(OfficerSession.ended_at.is_null() & (OfficerSession.officer == officer_id))
    assert live.count() == 1  # only the session opened with the right code
