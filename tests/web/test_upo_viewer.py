"""The public UPO viewer (/weryfikacja/upo): a receipt made by the receipts service is genuine, a
changed one is not, anything else is a Polish form error (never a 500); in chromium with axe-core."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from playwright.sync_api import Page, expect

import config.wiring.web
from ca.errors import AuthorityNotFoundError
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from receipts.service import ReceiptService
from receipts.settings import ReceiptsSettings
from receipts.timestamping import InProcessTimestamper
from tests.conftest import make_client
from tests.pki import TestPKI
from tests.receipts.conftest import PACKAGE, PORTAL, upp_body
from tests.tsa.conftest import AlwaysSynced, make_service
from tests.verifier.helpers import multipart
from tests.web.conftest import check_page
from verifier.detect import parse_submission
from verifier.service import VerificationService
from verifier.settings import VerifierSettings
from web.pages.receipt import RECEIPT_LIMIT


@pytest.fixture
def upo(pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, db: Any) -> bytes:
    """A UPO sealed by the receipt-seal key and timestamped by our TSA, as tests/receipts make one."""
    clock.advance(days=10)
    tsa = make_service(pki, clock, key_store, AlwaysSynced(), require_ntp_sync=True)
    verifier = VerificationService(VerifierSettings(), clock, lambda: key_store)
    service = ReceiptService(
        ReceiptsSettings(),
        clock,
        lambda: key_store,
        InProcessTimestamper(tsa),
        lambda data, media_type: verifier.verify(parse_submission(media_type, data)),
    )
    issued = service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None)
    return bytes(issued.receipt.xml)


@pytest.fixture
def client(settings, db, clock, key_store) -> testing.TestClient:  # type: ignore[no-untyped-def]
    return make_client(settings, ["ca", "enrollment", "verifier", "web"], db, clock, key_store)


def _post(client: testing.TestClient, data: bytes, *, token: str | None = None) -> testing.Result:
    first = client.simulate_get("/weryfikacja/upo")
    cookie = next(v for k, v in first.headers.items() if k.lower() == "set-cookie").split(";")[0]
    csrf = cookie.split("=", 1)[1] if token is None else token
    content_type, body = multipart([("csrf_token", None, None, csrf.encode()), ("receipt", "upo.xml", None, data)])
    return client.simulate_post("/weryfikacja/upo", body=body, headers={"Content-Type": content_type, "Cookie": cookie})


def test_our_upo_is_genuine_and_its_fields_are_shown(client: testing.TestClient, upo: bytes) -> None:
    result = _post(client, upo)
    assert result.status_code == 200, result.text
    assert "Poświadczenie jest autentyczne" in result.text
    assert "Urząd Gminy Przykładowo" in result.text and "56725" in result.text
    assert "Wniosek o wydanie zaświadczenia" in result.text
    assert hashlib.sha256(PACKAGE).hexdigest() in result.text
    assert "<script" not in result.text and "style=" not in result.text


def test_a_changed_upo_is_not_genuine(client: testing.TestClient, upo: bytes) -> None:
    result = _post(client, upo.replace(b"56725", b"99999"))
    assert result.status_code == 200
    assert "Poświadczenie nie jest autentyczne" in result.text
    assert "Treść dokumentu zmieniono po złożeniu podpisu" in result.text


def test_a_receipt_not_sealed_by_our_receipt_seal_is_not_genuine(
    client: testing.TestClient, upo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid XAdES seal is not enough: it must be the receipt-seal's (here: none is configured)."""

    def missing(name: str) -> None:
        raise AuthorityNotFoundError(name)

    monkeypatch.setattr(config.wiring.web, "authority", missing)
    result = _post(client, upo)
    assert "Poświadczenie nie jest autentyczne" in result.text
    assert "nie jest to pieczęć centrum certyfikacji SEKAP" in result.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Wybierz plik XML"),
        (b"\x00\x01garbage", "To nie jest UPO ani UPD"),
        (b"<a><b/></a>", "To nie jest UPO ani UPD"),
        (b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", "To nie jest UPO ani UPD"),
        (b"%PDF-1.7\n%%EOF", "To nie jest UPO ani UPD"),
        (b"<" + b"a" * (RECEIPT_LIMIT + 1), "Plik jest za duży"),
    ],
)
def test_bad_input_is_a_polish_form_error(client: testing.TestClient, data: bytes, message: str) -> None:
    result = _post(client, data)
    assert result.status_code in (413, 422), result.text
    assert message in result.text


def test_the_form_needs_the_csrf_token(client: testing.TestClient, upo: bytes) -> None:
    result = _post(client, upo, token=base64.urlsafe_b64encode(b"x" * 32).decode())
    assert result.status_code == 403
    assert "Brak dostępu" in result.text


def test_verification_page_answers_a_dtd_with_a_form_error(client: testing.TestClient) -> None:
    """The e-package page too: what the hardened XML parser refuses is a Polish form error, not a 400 page."""
    first = client.simulate_get("/weryfikacja")
    cookie = next(v for k, v in first.headers.items() if k.lower() == "set-cookie").split(";")[0]
    dtd = b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"
    content_type, body = multipart(
        [("csrf_token", None, None, cookie.split("=", 1)[1].encode()), ("document", "a.xml", None, dtd)]
    )
    result = client.simulate_post("/weryfikacja", body=body, headers={"Content-Type": content_type, "Cookie": cookie})
    assert result.status_code == 422 and "Nie rozpoznano pliku" in result.text


# Browser tests last: the module-scoped browser keeps Playwright's event loop running in this
# thread, and the TestClient tests above call the verifier, which uses asyncio.run().
@pytest.mark.slow
@pytest.mark.interop
def test_upo_viewer_in_the_browser(page: Page, live_server, upo: bytes, tmp_path: Path) -> None:
    page.goto(live_server.url + "/weryfikacja")
    page.get_by_role("link", name="Sprawdź, czy UPO lub UPD jest autentyczne").click()
    check_page(page, "upo-formularz", tmp_path)
    garbage = tmp_path / "smieci.xml"
    garbage.write_bytes(b"to nie jest XML")
    page.set_input_files("#receipt", str(garbage))
    page.get_by_role("button", name="Sprawdź poświadczenie").click()
    expect(page.locator(".error-summary")).to_contain_text("To nie jest UPO ani UPD")
    check_page(page, "upo-blad", tmp_path)

    genuine = tmp_path / "upo.xml"
    genuine.write_bytes(upo)
    page.set_input_files("#receipt", str(genuine))
    page.get_by_role("button", name="Sprawdź poświadczenie").click()
    expect(page.locator(".verdict h2")).to_have_text("Poświadczenie jest autentyczne")
    expect(page.locator(".facts")).to_contain_text("Urząd Gminy Przykładowo")
    expect(page.locator(".facts")).to_contain_text(hashlib.sha256(PACKAGE).hexdigest())
    check_page(page, "upo-autentyczne", tmp_path)

    tampered = tmp_path / "upo-zmienione.xml"
    tampered.write_bytes(upo.replace(b"56725", b"99999"))
    page.set_input_files("#receipt", str(tampered))
    page.get_by_role("button", name="Sprawdź poświadczenie").click()
    expect(page.locator(".verdict h2")).to_have_text("Poświadczenie nie jest autentyczne")
    expect(page.locator(".facts")).to_contain_text("99999")
    check_page(page, "upo-nieautentyczne", tmp_path)
