"""The officer's whole path in Debian's chromium: log in, the point's queue, search by PESEL,
the printable agreement, the identity check (check digit as typed and on the server, by keyboard
alone), issuance with the PIN twice, the one-time PKCS#12, suspend and revoke on the citizen's
behalf, the point's recent activity — axe-core on every page."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from playwright.sync_api import Page, expect

from tests.enrollment.helpers import ID_CARD, PASSWORD, PESEL
from tests.web.conftest import DeskWorld, check_page, log_in

pytestmark = [pytest.mark.slow, pytest.mark.interop]
CITIZEN_PIN = "Zielony-Las-77"


def test_officer_path(page: Page, live_server, desk_world: DeskWorld, clock, tmp_path: Path) -> None:
    base = live_server.url
    log_in(page, base, desk_world.officer, PASSWORD, clock)
    expect(page).to_have_url(base + "/urzednik")
    expect(page.locator("table")).to_contain_text(desk_world.waiting_reference)
    check_page(page, "urzednik-kolejka", tmp_path)

    # Search by PESEL: a POST, so the PESEL never reaches the address bar.
    page.get_by_label("Szukaj po").select_option("pesel")
    page.get_by_label("Wartość").fill(PESEL)
    page.get_by_role("button", name="Szukaj").click()
    expect(page.locator("h2")).to_contain_text("Wyniki wyszukiwania (PESEL): 2")
    assert PESEL not in page.url and PESEL not in page.title()
    check_page(page, "urzednik-wyszukiwanie", tmp_path)

    page.get_by_role("link", name=desk_world.waiting_reference).click()
    expect(page.locator("h1")).to_have_text(f"Wniosek {desk_world.waiting_reference}")
    check_page(page, "urzednik-wniosek", tmp_path)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="umowa do druku (PDF, wersja 1)").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and b"DejaVu" in pdf

    # The check digit, as typed (static/dokument.js) ...
    page.get_by_label("Seria i numer dokumentu").fill("ABS523456")
    expect(page.locator("#document_number-live")).to_have_text("Cyfra kontrolna się nie zgadza — sprawdź numer.")
    # ... and on the server, with an error summary at the top.
    page.get_by_label("Data ważności dokumentu").fill("2030-01-01")
    page.get_by_label("Dane w dokumencie zgadzają się z wnioskiem").check()
    page.get_by_label("Umowa (wersja 1) została zaakceptowana").check()
    page.get_by_role("button", name="Zapisz sprawdzenie tożsamości").click()
    expect(page.locator(".error-summary")).to_contain_text("cyfrę kontrolną")
    check_page(page, "urzednik-tozsamosc-blad", tmp_path)

    # Keyboard alone: from the document number to the button.
    page.focus("#document_number")
    page.keyboard.press("Control+A")
    page.keyboard.type(ID_CARD)
    expect(page.locator("#document_number-live")).to_have_text("Numer poprawny.")
    page.keyboard.press("Tab")
    page.keyboard.type("01012030")  # the date field, typed as a Polish user types it (DD.MM.YYYY)
    for _ in range(2):
        page.keyboard.press("Tab")  # birth date (optional with a PESEL), then the first box
    if not page.is_checked("#data_match"):
        page.keyboard.press("Space")
    page.keyboard.press("Tab")
    if not page.is_checked("#umowa"):
        page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_have_text("Zapisano sprawdzenie tożsamości.")

    # Issuance: re-authentication with a fresh TOTP code, the PIN twice, and they must agree.
    page.get_by_label("PIN obywatela").fill(CITIZEN_PIN)
    page.get_by_label("PIN ponownie").fill(CITIZEN_PIN)
    page.get_by_role("button", name="Wydaj certyfikat").click()
    expect(page.locator(".error-summary")).to_contain_text("Potwierdź wydanie aktualnym kodem")
    clock.advance(seconds=30)
    totp = pyotp.TOTP(page.context.totp_secret)  # type: ignore[attr-defined]
    page.get_by_label("Twój kod z aplikacji").fill(totp.at(clock.now()))
    page.get_by_label("PIN obywatela").fill(CITIZEN_PIN)
    page.get_by_label("PIN ponownie").fill(CITIZEN_PIN + "x")
    page.get_by_role("button", name="Wydaj certyfikat").click()
    expect(page.locator(".error-summary")).to_contain_text("Oba wpisy PIN-u muszą być takie same.")
    clock.advance(seconds=30)  # the code above was used up by the refused attempt's check
    page.get_by_label("Twój kod z aplikacji").fill(totp.at(clock.now()))
    page.get_by_label("PIN obywatela").fill(CITIZEN_PIN)
    page.get_by_label("PIN ponownie").fill(CITIZEN_PIN)
    page.get_by_role("button", name="Wydaj certyfikat").click()
    expect(page.locator("h1")).to_have_text("Certyfikat wydany")
    code = page.locator(".code").inner_text()
    assert len(code.replace("-", "")) == 20
    check_page(page, "urzednik-wydano", tmp_path)

    page.get_by_label("Pendrive obywatela jest podłączony").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Pobierz plik PKCS#12").click()
    p12 = Path(download_info.value.path()).read_bytes()
    key, cert, _ = pkcs12.load_key_and_certificates(p12, CITIZEN_PIN.encode())
    assert key is not None and cert is not None
    # Exactly once: a second download is refused.
    second = page.request.post(
        f"{base}/urzednik/wniosek/{desk_world.waiting_reference}/pkcs12",
        form={"csrf_token": _csrf(page), "rozumiem": "tak"},
    )
    assert second.status in (404, 409, 410)
    # The hand-over is recorded once the officer confirms the file is on the citizen's pendrive.
    page.get_by_label("Plik zapisano na pendrive obywatela").check()
    page.get_by_role("button", name="Zapisz przekazanie pliku").click()
    expect(page.locator(".notice")).to_have_text("Zapisano przekazanie pliku z kluczem obywatelowi.")
    expect(page.locator("main")).to_contain_text("Przekazanie pliku obywatelowi zapisano")
    check_page(page, "urzednik-przekazanie", tmp_path)
    again = page.request.post(
        f"{base}/urzednik/wniosek/{desk_world.waiting_reference}/przekazanie",
        form={"csrf_token": _csrf(page), "zapisano": "tak"},
    )
    assert again.status == 422 and "Przekazanie można zapisać raz" in again.text()

    # Suspend and revoke on the citizen's behalf, only after the ID check box.
    page.goto(f"{base}/urzednik/wniosek/{desk_world.waiting_reference}")
    page.get_by_role("button", name="Zawieś na prośbę obywatela").click()
    expect(page.locator(".error-summary")).to_contain_text("Najpierw sprawdź dokument")
    page.locator("form", has_text="Zawieś na prośbę").get_by_label(
        "Dokument tożsamości obywatela został sprawdzony"
    ).check()
    page.get_by_role("button", name="Zawieś na prośbę obywatela").click()
    expect(page.locator(".notice")).to_have_text("Certyfikat zawieszony.")
    check_page(page, "urzednik-certyfikat-zawieszony", tmp_path)
    revoke = page.locator("form", has_text="Unieważnij na prośbę")
    revoke.get_by_label("Przyczyna unieważnienia").select_option("keyCompromise")
    revoke.get_by_label("Dokument tożsamości obywatela został sprawdzony").check()
    page.get_by_role("button", name="Unieważnij na prośbę obywatela").click()
    expect(page.locator(".notice")).to_have_text("Certyfikat unieważniony.")

    page.goto(base + "/urzednik/aktywnosc")
    table = page.locator("table")
    events = (
        "tożsamość sprawdzona",
        "certyfikat wydany",
        "plik PKCS#12 przekazany",
        "certyfikat zawieszony",
        "certyfikat unieważniony",
    )
    for event in events:
        expect(table).to_contain_text(event)
    check_page(page, "urzednik-aktywnosc", tmp_path)


def _csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "sekap_csrf")


def test_console_refuses_other_points_and_anonymous(page: Page, live_server, desk_world: DeskWorld) -> None:
    response = page.goto(live_server.url + f"/urzednik/wniosek/{desk_world.waiting_reference}")
    expect(page).to_have_url(live_server.url + "/logowanie")
    assert response is not None
