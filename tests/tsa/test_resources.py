"""POST /tsa over HTTP (RFC 3161 §3.4): every answer a TimeStampResp, tokens recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import peewee as pw
import pytest
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from falcon import testing

from config.settings import Settings
from core.audit import AuditRecord
from core.clock import FrozenClock
from hsm.base import KeyLabel
from hsm.errors import KeyStoreUnavailableError
from hsm.software import SoftwareKeyStore
from tests.conftest import make_client
from tests.pki import TestPKI
from tests.tsa.conftest import make_query, post
from tests.tsa.tokens import check_token
from tsa.models import TSAHostState, TSAToken


def test_granted_token_is_recorded(client: testing.TestClient, pki: TestPKI) -> None:
    status, _, reply = post(client, make_query(b"payload", algorithm="sha512", nonce=7))
    assert status == 200
    assert reply.status == "granted"
    assert reply.token is not None
    info = check_token(reply.token.dump(), pki.cert("tsa"))
    (row,) = TSAToken.select()
    assert row.serial == format(info["serial_number"].native, "X")
    assert row.gen_time == info["gen_time"].native
    assert row.hash_algorithm == "sha512"
    assert row.imprint == hashlib.sha512(b"payload").hexdigest()
    assert row.policy == "2.999.1.2.1"
    assert row.has_nonce is True and row.cert_req is True
    assert row.key_label == pki.row("tsa").key_label
    assert row.tsa_certificate_serial == pki.row("tsa").serial


def test_configuration_audited_once_per_host(client: testing.TestClient) -> None:
    for _ in range(3):
        assert post(client, make_query())[2].status == "granted"
    configured = list(AuditRecord.select().where(AuditRecord.action == "tsa.configure"))
    assert len(configured) == 1
    assert configured[0].details["policy_oid"] == "2.999.1.2.1"
    assert TSAHostState.select().count() == 1
    # Each token is a row of tsa_token, not an audit record (the chain would serialise throughput).
    assert TSAToken.select().count() == 3
    assert AuditRecord.select().where(AuditRecord.action.startswith("tsa.")).count() == 1


@pytest.mark.parametrize(
    ("body", "content_type", "fail_info"),
    [
        (make_query(algorithm="sha1"), "application/timestamp-query", "bad_alg"),
        (make_query(digest=b"\x00" * 31), "application/timestamp-query", "bad_data_format"),
        (make_query(policy="1.2.3"), "application/timestamp-query", "unaccepted_policy"),
        (b"not a query", "application/timestamp-query", "bad_request"),
        (b"", "application/timestamp-query", "bad_request"),
        (make_query(), "application/json", "bad_data_format"),
        (make_query(), "", "bad_data_format"),
        (b"\x30\x82\x10\x00" + b"\x00" * 5000, "application/timestamp-query", "bad_request"),
        (
            make_query(extensions=[{"extn_id": "1.2.3.4", "critical": True, "extn_value": b"\x05\x00"}]),
            "application/timestamp-query",
            "unaccepted_extensions",
        ),
    ],
    ids=["sha1", "short-imprint", "policy", "garbage", "empty", "json", "no-type", "too-large", "critical-ext"],
)
def test_rejections_are_timestamp_replies(
    client: testing.TestClient, body: bytes, content_type: str, fail_info: str
) -> None:
    status, media, reply = post(client, body, content_type)
    assert (status, media) == (200, "application/timestamp-reply")
    assert reply.status == "rejection"
    assert reply.fail_info == {fail_info}
    assert reply.token is None
    assert TSAToken.select().count() == 0


def test_content_type_parameters_are_tolerated(client: testing.TestClient) -> None:
    assert post(client, make_query(), "application/timestamp-query; charset=binary")[2].status == "granted"


class _UnavailableStore(SoftwareKeyStore):
    """A key store whose token is unreachable (HSM down)."""

    def find(self, label: KeyLabel | str) -> CertificateIssuerPrivateKeyTypes:
        raise KeyStoreUnavailableError("the token is not reachable")


def test_key_store_failure_is_system_failure_not_500(
    settings: Settings, db: pw.Database, clock: FrozenClock, pki: TestPKI, tmp_path: Path
) -> None:
    # A TSA whose key is unavailable answers in its protocol (systemFailure) with HTTP 503.
    client = make_client(settings, ["tsa"], db, clock, _UnavailableStore(tmp_path / "empty", b"x"))
    status, _, reply = post(client, make_query())
    assert status == 503
    assert reply.status == "rejection"
    assert reply.fail_info == {"system_failure"}
    assert TSAToken.select().count() == 0


def test_get_is_not_a_token(client: testing.TestClient) -> None:
    assert client.simulate_get("/tsa").status_code == 405
