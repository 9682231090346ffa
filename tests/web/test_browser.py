"""The pages in Debian's chromium (Playwright): every page passes axe-core's WCAG 2.1 AA rules,
works without JavaScript, and the public verification and the admin views do their job."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ca.crl import CRLPublisher
from tests.verifier.helpers import issue_citizen, openssl_cms_sign
from tests.web.conftest import ADMIN_PASSWORD, check_page, log_in

pytestmark = [pytest.mark.slow, pytest.mark.interop]


def test_home_and_error_pages(page: Page, live_server, tmp_path: Path) -> None:
    page.goto(live_server.url + "/")
    expect(page).to_have_title(re.compile("Strona główna"))
    check_page(page, "strona-glowna", tmp_path)
    response = page.goto(live_server.url + "/admin/nie-ma-takiej")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Nie znaleziono strony")
    check_page(page, "blad-404", tmp_path)


def test_skip_link_and_keyboard_focus(page: Page, live_server) -> None:
    """WCAG 2.4.1: the first Tab lands on "Przejdź do treści", which moves focus to the content."""
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Przejdź do treści"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "tresc"


def test_public_verification_of_a_signed_document(page: Page, live_server, pki, tmp_path: Path) -> None:
    page.goto(live_server.url + "/weryfikacja")
    check_page(page, "weryfikacja-formularz", tmp_path)
    # Empty form: an error summary at the top that links to the field.
    page.get_by_role("button", name="Sprawdź podpis").click()
    expect(page.locator(".error-summary")).to_contain_text("Wybierz plik")
    check_page(page, "weryfikacja-blad", tmp_path)

    citizen = issue_citizen(pki, tmp_path / "citizen", name="Zofia Łąckа-Żółć")
    content = tmp_path / "wniosek.txt"
    content.write_text("Wniosek o wydanie zaświadczenia\n", encoding="utf-8")
    signed = tmp_path / "wniosek.txt.p7m"
    signed.write_bytes(openssl_cms_sign(citizen, content, attached=True))
    page.set_input_files("#document", str(signed))
    page.get_by_role("button", name="Sprawdź podpis").click()
    expect(page.locator(".verdict h2")).to_have_text("Podpis jest prawidłowy")
    expect(page.locator(".signature")).to_contain_text("Zofia Łąckа-Żółć")
    expect(page.locator(".signature")).to_contain_text("podpisana treść jest w pliku podpisu")
    check_page(page, "weryfikacja-wynik", tmp_path)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Pobierz podpisany raport").click()
    report = Path(download_info.value.path()).read_bytes()
    assert report[:1] == b"\x30"  # DER CMS SignedData
    assert b"TOTAL_PASSED" in report


def test_public_verification_shows_counter_signatures(page: Page, live_server, pki, clock, tmp_path: Path) -> None:
    """EN 319 132-1 §5.2.7.2: an e-package whose signature carries a valid counter-signature and
    one by an untrusted certificate; both are described in Polish, the package still passes."""
    from epackage import Signer, counter_sign_package, pack_and_sign

    citizen = issue_citizen(pki, tmp_path / "citizen", name="Jan Wnioskodawca")
    witness = issue_citizen(pki, tmp_path / "witness", name="Anna Świadek", semantics_id="PNOPL-90020212345")
    stranger = issue_citizen(pki, tmp_path / "stranger", name="Obcy Podpis", foreign=True)
    package = pack_and_sign({"wniosek.xml": b"<wniosek/>"}, Signer(citizen.key, citizen.cert), at=clock.now())
    package = counter_sign_package(package, Signer(witness.key, witness.cert), at=clock.now())
    package = counter_sign_package(package, Signer(stranger.key, stranger.cert), at=clock.now())
    path = tmp_path / "paczka.asice"
    path.write_bytes(package)
    page.goto(live_server.url + "/weryfikacja")
    page.set_input_files("#document", str(path))
    page.get_by_role("button", name="Sprawdź podpis").click()
    expect(page.locator(".verdict h2")).to_have_text("Podpis jest prawidłowy")
    counters = page.locator(".counter-signatures li")
    expect(counters).to_have_count(2)
    expect(counters.nth(0)).to_contain_text("Kontrasygnata 1.1 (dotyczy podpisu 1): kontrasygnata jest prawidłowa")
    expect(counters.nth(0)).to_contain_text("Anna Świadek")
    expect(counters.nth(1)).to_contain_text("nie można rozstrzygnąć ważności kontrasygnaty")
    expect(counters.nth(1)).to_contain_text("Certyfikat nie pochodzi od zaufanego wystawcy")
    check_page(page, "weryfikacja-kontrasygnaty", tmp_path)


def test_tampered_document_is_reported_failed(page: Page, live_server, pki, tmp_path: Path) -> None:
    citizen = issue_citizen(pki, tmp_path / "citizen")
    content = tmp_path / "wniosek.txt"
    content.write_bytes(b"oryginalna tresc\n")
    detached = tmp_path / "wniosek.p7s"
    detached.write_bytes(openssl_cms_sign(citizen, content, attached=False))
    changed = tmp_path / "zmieniony.txt"
    changed.write_bytes(b"zmieniona tresc\n")
    page.goto(live_server.url + "/weryfikacja")
    page.set_input_files("#document", str(detached))
    page.set_input_files("#content", str(changed))
    page.get_by_role("button", name="Sprawdź podpis").click()
    expect(page.locator(".verdict h2")).to_have_text("Podpis jest nieprawidłowy")
    expect(page.locator(".verdict")).to_contain_text("Treść dokumentu zmieniono po złożeniu podpisu")
    check_page(page, "weryfikacja-nieprawidlowy", tmp_path)


def test_oversized_upload_gets_a_polish_message(page: Page, live_server, tmp_path: Path) -> None:
    big = tmp_path / "duzy.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * (live_server.settings.web.max_upload_bytes + 10))
    page.goto(live_server.url + "/weryfikacja")
    page.set_input_files("#document", str(big))
    page.get_by_role("button", name="Sprawdź podpis").click()
    expect(page.locator(".error-summary")).to_contain_text("Plik jest za duży")


def test_admin_pages_after_log_in(
    page: Page, live_server, admin_officer: str, key_store, clock, tmp_path: Path
) -> None:
    CRLPublisher(live_server.settings.ca, key_store, clock).publish_due()
    page.goto(live_server.url + "/admin")
    expect(page).to_have_url(live_server.url + "/logowanie")
    check_page(page, "logowanie", tmp_path)
    page.get_by_label("Nazwa użytkownika").fill(admin_officer)
    page.get_by_label("Hasło").fill("zle-haslo")
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.locator(".error-summary")).to_contain_text("Nieprawidłowa nazwa użytkownika lub hasło")
    check_page(page, "logowanie-blad", tmp_path)

    log_in(page, live_server.url, admin_officer, ADMIN_PASSWORD, clock)
    expect(page.locator("h1")).to_have_text("Hierarchia i listy CRL")
    expect(page.locator("table").first).to_contain_text("citizens")
    expect(page.locator("table").nth(1)).to_contain_text("aktualna, następna najpóźniej za")
    check_page(page, "admin-hierarchia", tmp_path)
    cookie = next(c for c in page.context.cookies() if c["name"] == "sekap_sesja")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # Idle timeout: the cookie lapses session_idle_minutes after the last page (renewed on each page).
    assert 14 * 60 <= cookie["expires"] - time.time() <= 15 * 60 + 5

    page.get_by_role("link", name="Dziennik zdarzeń").click()
    expect(page.locator("#lancuch")).to_have_text("Łańcuch dziennika jest nienaruszony")
    check_page(page, "admin-dziennik", tmp_path)
    page.get_by_role("link", name="Zadania okresowe").click()
    expect(page.locator("#t-jobs")).to_contain_text("Harmonogram")  # the page itself: test_admin_jobs.py

    page.get_by_role("button", name="Wyloguj").click()
    expect(page).to_have_url(live_server.url + "/")
    page.goto(live_server.url + "/admin")
    expect(page).to_have_url(live_server.url + "/logowanie")


def test_no_inline_code_under_the_csp(page: Page, live_server) -> None:
    """The CSP forbids inline script and style; the browser reports no violation on any page."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    for path in ("/", "/weryfikacja", "/logowanie"):
        page.goto(live_server.url + path)
    assert not violations
    # The stylesheet really applied (a page without it would still "work").
    colour = page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor")
    assert colour == "rgb(11, 79, 138)"


