"""PostgreSQL unreachable for 30 s under mixed load, against the real server (issue 15 item 9).

``sekap-trust serve`` (granian, two workers) reaches PostgreSQL through a TCP proxy that the test
stops for SEKAP_TRUST_FAULT_OUTAGE_SECONDS (default 30) while client threads keep sending
applications (portal token), OCSP and TSA requests and verifications. Every answer is either a
success whose work is in the database afterwards, or a 503 with Retry-After in the protocol's
own terms (problem+json, OCSP tryLater, TSA systemFailure); never a 500, never a dropped
connection; once the proxy is back the same server answers again without a restart, within a
bounded time. The in-process version of this test is tests/config/test_outage.py.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee as pw
import pytest
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from core.audit import AuditRecord, verify_chain
from core.clock import FrozenClock
from enrollment.models import Application
from tests.config.tcp_proxy import TCPProxy, postgres_proxy
from tests.conftest import POSTGRES_URL
from tests.enrollment.helpers import application_body, make_csr
from tests.ocsp.helpers import issue, request_der
from tests.served import Instance, ServerProcess, load_threads, prepare_instance
from tests.tsa.conftest import make_query, parse_reply
from tsa.models import TSAToken
from tsa.serials import to_hex

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

OUTAGE_SECONDS = float(os.environ.get("SEKAP_TRUST_FAULT_OUTAGE_SECONDS", "30"))
RECOVERY_SECONDS = 20.0  # proxy back → every kind of request succeeds again (measured: see docs/testing.md)
THREADS = 4
KINDS = ("application", "ocsp", "tsa", "verification")
SERVICES = ["ca", "enrollment", "ocsp", "tsa", "verifier"]


@dataclass(frozen=True)
class Outcome:
    kind: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    headers: dict[str, str]
    body: bytes
    error: str = ""


@dataclass(frozen=True)
class Load:
    """The requests of one kind each, ready to send."""

    url: str
    portal_token: str
    point_id: int
    ocsp_request: bytes
    cms: bytes

    def request(self, kind: str) -> urllib.request.Request:
        if kind == "application":
            body = json.dumps(application_body(self.point_id, csr=make_csr()[0])).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.portal_token}"}
            return urllib.request.Request(f"{self.url}/api/v1/applications", data=body, headers=headers)
        if kind == "ocsp":
            headers = {"Content-Type": "application/ocsp-request"}
            return urllib.request.Request(f"{self.url}/ocsp", data=self.ocsp_request, headers=headers)
        if kind == "tsa":
            headers = {"Content-Type": "application/timestamp-query"}
            return urllib.request.Request(f"{self.url}/tsa", data=make_query(), headers=headers)
        headers = {"Content-Type": "application/pkcs7-mime", "Authorization": f"Bearer {self.portal_token}"}
        return urllib.request.Request(f"{self.url}/api/v1/verifications", data=self.cms, headers=headers)

    def send(self, kind: str) -> Outcome:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(self.request(kind), timeout=60) as answer:
                status, headers, body = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, dict(exc.headers), exc.read()
        except OSError as exc:
            return Outcome(kind, started, time.monotonic(), 0, {}, b"", repr(exc))
        return Outcome(kind, started, time.monotonic(), status, {k.lower(): v for k, v in headers.items()}, body)


def _signed_cms() -> bytes:
    """A CMS signed by a key nobody trusts: the verifier answers with a report all the same."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fault Test Signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256())
    )  # fmt: skip
    builder = pkcs7.PKCS7SignatureBuilder().set_data(b"tresc wniosku\n").add_signer(cert, key, hashes.SHA256())
    return builder.sign(serialization.Encoding.DER, [])


@pytest.fixture
def proxied_url() -> Iterator[tuple[TCPProxy, str]]:
    with postgres_proxy(POSTGRES_URL) as (proxy, url):
        yield proxy, url


@pytest.fixture
def served(
    db: pw.Database, proxied_url: tuple[TCPProxy, str], tmp_path: Path
) -> Iterator[tuple[ServerProcess, Instance, TCPProxy]]:
    """The instance made directly in the test database; the server reaches it through the proxy."""
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=5))
    instance = prepare_instance(tmp_path, proxied_url[1], clock, SERVICES)
    server = ServerProcess(instance.env, tmp_path / "server.log")
    server.start()
    yield server, instance, proxied_url[0]
    server.stop()


def _check_unavailable(outcome: Outcome) -> None:
    """RFC 9110 §15.6.4 / §10.2.3 503 + Retry-After, in the protocol's terms: RFC 6960 §2.3
    tryLater, RFC 3161 §2.4.2 rejection with systemFailure, RFC 9457 problem+json."""
    assert int(outcome.headers["retry-after"]) > 0, outcome
    content_type = outcome.headers["content-type"]
    if outcome.kind == "ocsp":
        assert content_type == "application/ocsp-response"
        assert asn1_ocsp.OCSPResponse.load(outcome.body)["response_status"].native == "try_later"
    elif outcome.kind == "tsa":
        assert content_type == "application/timestamp-reply"
        reply = parse_reply(outcome.body)
        assert reply.status == "rejection" and reply.fail_info == {"system_failure"} and reply.token is None
    else:
        assert content_type == "application/problem+json", outcome
        assert json.loads(outcome.body)["code"] == "unavailable" and b"psycopg2" not in outcome.body


