"""Citizen pages in Debian's chromium: application status by tracking code and "Zarządzanie
certyfikatem" with the revocation code (status, suspend, revoke), each checked with axe-core."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import DeskWorld, check_page

pytestmark = [pytest.mark.slow, pytest.mark.interop]


def test_application_status_by_tracking_code(page: Page, live_server, desk_world: DeskWorld, tmp_path: Path) -> None:
    page.goto(live_server.url + "/obywatel/wniosek")
    check_page(page, "obywatel-wniosek-formularz", tmp_path)
    page.get_by_label("Numer wniosku").fill(desk_world.waiting_reference)
    page.get_by_label("Kod śledzenia").fill("0000000000")
    page.get_by_role("button", name="Sprawdź stan").click()
    expect(page.locator(".error-summary")).to_contain_text("Nie znaleziono wniosku")
    check_page(page, "obywatel-wniosek-blad", tmp_path)
    page.get_by_label("Kod śledzenia").fill(desk_world.waiting_tracking_code)
    page.get_by_role("button", name="Sprawdź stan").click()
    expect(page.locator("#stan")).to_have_text("Czeka na wizytę w punkcie certyfikacji")
    expect(page.locator(".facts")).to_contain_text("Urząd Miasta Katowice, ul. Młyńska 4")
    expect(page.locator(".facts")).to_contain_text("pendrive")
    # The codes never reach the address bar.
    assert desk_world.waiting_tracking_code not in page.url
    check_page(page, "obywatel-wniosek-stan", tmp_path)


def test_certificate_management_with_the_revocation_code(
    page: Page, live_server, desk_world: DeskWorld, tmp_path: Path
) -> None:
    page.goto(live_server.url + "/obywatel/certyfikat")
    check_page(page, "obywatel-certyfikat-formularz", tmp_path)
    page.get_by_label("Numer seryjny certyfikatu").fill(desk_world.serial)
    page.get_by_label("Kod unieważnienia").fill("AAAAA-BBBBB-CCCCC-DDDDD")
    page.get_by_role("button", name="Pokaż certyfikat").click()
    expect(page.locator(".error-summary")).to_contain_text("kod unieważnienia są nieprawidłowe")

    page.get_by_label("Kod unieważnienia").fill(desk_world.revocation_code.lower())  # typed by a person
    page.get_by_role("button", name="Pokaż certyfikat").click()
    expect(page.locator("#stan")).to_have_text("Certyfikat jest ważny")
    check_page(page, "obywatel-certyfikat-wazny", tmp_path)

    page.get_by_role("button", name="Zawieś certyfikat").click()
    expect(page.locator(".notice")).to_have_text("Certyfikat został zawieszony.")
    expect(page.locator("#stan")).to_have_text("Certyfikat jest zawieszony")
    check_page(page, "obywatel-certyfikat-zawieszony", tmp_path)

    # Revocation needs the confirmation box: without it, an error summary and nothing changes.
    page.get_by_role("button", name="Unieważnij certyfikat").click()
    expect(page.locator(".error-summary")).to_contain_text("Potwierdź")
    page.get_by_label("Kod unieważnienia").fill(desk_world.revocation_code)
    page.get_by_role("button", name="Pokaż certyfikat").click()
    # keyCompromise is not offered: the code alone cannot claim it (issue 15, RFC 8555 §7.6).
    assert page.locator("#reason option[value=keyCompromise]").count() == 0
    page.get_by_label("Przyczyna").select_option("superseded")
    page.get_by_label("Rozumiem, że unieważnienia nie można cofnąć").check()
    page.get_by_role("button", name="Unieważnij certyfikat").click()
    expect(page.locator("#stan")).to_have_text("Certyfikat jest unieważniony")
    check_page(page, "obywatel-certyfikat-uniewazniony", tmp_path)
    assert desk_world.revocation_code not in page.url
