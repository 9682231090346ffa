"""The officers' second factor (RFC 6238 TOTP): enrolment by a QR code at the first log-in, a code
at every later one, no replay of a used code, a lockout after wrong codes, reset by the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from config.cli import main
from config.runtime import Runtime
from enrollment.admin import Administration
from enrollment.models import Officer
from enrollment.totp import SecondFactor
from tests.enrollment.helpers import PASSWORD
from tests.web.conftest import check_page


@pytest.fixture
def officer_id(db, settings, clock) -> int:  # type: ignore[no-untyped-def]
    return int(
        Administration(settings.enrollment, clock)
        .add_officer(username="anna", password=PASSWORD, roles=["ra_officer"], points=[], actor="system:test")
        .id
    )


def test_enrol_verify_and_no_replay(officer_id: int, clock) -> None:  # type: ignore[no-untyped-def]
    factor = SecondFactor(clock)
    assert not factor.enrolled(officer_id)
    first = factor.start_enrolment(officer_id)
    second = factor.start_enrolment(officer_id)  # each showing makes a new secret
    assert first.secret != second.secret and second.qr_svg.startswith(b"<svg")
    assert not factor.confirm(officer_id, pyotp.TOTP(first.secret).at(clock.now()))
    assert factor.confirm(officer_id, pyotp.TOTP(second.secret).at(clock.now()))
    assert factor.enrolled(officer_id)
    with pytest.raises(PermissionError):
        factor.start_enrolment(officer_id)  # never shown again once confirmed
    totp = pyotp.TOTP(second.secret)
    assert not factor.verify(officer_id, totp.at(clock.now()))  # the enrolment code is used up
    clock.advance(seconds=30)
    code = totp.at(clock.now())
    assert factor.verify(officer_id, code)
    assert not factor.verify(officer_id, code)  # RFC 6238 §5.2: one use per time step
    clock.advance(seconds=30)
    assert factor.verify(officer_id, totp.at(clock.now() - __import__("datetime").timedelta(seconds=30))) is False
    assert not factor.verify(officer_id, "12345") and not factor.verify(officer_id, "abcdef")


def test_cli_reset(officer_id: int, settings, clock, key_store) -> None:  # type: ignore[no-untyped-def]
    factor = SecondFactor(clock)
    enrolment = factor.start_enrolment(officer_id)
    assert factor.confirm(officer_id, pyotp.TOTP(enrolment.secret).at(clock.now()))
    out = io.StringIO()
    code = main(["officer", "totp-reset", "--username", "anna"], out=out, runtime=Runtime(settings, clock, key_store))
    assert code == 0 and "removed" in out.getvalue()
    assert not factor.enrolled(officer_id)


@pytest.mark.slow
@pytest.mark.interop
def test_log_in_with_the_second_factor(page: Page, live_server, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    Administration(live_server.settings.enrollment, clock).add_officer(
        username="jan", password=PASSWORD, roles=["ra_officer"], points=[], actor="system:test"
    )
    base = live_server.url

    def password_step(code: str = "") -> None:
        page.goto(base + "/logowanie")
        page.get_by_label("Nazwa użytkownika").fill("jan")
        page.get_by_label("Hasło").fill(PASSWORD)
        page.get_by_label("Kod z aplikacji uwierzytelniającej").fill(code)
        page.get_by_role("button", name="Zaloguj się").click()

    password_step()
    expect(page).to_have_url(base + "/totp")
    check_page(page, "totp-konfiguracja", tmp_path)
    # Nothing else is reachable before the factor is confirmed.
    page.goto(base + "/urzednik")
    expect(page).to_have_url(base + "/totp")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Kod z aplikacji").fill("000000")
    page.get_by_role("button", name="Potwierdź").click()
    expect(page.locator(".error-summary")).to_contain_text("Kod się nie zgadza")
    secret = page.locator("#secret").inner_text().replace(" ", "")  # a new secret after each showing
    page.get_by_label("Kod z aplikacji").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Potwierdź").click()
    expect(page).to_have_url(base + "/urzednik")
    page.get_by_role("button", name="Wyloguj").click()

    password_step()  # no code
    expect(page.locator(".error-summary")).to_contain_text("Podaj aktualny kod")
    password_step(pyotp.TOTP(secret).at(clock.now()))  # the code used for enrolment: a replay
    expect(page.locator(".error-summary")).to_contain_text("Nieprawidłowy kod")
    check_page(page, "logowanie-kod-blad", tmp_path)
    # The refused log-ins never handed a session to the browser (only the emptied cookie of the log-out).
    assert all(c["value"] in ("", '""') for c in page.context.cookies() if c["name"] == "sekap_sesja")
    clock.advance(seconds=30)
    password_step(pyotp.TOTP(secret).at(clock.now()))
    expect(page).to_have_url(base + "/urzednik")
    assert Officer.get(Officer.username == "jan").disabled is False
