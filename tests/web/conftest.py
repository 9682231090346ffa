"""Browser fixtures: the real app on an ephemeral port, Debian's chromium driven by Playwright,
axe-core (shipped by axe-playwright-python) run on every page."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from config.app import create_app
from config.settings import Settings
from enrollment.admin import Administration
from tests.enrollment.helpers import approved_grant
from web.settings import WebSettings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=pl",  # the browser's own texts (file inputs) in Polish, as at a Polish desk
]
# WCAG 2.1 AA binds Polish public bodies (ustawa o dostępności cyfrowej; EN 301 549).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# `SEKAP_TRUST_SCREENSHOTS=docs/screenshots` (make screenshots) refreshes the user guide's pictures.
SCREENSHOT_DIR = os.environ.get("SEKAP_TRUST_SCREENSHOTS", "")
ADMIN_PASSWORD = "Admin-haslo-2026"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    # Plain http on 127.0.0.1: cookies without Secure, as `make run` configures it.
    return replace(settings, web=WebSettings(secure_cookies=False))


@pytest.fixture
def live_server(web_settings, db, clock, key_store, pki) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    app = create_app(
        web_settings, ["ca", "enrollment", "verifier", "web"], clock=clock, key_store=key_store, database=db
    )
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", web_settings)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def admin_officer(web_settings, db, clock) -> str:  # type: ignore[no-untyped-def]
    Administration(web_settings.enrollment, clock).add_officer(
        username="admin.ca",
        password=ADMIN_PASSWORD,
        roles=["ca_admin"],
        points=[],
        actor="system:test",
        approval_id=approved_grant(clock, "admin.ca", ["ca_admin"]),
    )
    return "admin.ca"


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and other test files on the same xdist worker call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which("chromium"), "Debian's chromium is required (make system-deps installs it)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw", viewport={"width": 1100, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


_AXE = Axe()


def check_page(page: Page, name: str, tmp_path: Path) -> None:
    """axe-core with the WCAG 2.1 A/AA rules finds nothing, and a screenshot is taken."""
    results = _AXE.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    summary = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert not violations, f"{name}: accessibility violations {summary}"
    target = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


@dataclass
class DeskWorld:
    """One application waiting for its visit and one issued certificate, made through the REST API
    of the live server exactly as the portal and an officer would."""

    waiting_reference: str
    waiting_tracking_code: str
    serial: str
    revocation_code: str
    officer: str = "urzednik"


@pytest.fixture
def desk_world(live_server: LiveServer, web_settings, clock) -> DeskWorld:  # type: ignore[no-untyped-def]
    import requests

    from tests.enrollment.helpers import ID_CARD, PASSWORD, application_body, make_csr, remember

    admin = Administration(web_settings.enrollment, clock)
    point = admin.add_point(
        name="Urząd Miasta Katowice",
        street="ul. Młyńska 4",
        postal_code="40-098",
        city="Katowice",
        teryt="2469011",
        dual_control=False,
        actor="system:test",
    )
    portal = admin.add_portal_client(name="portal", scopes=["applications", "citizens"], actor="system:test")
    agreement = admin.add_agreement("Umowa o świadczenie usług certyfikacyjnych.", actor="system:test")
    admin.add_officer(username="urzednik", password=PASSWORD, roles=["ra_officer"], points=[point.id], actor="t")
    api = live_server.url + "/api/v1"
    portal_headers = {"Authorization": f"Bearer {portal.token}"}

    def submit(**kwargs: Any) -> dict[str, Any]:
        r = requests.post(api + "/applications", json=application_body(point.id, **kwargs), headers=portal_headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    waiting = submit()
    issued = submit(csr=make_csr()[0])
    session = requests.post(api + "/sessions", json={"username": "urzednik", "password": PASSWORD}).json()["token"]
    officer = {"Authorization": f"Bearer {session}"}
    check = {
        "document_type": "id_card",
        "document_number": ID_CARD,
        "document_expiry": "2030-01-01",
        "data_match": True,
        "agreement_version": agreement.version,
    }
    url = f"{api}/officer/applications/{issued['reference']}"
    assert requests.post(url + "/identity-check", json=check, headers=officer).status_code == 201
    result = requests.post(url + "/issue", json={}, headers=officer)
    assert result.status_code == 201, result.text
    body = result.json()
    return DeskWorld(
        waiting["reference"],
        remember(waiting["tracking_code"]),
        body["serial"],
        remember(body["revocation_code"]),
    )


def log_in(page: Page, base: str, username: str, password: str, clock: Any) -> None:
    """Password, then (first time) enrol the TOTP factor from the secret the page shows once,
    or type the current code (RFC 6238) at later log-ins."""
    import pyotp

    page.goto(base + "/logowanie")
    page.get_by_label("Nazwa użytkownika").fill(username)
    page.get_by_label("Hasło").fill(password)
    secret = getattr(page.context, "totp_secret", None)
    if secret:
        page.get_by_label("Kod z aplikacji uwierzytelniającej").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Zaloguj się").click()
    if page.url.endswith("/totp"):
        secret = page.locator("#secret").inner_text().replace(" ", "")
        page.context.totp_secret = secret  # type: ignore[attr-defined]
        page.get_by_label("Kod z aplikacji").fill(pyotp.TOTP(secret).at(clock.now()))
        page.get_by_role("button", name="Potwierdź").click()
