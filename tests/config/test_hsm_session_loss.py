"""PKCS#11 sessions lost under load (issue 15 item 9): the TSA and the OCSP signer keys live on a
SoftHSM2 token; while client threads time-stamp and ask OCSP with a nonce (signed live), another
session of the same process calls C_CloseAllSessions on the token's slot again and again (what a
token reset or an HSM fail-over does to a process). Every answer is a success or the protocol's
own "try later" (RFC 3161 systemFailure, RFC 6960 tryLater, both 503 with Retry-After), the
service recovers by itself, and the loss and the recovery are audit records.

PKCS#11 sessions belong to a process, so this runs the app in the test process (falcon's test
client from several threads); the store-level recovery is tests/hsm/test_pkcs11_availability.py,
the audit record of one loss tests/config/test_system_audit.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import peewee as pw
import pytest
from asn1crypto import ocsp as asn1_ocsp
from falcon import testing

from config import system_audit
from config.settings import Settings
from core.audit import AuditRecord, verify_chain
from core.clock import FrozenClock
from hsm.pkcs11 import PKCS11KeyStore
from tests.conftest import make_client
from tests.ocsp.helpers import issue, request_der
from tests.pki import TestPKI, build_pki
from tests.served import load_threads
from tests.softhsm import SoftHSMToken
from tests.tsa.conftest import make_query, parse_reply
from tsa.models import TSAToken
from tsa.serials import to_hex

pytestmark = [pytest.mark.hsm, pytest.mark.slow]

THREADS = 4
RESETS = int(os.environ.get("SEKAP_TRUST_FAULT_SESSION_RESETS", "8"))


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def token_app(
    settings: Settings, db: pw.Database, clock: FrozenClock, softhsm_token: SoftHSMToken
) -> Iterator[tuple[testing.TestClient, TestPKI, PKCS11KeyStore]]:
    """TSA and OCSP over a hierarchy whose every key is on the token (a pool of four sessions)."""
    store = softhsm_token.key_store(pool_size=4)
    pki = build_pki(clock, store)
    system_audit.SYSTEM_AUDIT.flush(force=True)  # nothing of earlier tests left waiting
    yield make_client(settings, ["ocsp", "tsa"], db, clock, store), pki, store
    store.close()


def _ask(client: testing.TestClient, kind: str, ocsp_request: bytes) -> Answer:
    if kind == "tsa":
        body, content_type, path = make_query(), "application/timestamp-query", "/tsa"
    else:
        body, content_type, path = ocsp_request, "application/ocsp-request", "/ocsp"
    result = client.simulate_post(path, body=body, headers={"Content-Type": content_type})
    return Answer(kind, result.status_code, {k.lower(): v for k, v in result.headers.items()}, result.content)


def _check(answer: Answer, serials: set[str]) -> bool:
    """True for a success (a token's serial kept for the database check), False for a protocol
    "try later"; anything else fails the test."""
    if answer.kind == "tsa":
        reply = parse_reply(answer.body)  # RFC 3161 §2.4.2
        if answer.status == 200 and reply.status == "granted":
            tst_info = reply.token["content"]["encap_content_info"]["content"].parsed
            serials.add(to_hex(tst_info["serial_number"].native))
            return True
        assert answer.status == 503 and reply.status == "rejection" and reply.fail_info == {"system_failure"}, answer
    else:
        status = asn1_ocsp.OCSPResponse.load(answer.body)["response_status"].native  # RFC 6960 §2.3
        if answer.status == 200 and status == "successful":
            return True
        assert answer.status == 503 and status == "try_later", (answer.status, status)
    assert int(answer.headers["retry-after"]) > 0
    return False


def test_sessions_closed_under_load_answer_in_protocol_terms_recover_and_are_audited(
    token_app: tuple[testing.TestClient, TestPKI, PKCS11KeyStore], softhsm_token: SoftHSMToken, clock: FrozenClock
) -> None:
    """PKCS#11 v2.40 §5.6 C_CloseAllSessions under load: RFC 3161 §2.4.2 / RFC 6960 §2.3 answers
    meanwhile, recovery and its audit records afterwards."""
    client, pki, _store = token_app
    # OCSP with a nonce is signed live (a cached response would not touch the token).
    ocsp_request = request_der(pki.cert("citizens"), issue(pki, clock).serial_number, nonce=os.urandom(16))
    with load_threads(lambda n: _ask(client, ("tsa", "ocsp")[n % 2], ocsp_request), THREADS) as answers:
        time.sleep(0.5)
        for _ in range(RESETS):
            softhsm_token.close_all_sessions()
            time.sleep(0.3)
        time.sleep(0.5)
    serials: set[str] = set()
    outcomes = [_check(answer, serials) for answer in answers]
    print(f"\n{RESETS} session resets: {len(answers)} answers, {outcomes.count(False)} try-later")
    assert outcomes.count(True) > len(answers) // 2, "the service hardly worked under the resets"
    # Recovered by itself: the next requests of both kinds succeed.
    assert _check(_ask(client, "tsa", ocsp_request), serials) and _check(_ask(client, "ocsp", ocsp_request), serials)
    recorded = {t.serial for t in TSAToken.select(TSAToken.serial).where(TSAToken.serial << serials)}
    assert recorded == serials, serials - recorded  # every token handed out is recorded
    system_audit.SYSTEM_AUDIT.flush(force=True)
    audited = {}
    for action in ("hsm.session_lost", "hsm.session_recovered"):
        # (only this token's: the process-wide queue may have held another test's events)
        ours = (AuditRecord.action == action) & (AuditRecord.object_id == softhsm_token.label)
        rows = list(AuditRecord.select().where(ours))
        assert rows and all(r.object_type == "hsm_token" and r.actor == "system" for r in rows), action
        assert all(softhsm_token.pin not in str(r.details) for r in rows)
        audited[action] = len(rows)
    print(f"audited: {audited}")
    assert verify_chain().ok
