"""TSA test helpers: queries built with asn1crypto, responses decoded, a TSA client and a
service over the ceremony's TSA."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import peewee as pw
import pytest
from asn1crypto import algos, cms, core, tsp
from falcon import testing

from config.settings import Settings
from core import der
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.conftest import make_client
from tests.pki import TestPKI
from tsa.clock_guard import SyncStatus
from tsa.service import TimeStampService
from tsa.settings import TSASettings

QUERY = "application/timestamp-query"


def make_query(
    data: bytes = b"hello",
    *,
    algorithm: str = "sha256",
    digest: bytes | None = None,
    nonce: int | None = 0x1234567890ABCDEF,
    cert_req: bool = True,
    policy: str | None = None,
    extensions: list[dict[str, Any]] | None = None,
    version: int = 1,
    null_params: bool = True,
) -> bytes:
    if digest is None:
        digest = hashlib.new(algorithm, data).digest()
    # asn1crypto writes NULL parameters (as openssl does); RFC 5754 clients omit them.
    identifier = algos.DigestAlgorithm({"algorithm": algorithm, "parameters": core.Null()})
    if not null_params:
        identifier = algos.DigestAlgorithm.load(der.sequence(identifier["algorithm"].dump()))
    request: dict[str, Any] = {
        "version": version,
        "message_imprint": {"hash_algorithm": identifier, "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        request["nonce"] = nonce
    if policy is not None:
        request["req_policy"] = policy
    if extensions is not None:
        request["extensions"] = extensions
    return tsp.TimeStampReq(request).dump()


@dataclass
class Reply:
    status: str
    fail_info: set[str]
    text: list[str]
    token: cms.ContentInfo | None
    raw: bytes

    @property
    def tst_info(self) -> tsp.TSTInfo:
        assert self.token is not None
        return self.token["content"]["encap_content_info"]["content"].parsed


def parse_reply(raw: bytes) -> Reply:
    outer = core.Sequence.load(raw, strict=True)
    status = tsp.PKIStatusInfo.load(outer[0].dump())
    token = cms.ContentInfo.load(outer[1].dump()) if len(outer) > 1 else None
    native = status.native
    return Reply(native["status"], set(native["fail_info"] or ()), list(native["status_string"] or []), token, raw)


class AlwaysSynced:
    def __init__(self) -> None:
        self.status = SyncStatus(True, 1000, "synchronised")
        self.calls = 0

    def __call__(self) -> SyncStatus:
        self.calls += 1
        return self.status


@pytest.fixture
def sync() -> AlwaysSynced:
    return AlwaysSynced()


def make_service(
    pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced | None = None, **overrides: Any
) -> TimeStampService:
    settings = TSASettings(**{"host_id": "test-host", **overrides})
    return TimeStampService(settings, "tsa", lambda: key_store, clock, sync_check=sync)


@pytest.fixture
def service(pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, sync: AlwaysSynced) -> TimeStampService:
    return make_service(pki, clock, key_store, sync, require_ntp_sync=True)


@pytest.fixture
def client(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore, pki: TestPKI
) -> testing.TestClient:
    return make_client(settings, ["tsa"], db, clock, key_store)


def post(client: testing.TestClient, body: bytes, content_type: str = QUERY) -> tuple[int, str, Reply]:
    result = client.simulate_post("/tsa", body=body, headers={"Content-Type": content_type})
    assert result.headers["content-type"] == "application/timestamp-reply"
    return result.status_code, result.headers["content-type"], parse_reply(result.content)
