"""A real PostgreSQL made unreachable by a TCP proxy the test stops and starts again (issue 12,
item 5): every route answers 503 with Retry-After (problem+json on REST, tryLater on OCSP,
systemFailure on TSA), never a 500 and never a 2xx for work that was not stored; once the
database is back, the same app serves again without a restart."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import peewee as pw
import pytest
from asn1crypto import ocsp as asn1_ocsp
from falcon import testing

from config.app import create_app
from config.settings import Settings
from core import db as core_db
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.config.tcp_proxy import TCPProxy, postgres_proxy
from tests.conftest import POSTGRES_URL
from tests.enrollment.helpers import API, PESEL, Parties, application_body, create_parties, make_csr
from tests.ocsp.helpers import issue, request_der
from tests.pki import TestPKI
from tests.tsa.conftest import make_query, parse_reply

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SERVICES = ["ca", "enrollment", "ocsp", "tsa", "verifier"]


@pytest.fixture
def proxied_url() -> Iterator[tuple[TCPProxy, str]]:
    with postgres_proxy(POSTGRES_URL) as (proxy, url):
        yield proxy, url


@pytest.fixture
def proxy(proxied_url: tuple[TCPProxy, str]) -> TCPProxy:
    return proxied_url[0]


@pytest.fixture
def setup(
    settings: Settings,
    db: pw.Database,
    clock: FrozenClock,
    key_store: SoftwareKeyStore,
    pki: TestPKI,
    proxied_url: tuple[TCPProxy, str],
) -> Iterator[tuple[API, Parties, TestPKI]]:
    """The whole app on the proxied database (schema and PKI made directly beforehand)."""
    proxied = core_db.open_database(proxied_url[1])
    enrollment = replace(
        settings.enrollment, password_hash_time_cost=1, password_hash_memory_kib=1024, point_key_algorithm="ec-p256"
    )
    app = create_app(
        replace(settings, enrollment=enrollment), SERVICES, clock=clock, key_store=key_store, database=proxied
    )
    parties = create_parties(enrollment, clock)
    yield API(testing.TestClient(app)), parties, pki
    core_db.bind(db)
    proxied.close_all()


def _requests(
    api: API, parties: Parties, pki: TestPKI, serial: int, officer: dict[str, str]
) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Requests that each need the database, by name: method, path, simulate_request kwargs."""
    portal = api.bearer(parties.portal_token)
    ocsp_der = request_der(pki.cert("citizens"), serial)
    encoded = base64.b64encode(ocsp_der).decode()
    return {
        "application": (
            "POST",
            "/api/v1/applications",
            {"headers": portal, "json": application_body(parties.point_id, csr=make_csr()[0])},
        ),
        "application-read": ("GET", "/api/v1/applications/WN-0000-0000", {"headers": portal}),
        "citizen-certificates": (
            "GET",
            "/api/v1/citizen/certificates",
            {"headers": api.bearer(parties.portal_token, **{"X-Citizen-Pesel": PESEL})},
        ),
        "login": ("POST", "/api/v1/sessions", {"json": {"username": "officer1", "password": "Haslo-Testowe-2026"}}),
        "self-service": (
            "POST",
            "/api/v1/self-service/status",
            {"json": {"serial": f"{serial:040X}", "code": "ABCD-EFGH-JKLM-NPQR"}},
        ),
        "points": ("GET", "/api/v1/points", {"headers": officer}),
        "ocsp-post": (
            "POST",
            "/ocsp",
            {"body": ocsp_der, "headers": {"Content-Type": "application/ocsp-request"}},
        ),
        "ocsp-get": ("GET", f"/ocsp/{encoded}", {}),
        "tsa": ("POST", "/tsa", {"body": make_query(), "headers": {"Content-Type": "application/timestamp-query"}}),
        "crl": ("GET", "/crl/citizens.crl", {}),
    }


def _call(api: API, request: tuple[str, str, dict[str, Any]]) -> testing.Result:
    method, path, kwargs = request
    return api.client.simulate_request(method, path, **kwargs)


