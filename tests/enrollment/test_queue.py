"""The officer's queue (GET /api/v1/officer/applications: own points, filters, paging) and the
search by tracking code, surname and the document number checked at the desk (issue 14)."""

from __future__ import annotations

from typing import Any

from core.audit import AuditRecord
from tests.enrollment.helpers import API, ID_CARD, PESEL_2, Parties, application_body

URL = "/api/v1/officer/applications"


def _submit(api: API, parties: Parties, point: int | None = None, **kwargs: Any) -> dict[str, Any]:
    body = application_body(point or parties.point_id, **kwargs)
    r = api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=body)
    assert r.status_code == 201, r.json
    return dict(r.json)


def test_queue_lists_own_points_soonest_deadline_first(api: API, parties: Parties, clock: Any) -> None:
    first = _submit(api, parties)["reference"]
    clock.advance(hours=1)
    second = _submit(api, parties)["reference"]
    elsewhere = _submit(api, parties, point=parties.other_point_id)["reference"]
    r = api.call("GET", URL, api.as_officer("officer1"))
    assert r.status_code == 200
    assert [a["reference"] for a in r.json["applications"]] == [first, second]
    assert r.json["total"] == 2 and r.json["limit"] == 20 and r.json["offset"] == 0
    assert r.json["applications"][0]["surname"] == "Kowalski"  # officers see identity data
    gliwice = api.call("GET", URL, api.as_officer("gliwice"))
    assert [a["reference"] for a in gliwice.json["applications"]] == [elsewhere]
    auditor = api.call("GET", URL, api.as_officer("auditor"))
    assert auditor.json["total"] == 3
    listed = AuditRecord.select().where(AuditRecord.action == "enrollment.application.list").count()
    assert listed == 3


def test_queue_filters_and_pages(api: API, parties: Parties, clock: Any) -> None:
    refs = [_submit(api, parties)["reference"] for _ in range(3)]
    clock.advance(days=10)
    late = _submit(api, parties)["reference"]
    officer = api.as_officer("officer1")
    page = api.call("GET", URL, officer, params={"limit": 2, "offset": 2})
    assert page.json["total"] == 4 and [a["reference"] for a in page.json["applications"]] == [refs[2], late]
    soon = api.call("GET", URL, officer, params={"expiring_within_days": 5})
    assert {a["reference"] for a in soon.json["applications"]} == set(refs)
    own_point = api.call("GET", URL, officer, params={"point_id": parties.point_id, "state": "submitted"})
    assert own_point.json["total"] == 4
    other_point = api.call("GET", URL, officer, params={"point_id": parties.other_point_id})
    assert other_point.json["total"] == 0  # never another point's applications
    assert api.call("GET", URL, officer, params={"state": "issued"}).json["total"] == 0


def test_bad_filters_are_422(api: API, parties: Parties) -> None:
    officer = api.as_officer("officer1")
    for params in ({"state": "lost"}, {"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "abc"}):
        r = api.call("GET", URL, officer, params=params)
        assert r.status_code == 422, (params, r.json)
        assert r.headers["content-type"] == "application/problem+json"
    assert api.call("GET", URL).status_code == 401
    assert api.call("GET", URL, api.bearer(parties.portal_token)).status_code == 403


def test_search_by_the_document_checked_at_the_desk(api: API, parties: Parties) -> None:
    """The application named a PESEL; the officer checked an ID card: that number finds it."""
    reference = _submit(api, parties)["reference"]
    check = {
        "document_type": "id_card",
        "document_number": ID_CARD,
        "document_expiry": "2030-01-01",
        "data_match": True,
        "agreement_version": parties.agreement_version,
    }
    url = f"{URL}/{reference}/identity-check"
    assert api.call("POST", url, api.as_officer("officer1"), json=check).status_code == 201
    found = api.call(
        "POST", f"{URL}/search", api.as_officer("officer1"), json={"document_number": ID_CARD[:3] + " " + ID_CARD[3:]}
    )
    assert [a["reference"] for a in found.json["applications"]] == [reference]
    other = api.call("POST", f"{URL}/search", api.as_officer("gliwice"), json={"document_number": ID_CARD})
    assert other.json["applications"] == []


def test_search_by_tracking_code_and_name(api: API, parties: Parties) -> None:
    submitted = _submit(api, parties, pesel=PESEL_2, surname="Łukasik-Żak", given_names="Anna")
    _submit(api, parties)
    officer = api.as_officer("officer1")
    by_code = api.call("POST", f"{URL}/search", officer, json={"tracking_code": submitted["tracking_code"]})
    assert [a["reference"] for a in by_code.json["applications"]] == [submitted["reference"]]
    for typed in ("Łukasik-Żak", "łukasik-żak", "ŁUKASIK-ŻAK"):
        by_name = api.call("POST", f"{URL}/search", officer, json={"surname": typed})
        assert [a["reference"] for a in by_name.json["applications"]] == [submitted["reference"]], typed
    narrowed = api.call("POST", f"{URL}/search", officer, json={"surname": "kowalski", "given_names": "Piotr"})
    assert narrowed.json["applications"] == []
    assert api.call("POST", f"{URL}/search", officer, json={}).status_code == 422
