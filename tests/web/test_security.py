"""Security of the pages and the Polish error edge, over the real app (falcon TestClient)."""

from __future__ import annotations

import pytest
from falcon import testing

from config.problem_texts_pl import DETAILS, GENERIC_DETAILS, translate, wants_polish
from tests.conftest import make_client
from web.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def client(settings, db, clock, key_store) -> testing.TestClient:  # type: ignore[no-untyped-def]
    return make_client(settings, ["ca", "enrollment", "verifier", "web"], db, clock, key_store)


def _cookie(result: testing.Result, name: str) -> str:
    lines = [v for k, v in result.headers.items() if k.lower() == "set-cookie"]
    header = result.headers.get("set-cookie", "")
    found = [part for part in [header, *lines] if part.startswith(name + "=")]
    assert found, f"no {name} cookie in {result.headers}"
    return found[0]


@pytest.mark.parametrize("path", ["/", "/weryfikacja", "/logowanie"])
def test_pages_carry_the_security_headers(client: testing.TestClient, path: str) -> None:
    result = client.simulate_get(path)
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    csp = result.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert result.headers["referrer-policy"] == "no-referrer"
    assert result.headers["x-frame-options"] == "DENY"
    assert result.headers["cache-control"] == "no-store"
    assert "<script" not in result.text and "style=" not in result.text and "<style" not in result.text


def test_csrf_cookie_is_httponly_strict_and_secure_by_default(client: testing.TestClient) -> None:
    cookie = _cookie(client.simulate_get("/logowanie"), "sekap_csrf")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie


@pytest.mark.parametrize("token", [None, "", "x" * 43])
def test_a_form_without_the_matching_token_is_refused(client: testing.TestClient, token: str | None) -> None:
    first = client.simulate_get("/logowanie")
    cookie = _cookie(first, "sekap_csrf").split(";")[0]
    body = "username=a&password=b" + (f"&csrf_token={token}" if token is not None else "")
    result = client.simulate_post(
        "/logowanie",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    assert result.status_code == 403
    assert "Brak dostępu" in result.text and "csrf" not in result.text.lower()


def test_the_matching_token_passes_the_csrf_check(client: testing.TestClient) -> None:
    first = client.simulate_get("/logowanie")
    cookie = _cookie(first, "sekap_csrf").split(";")[0]
    token = cookie.split("=", 1)[1]
    result = client.simulate_post(
        "/logowanie",
        body=f"username=nikt&password=zle&csrf_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    assert result.status_code == 422
    assert "Nieprawidłowa nazwa użytkownika lub hasło" in result.text


def test_a_failing_page_shows_a_polish_500_without_internals(client: testing.TestClient) -> None:
    class Broken:
        def on_get(self, req, resp) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("internal detail: cannot decrypt key citizens")

    client.app.add_route("/obywatel/zepsuta", Broken())
    result = client.simulate_get("/obywatel/zepsuta")
    assert result.status_code == 500
    assert result.headers["content-type"].startswith("text/html")
    assert "Wystąpił błąd" in result.text
    assert "decrypt" not in result.text and "RuntimeError" not in result.text


def test_unknown_page_is_a_polish_404_page(client: testing.TestClient) -> None:
    result = client.simulate_get("/urzednik/nie-ma")
    assert result.status_code == 404 and "Nie znaleziono strony" in result.text


def test_admin_page_sends_an_anonymous_browser_to_log_in(client: testing.TestClient) -> None:
    result = client.simulate_get("/admin")
    assert result.status_code == 303 and result.headers["location"].endswith("/logowanie")


# ---- problem+json in Polish (issue 14, item 7) ----------------------------------------------


def test_api_problem_in_polish_when_asked(client: testing.TestClient) -> None:
    polish = client.simulate_get("/api/v1/applications/ABC/status", headers={"Accept-Language": "pl-PL,pl;q=0.9"})
    english = client.simulate_get("/api/v1/applications/ABC/status")
    assert polish.status_code == english.status_code
    assert polish.headers["content-type"] == "application/problem+json"
    assert polish.json["code"] == english.json["code"]  # codes stay English for programs
    assert polish.json["title"] != english.json["title"]
    assert polish.json["title"] in {"Nie znaleziono", "Wymagane uwierzytelnienie", "Niepoprawne dane"}
    assert polish.json["detail"] != english.json["detail"]
    assert polish.json["detail"] in {*DETAILS.values(), *GENERIC_DETAILS.values()}


def test_api_validation_problem_in_polish(client: testing.TestClient) -> None:
    result = client.simulate_post("/api/v1/sessions", json={"username": 5}, headers={"Accept-Language": "pl"})
    assert result.status_code == 422
    assert result.json["title"] == "Niepoprawne dane"
    assert result.json["detail"] == "Dane są niepoprawne; szczegóły w polu errors."
    assert result.json["errors"][0]["field"] == "username"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pl", True),
        ("pl-PL", True),
        ("en;q=0.5, pl", True),
        ("en, pl;q=0.8", False),
        ("pl;q=0", False),
        ("de", False),
        ("", False),
        (None, False),
        ("pl;q=abc, en", False),
    ],
)
def test_wants_polish(header: str | None, expected: bool) -> None:
    """RFC 9110 §12.5.4: the highest-quality language decides; q=0 means "not acceptable"."""
    assert wants_polish(header) is expected


def test_server_errors_never_get_a_specific_detail() -> None:
    title, detail = translate(500, "wrong_code")
    assert title == "Błąd serwera" and detail == "Serwer nie mógł wykonać żądania."
