"""The receipts REST routes over the real app: status codes, headers, problem+json, renderings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.auth import Principal
from receipts.models import Receipt
from tests.receipts.conftest import upp_body
from tests.verifier.helpers import PrincipalMiddleware

URL = "/api/v1/receipts"


def post(client, body, key: str | None = "r-1"):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    return client.simulate_post(URL, body=json.dumps(body), headers=headers)


def test_post_returns_the_upo_xml_with_location_and_number(client) -> None:
    result = post(client, upp_body())
    assert result.status_code == 201, result.text
    assert result.headers["content-type"].startswith("application/xml")
    assert result.headers["location"].startswith(URL + "/")
    assert result.headers["receipt-number"].startswith("UPP-")
    assert b"<pos:UPP>" in result.content
    again = post(client, upp_body())
    assert again.status_code == 200 and again.content == result.content
    fetched = client.simulate_get(result.headers["location"])
    assert fetched.status_code == 200 and fetched.content == result.content


def test_scope_is_required(client, settings, db, clock, key_store) -> None:
    from tests.conftest import make_client

    other = make_client(settings, ["receipts"], db, clock, key_store)
    other.app.add_middleware(PrincipalMiddleware(Principal("portal", "9", scopes=frozenset({"verify"}))))
    assert post(other, upp_body()).status_code == 403
    anonymous = make_client(settings, ["receipts"], db, clock, key_store)
    assert post(anonymous, upp_body()).status_code == 401


def test_bad_input_is_problem_json_with_fields_never_500(client) -> None:
    result = post(client, upp_body(recipient={"name": ""}, package_sha256="x"))
    assert result.status_code == 422
    assert result.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in result.json["errors"]}
    assert {"recipient/name", "package_sha256"} <= fields
    assert client.simulate_post(URL, body="{", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.simulate_post(URL, body="[]", headers={"Content-Type": "application/json"}).status_code == 422
    assert Receipt.select().count() == 0


def test_unknown_receipt_is_404(client) -> None:
    assert client.simulate_get(URL + "/nope").status_code == 404
    assert client.simulate_get(URL + "/nope/pdf").status_code == 404


def test_html_rendering_is_polish_with_the_seed_fields(client, clock) -> None:
    location = post(client, upp_body()).headers["location"]
    page = client.simulate_get(location + "/html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<html lang="pl">' in text
    assert "Przesłane dokumenty doręczono do" in text and "Urząd Gminy Przykładowo" in text
    # 09:00 UTC in January is 10:00 in Warsaw; the generation time is printed in UTC.
    assert f"{clock.now():%Y-%m-%d} godzina 10:00:00" in text
    assert "Numer wniosku" in text and "56725" in text and "Temat wniosku" in text
    assert f"wygenerowano i podpisano dnia {clock.now():%Y-%m-%d} o godzinie 09:00:00 czasu uniwersalnego UTC" in text


def test_pdf_rendering_keeps_polish_letters(client, tmp_path: Path) -> None:
    """The PDF embeds a TrueType font: pdftotext reads the diacritics back; pdftoppm renders it."""
    location = post(client, upp_body()).headers["location"]
    result = client.simulate_get(location + "/pdf")
    assert result.status_code == 200 and result.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "upo.pdf"
    pdf.write_bytes(result.content)
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=30
    ).stdout.decode("utf-8")
    for phrase in (
        "Urzędowe Poświadczenie Odbioru",
        "Przesłane dokumenty doręczono do",
        "Urząd Gminy Przykładowo",
        "zaświadczenia",
        "uniwersalnego UTC",
    ):
        assert phrase in text, text
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=30,
    )
    assert (tmp_path / "page-1.png").stat().st_size > 1000


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is required (Debian package poppler-utils)"
    return path


@pytest.mark.parametrize("route", [URL, URL + "/deliveries"])
def test_openapi_documents_the_routes(client, route) -> None:
    document = client.simulate_get("/openapi.json").json
    assert "post" in document["paths"][route]