def _check_success(outcome: Outcome, references: set[str], serials: set[str]) -> None:
    """A success is kept for the database check: the application reference, the token serial."""
    if outcome.kind == "application":
        assert outcome.status == 201, outcome
        references.add(json.loads(outcome.body)["reference"])
    elif outcome.kind == "tsa":
        reply = parse_reply(outcome.body)
        assert outcome.status == 200 and reply.status == "granted" and reply.token is not None, outcome
        tst_info = reply.token["content"]["encap_content_info"]["content"].parsed
        serials.add(to_hex(tst_info["serial_number"].native))
    elif outcome.kind == "ocsp":
        assert outcome.status == 200, outcome
        assert asn1_ocsp.OCSPResponse.load(outcome.body)["response_status"].native == "successful"
    else:
        assert outcome.status == 200 and "indication" in json.loads(outcome.body), outcome


def _first_success_after(outcomes: list[Outcome], kind: str, moment: float) -> float | None:
    times = [o.ended for o in outcomes if o.kind == kind and o.started >= moment and 200 <= o.status < 300]
    return min(times) - moment if times else None


def test_postgres_unreachable_under_mixed_load_then_recovers_without_restart(
    served: tuple[ServerProcess, Instance, TCPProxy],
) -> None:
    """RFC 9110 §15.6.4 and §10.2.3 (503 + Retry-After) in each protocol's terms (RFC 9457,
    RFC 6960 §2.3 tryLater, RFC 3161 §2.4.2 systemFailure) for a whole outage, then service again."""
    server, instance, proxy = served
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=1))
    serial = issue(instance.pki, clock).serial_number
    load = Load(server.url, instance.portal_token, instance.point_id,
                request_der(instance.pki.cert("citizens"), serial), _signed_cms())  # fmt: skip
    for kind in KINDS:  # healthy first, or the test would prove nothing
        outcome = load.send(kind)
        assert 200 <= outcome.status < 300, (outcome, server.log.read_text()[-3000:])
    with load_threads(lambda n: load.send(KINDS[n % len(KINDS)]), THREADS) as outcomes:
        time.sleep(3)
        down = time.monotonic()
        proxy.stop()
        time.sleep(OUTAGE_SECONDS)
        up = time.monotonic()
        proxy.start()
        deadline = up + RECOVERY_SECONDS
        while time.monotonic() < deadline and any(_first_success_after(outcomes, k, up) is None for k in KINDS):
            outcomes.check()
            time.sleep(0.2)
        time.sleep(2)
    references: set[str] = set()
    serials: set[str] = set()
    during = [o for o in outcomes if o.started > down + 1 and o.ended < up]
    for outcome in outcomes:
        assert outcome.status != 0 and outcome.status != 500, outcome
        if outcome.status == 503:
            _check_unavailable(outcome)
        else:
            _check_success(outcome, references, serials)
    assert all(o.status < 300 for o in outcomes if o.ended < down), "failures before the outage"
    unavailable = {kind: sum(o.kind == kind and o.status == 503 for o in during) for kind in KINDS}
    assert unavailable["application"] and unavailable["tsa"], unavailable  # the outage was felt
    recovery = {kind: _first_success_after(outcomes, kind, up) for kind in KINDS}
    assert all(seconds is not None for seconds in recovery.values()), recovery
    print(f"\noutage {OUTAGE_SECONDS:.0f} s, {len(outcomes)} requests, {len(during)} during it: 503 {unavailable}; "
          f"recovered after {recovery}")  # fmt: skip
    # Every success was real: its work is in the database, not only in the client's hands.
    stored = {r.reference for r in Application.select(Application.reference).where(Application.reference << references)}
    assert stored == references, references - stored
    recorded = {t.serial for t in TSAToken.select(TSAToken.serial).where(TSAToken.serial << serials)}
    assert recorded == serials, serials - recorded
    assert server.process is not None and server.process.poll() is None  # the same server, never restarted
    _check_outage_audited(server)


def _check_outage_audited(server: ServerProcess) -> None:
    """issue 15 item 8: each worker that saw the outage writes one record once the database is
    back (at its next request after config.system_audit.RETRY_SECONDS); the chain stays whole."""
    deadline = time.monotonic() + 20
    while not AuditRecord.select().where(AuditRecord.action == "system.database_outage").exists():
        assert time.monotonic() < deadline, "no system.database_outage record"
        urllib.request.urlopen(f"{server.url}/crl/citizens.crl", timeout=10).read()
        time.sleep(0.5)
    assert verify_chain().ok