def test_an_asic_e_package_is_explained(page: Page, live_server, pki, clock, tmp_path: Path) -> None:
    """EN 319 162-1: an e-package made with the citizen's packer; the report names every file covered."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from epackage import pack_and_sign
    from epackage.signer import from_pkcs12

    citizen = issue_citizen(pki, tmp_path / "citizen", name="Zofia Nowak")
    p12 = pkcs12.serialize_key_and_certificates(
        b"z", citizen.key, citizen.cert, None, serialization.BestAvailableEncryption(b"Haslo-1")
    )
    forms = {"wniosek.xml": "<wniosek>Proszę o zaświadczenie</wniosek>".encode(), "załącznik.pdf": b"%PDF-1.7 x"}
    package = tmp_path / "paczka.asice"
    package.write_bytes(pack_and_sign(forms, from_pkcs12(p12, "Haslo-1"), at=clock.now()))
    page.goto(live_server.url + "/weryfikacja")
    page.set_input_files("#document", str(package))
    page.get_by_role("button", name="Sprawdź podpis").click()
    expect(page.locator(".verdict h2")).to_have_text("Podpis jest prawidłowy")
    signature = page.locator(".signature")
    expect(signature).to_contain_text("Zofia Nowak")
    expect(signature).to_contain_text("wniosek.xml")
    expect(signature).to_contain_text("załącznik.pdf")
    text = signature.inner_text()
    assert "%C5" not in text and "detached:" not in text and "SignedProperties" not in text
    check_page(page, "weryfikacja-e-paczka", tmp_path)