def _check_unavailable(name: str, result: testing.Result) -> None:
    assert result.status_code == 503, (name, result.status_code, result.text[:300])
    assert int(result.headers["retry-after"]) > 0, name
    content_type = result.headers["content-type"]
    if name == "ocsp-post" or name == "ocsp-get":
        assert content_type == "application/ocsp-response"
        assert asn1_ocsp.OCSPResponse.load(result.content)["response_status"].native == "try_later"  # RFC 6960 §2.3
    elif name == "tsa":
        assert content_type == "application/timestamp-reply"
        reply = parse_reply(result.content)  # RFC 3161 §2.4.2
        assert reply.status == "rejection" and reply.fail_info == {"system_failure"} and reply.token is None
    else:
        assert content_type == "application/problem+json"
        assert result.json["code"] == "unavailable" and "psycopg2" not in result.text


def _officer_session(api: API) -> dict[str, str]:
    return api.as_officer("officer1")


def test_every_route_answers_503_with_retry_after_during_an_outage_and_recovers(
    setup: tuple[API, Parties, TestPKI], proxy: TCPProxy, clock: FrozenClock
) -> None:
    api, parties, pki = setup
    serial = issue(pki, clock).serial_number
    officer = _officer_session(api)
    spec = api.client.simulate_get("/openapi.json").json
    requests = _requests(api, parties, pki, serial, officer)
    before = {name: _call(api, request).status_code for name, request in requests.items()}
    assert before["application"] == 201 and before["ocsp-post"] == 200 and before["tsa"] == 200, before

    proxy.stop()
    for name, request in requests.items():
        _check_unavailable(name, _call(api, request))
    # Every documented REST operation, as the portal, as an officer and anonymous: never a 500,
    # never a success for a change, and every 503 says when to retry.
    for path, operations in spec["paths"].items():
        concrete = path.replace("{reference}", "WN-0000-0000").replace("{serial}", "0A").replace("{name}", "root")
        concrete = concrete.replace("{encoded}", "MAA=")
        for method in operations:
            if method not in {"get", "post", "put", "delete", "patch"}:
                continue
            for headers in ({}, api.bearer(parties.portal_token), officer):
                result = api.client.simulate_request(method.upper(), concrete, headers=headers, json={})
                assert result.status_code != 500, (method, path, result.text[:200])
                if method != "get" and path.startswith("/api/"):  # /ocsp, /tsa: garbage gets a protocol error
                    assert result.status_code >= 400, (method, path, result.status_code)
                if result.status_code == 503:
                    assert result.headers.get("retry-after"), (method, path)

    proxy.start()
    after = {name: _call(api, request).status_code for name, request in requests.items()}
    assert after["application"] == 201 and after["ocsp-post"] == 200 and after["tsa"] == 200, after
    assert after["points"] == 200 and after["login"] == 201, after
    assert _call(api, requests["ocsp-post"]).content[:2] == b"\x30\x82"
    assert asn1_ocsp.OCSPResponse.load(_call(api, requests["ocsp-get"]).content)["response_status"].native == (
        "successful"
    )


def test_an_outage_is_audited_once_the_database_is_back(
    setup: tuple[API, Parties, TestPKI], proxy: TCPProxy, clock: FrozenClock
) -> None:
    """issue 15 item 8: the application saw PostgreSQL unreachable (REST and the OCSP protocol
    lane) and later back; the audit record is written then, with the outage's start and end."""
    from config import system_audit
    from core.audit import AuditRecord

    api, parties, pki = setup
    serial = issue(pki, clock).serial_number
    requests = _requests(api, parties, pki, serial, {})
    assert _call(api, requests["ocsp-post"]).status_code == 200
    proxy.stop()
    started = clock.now()
    _check_unavailable("ocsp-post", _call(api, requests["ocsp-post"]))
    clock.advance(seconds=45)
    _check_unavailable("crl", _call(api, requests["crl"]))
    proxy.start()
    # Written by the first request that goes well, unless this process failed to write system
    # records less than RETRY_SECONDS ago (another test's outage): then by one a little later.
    deadline = time.monotonic() + system_audit.RETRY_SECONDS + 5
    while True:
        assert _call(api, requests["ocsp-post"]).status_code == 200
        outages = [
            r
            for r in AuditRecord.select().where(AuditRecord.action == "system.database_outage")
            if r.details["started_at"] == started.isoformat()
        ]
        if outages or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(outages) == 1, [r.details for r in outages]
    assert outages[0].details["ended_at"] == clock.now().isoformat() and outages[0].details["seconds"] == 45
    assert outages[0].details["failures"] >= 2
