"""HTTP edge: POST and GET (RFC 6960 Appendix A), caching headers (RFC 5019 §6), errors in OCSP."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from dataclasses import replace
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from cryptography import x509
from cryptography.x509 import ocsp as x509_ocsp

from ca.models import Authority
from ocsp.directory import IssuerDirectory
from ocsp.jobs import presign
from tests.conftest import make_client
from tests.ocsp.helpers import issue, load, multi_request_der, request_der, set_status, verify_signature

OCSP_REQUEST = {"Content-Type": "application/ocsp-request"}


def post(client, der: bytes):  # type: ignore[no-untyped-def]
    return client.simulate_post("/ocsp", body=der, headers=OCSP_REQUEST)


def get(client, der: bytes, **kwargs):  # type: ignore[no-untyped-def]
    return client.simulate_get("/ocsp/" + urllib.parse.quote(base64.b64encode(der).decode(), safe=""), **kwargs)


def run_presign(settings, clock, key_store):  # type: ignore[no-untyped-def]
    return presign(settings.ocsp, clock, IssuerDirectory(key_store.find, refresh_seconds=0))


def test_post_good(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 Appendix A.1: POST application/ocsp-request → application/ocsp-response."""
    cert = issue(pki, clock)
    result = post(client, request_der(pki.issuing, cert.serial_number))
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/ocsp-response"
    assert result.headers["cache-control"] == "no-store"
    response = load(result.content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    verify_signature(response, pki.cert("citizens-ocsp"))


def test_root_ca_served(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """Every CA of the hierarchy is served: the issuing CA's own certificate under the root."""
    issuing_serial = pki.issuing.serial_number
    response = load(post(client, request_der(pki.root, issuing_serial, algorithm="sha256")).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    verify_signature(response, pki.cert("root-ocsp"))


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_get_revoked_each_hash(client, pki, clock, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock)
    at = clock.now() - timedelta(minutes=5)
    set_status(cert, reason="keyCompromise", at=at)
    response = load(get(client, request_der(pki.issuing, cert.serial_number, algorithm=algorithm)).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == at
    assert response.revocation_reason == x509.ReasonFlags.key_compromise
    assert response.hash_algorithm.name == algorithm


def test_suspend_and_resume_visible_at_once(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """EN 319 411-1 §6.2.4 / DESIGN: a status change shows in the very next response, even with
    a fresh pre-signed response in the cache."""
    cert = issue(pki, clock)
    run_presign(settings, clock, key_store)
    der = request_der(pki.issuing, cert.serial_number)
    assert load(get(client, der).content).certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    clock.advance(seconds=1)
    set_status(cert, reason="certificateHold", at=clock.now())
    response = load(get(client, der).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason == x509.ReasonFlags.certificate_hold
    clock.advance(seconds=1)
    set_status(cert, reason=None, at=clock.now())
    assert load(get(client, der).content).certificate_status == x509_ocsp.OCSPCertStatus.GOOD


def test_change_committed_after_presign_read_is_not_hidden(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """A revocation stamped *before* the job read the row (its transaction committed later) still
    makes the cached answer stale: the stamps differ, whatever the times."""
    cert = issue(pki, clock)
    run_presign(settings, clock, key_store)
    set_status(cert, reason="keyCompromise", at=clock.now() - timedelta(minutes=1))
    response = load(get(client, request_der(pki.issuing, cert.serial_number)).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED


def test_cached_response_served_and_headers(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """RFC 5019 §6.2: max-age ≤ nextUpdate, public, no-transform, must-revalidate; ETag;
    Last-Modified = producedAt; Expires = nextUpdate. The pre-signed bytes are served as stored."""
    cert = issue(pki, clock)
    produced = clock.now()
    assert run_presign(settings, clock, key_store).signed["citizens"] >= 1
    clock.advance(hours=2)
    result = get(client, request_der(pki.issuing, cert.serial_number))
    response = load(result.content)
    assert response.produced_at_utc == produced  # the pre-signed one, not a fresh signature
    remaining = int((response.next_update_utc - clock.now()).total_seconds())
    assert result.headers["cache-control"] == f"max-age={remaining}, public, no-transform, must-revalidate"
    assert result.headers["etag"] == f'"{hashlib.sha256(result.content).hexdigest()}"'
    assert parsedate_to_datetime(result.headers["last-modified"]) == produced
    assert parsedate_to_datetime(result.headers["expires"]) == response.next_update_utc
    again = get(client, request_der(pki.issuing, cert.serial_number), headers={"If-None-Match": result.headers["etag"]})
    assert again.status_code == 304


def test_post_same_status_served_from_cache(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock)
    run_presign(settings, clock, key_store)
    first = post(client, request_der(pki.issuing, cert.serial_number)).content
    clock.advance(minutes=10)
    assert post(client, request_der(pki.issuing, cert.serial_number)).content == first


def test_expired_cache_not_served(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock)
    run_presign(settings, clock, key_store)
    clock.advance(hours=settings.ocsp.validity_hours, seconds=1)
    response = load(get(client, request_der(pki.issuing, cert.serial_number)).content)
    assert response.produced_at_utc == clock.now()
    assert response.next_update_utc > clock.now()


def test_nonce_signed_live_not_cacheable(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """RFC 9654 §2.1: a nonce request gets a fresh response echoing it; it must not be cached."""
    cert = issue(pki, clock)
    run_presign(settings, clock, key_store)
    clock.advance(minutes=3)
    result = get(client, request_der(pki.issuing, cert.serial_number, nonce=b"N" * 16))
    response = load(result.content)
    assert response.produced_at_utc == clock.now()
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"N" * 16
    assert result.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("size", [33, 64, 128])
def test_nonce_up_to_128_octets_echoed(client, pki, clock, size: int) -> None:  # type: ignore[no-untyped-def]
    """RFC 9654 §2.1: nonces of 1 to 128 octets are echoed (33, 64 and 128 were refused under RFC 8954)."""
    result = post(client, multi_request_der([(pki.issuing, 5, "sha1")], nonce=b"x" * size))
    response = load(result.content)
    assert response.response_status == x509_ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"x" * size


@pytest.mark.parametrize("size", [0, 129])
def test_nonce_empty_or_over_128_octets_malformed(client, pki, clock, size: int) -> None:  # type: ignore[no-untyped-def]
    """RFC 9654 §2.1: an empty nonce or one longer than 128 octets → malformedRequest."""
    result = post(client, multi_request_der([(pki.issuing, 5, "sha1")], nonce=b"x" * size))
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_unknown_serial_signed_briefly_cacheable(client, pki, clock, settings) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 §2.2: a serial never issued under a served CA → signed 'unknown'."""
    result = get(client, request_der(pki.issuing, 0x1234567890ABCDEF))
    response = load(result.content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN
    verify_signature(response, pki.cert("citizens-ocsp"))
    assert result.headers["cache-control"].startswith(f"max-age={settings.ocsp.unknown_max_age_seconds},")


def test_reserved_serial_is_unknown(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """DESIGN "Issuance cycle": a reservation never answers 'good'."""
    cert = issue(pki, clock, state="reserved")
    assert load(post(client, request_der(pki.issuing, cert.serial_number)).content).certificate_status == (
        x509_ocsp.OCSPCertStatus.UNKNOWN
    )


def test_serial_of_other_ca_is_unknown(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock, issuer="citizens")
    response = load(post(client, request_der(pki.root, cert.serial_number)).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN


def test_foreign_issuer_unauthorized(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 §2.3: unauthorized for a CA we do not serve."""
    result = post(client, request_der(pki.cert("audit"), 5))
    assert result.status_code == 200
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x82\xff\xff"])
def test_garbage_post_malformed(client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    result = post(client, body)
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/ocsp-response"
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_wrong_content_type_malformed(client, pki) -> None:  # type: ignore[no-untyped-def]
    result = client.simulate_post("/ocsp", body=request_der(pki.issuing, 5), headers={"Content-Type": "text/plain"})
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_oversize_post_413_in_ocsp(client, pki) -> None:  # type: ignore[no-untyped-def]
    result = post(client, b"\x30" * 70_000)
    assert result.status_code == 413
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.parametrize("path", ["/ocsp/!!!", "/ocsp/AAAA", "/ocsp/" + "A" * 100_000, "/ocsp"])
def test_garbage_get_malformed(client, path: str) -> None:  # type: ignore[no-untyped-def]
    result = client.simulate_get(path)
    assert result.headers["content-type"] == "application/ocsp-response"
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert result.headers["cache-control"] == "no-store"


def test_get_with_slashes_and_variants(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 Appendix A.1: the base64 may contain '/', also doubled or trailing; raw,
    %-encoded, unpadded and URL-safe forms all work."""
    cert = issue(pki, clock)
    seen = set()
    for nonce_byte in range(256):
        der = request_der(pki.issuing, cert.serial_number, nonce=bytes([nonce_byte]) * 3)
        text = base64.b64encode(der).decode()
        forms = {
            "raw": "/ocsp/" + text,
            "quoted": "/ocsp/" + urllib.parse.quote(text, safe=""),
            "unpadded": "/ocsp/" + text.rstrip("="),
            "urlsafe": "/ocsp/" + base64.urlsafe_b64encode(der).decode().rstrip("="),
        }
        for name, path in forms.items():
            response = load(client.simulate_get(path).content)
            assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD, (name, path)
        if "//" in text:
            seen.add("double")
        if text.rstrip("=").endswith("/"):
            seen.add("trailing")
        if "/" in text:
            seen.add("slash")
        if {"double", "slash", "trailing"} <= seen:
            break
    assert {"slash", "double", "trailing"} <= seen


def test_renewed_signer_noticed(client, pki, clock, key_store) -> None:  # type: ignore[no-untyped-def]
    """A renewed delegated signer (new Authority row version) signs the next response."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from ca.serials import new_serial, to_hex
    from ca.x509util import fingerprint, key_hash_sha1
    from core.signing import signature_hash
    from hsm.base import KeySpec

    old = pki.cert("citizens-ocsp")
    label = "citizens-ocsp-renewed"
    key = key_store.generate(label, KeySpec("ec-p256"))
    ca_key = pki.key("citizens")
    builder = x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.issuer).public_key(key.public_key())
    builder = (
        builder.serial_number(new_serial())
        .not_valid_before(clock.now())
        .not_valid_after(clock.now() + timedelta(days=30))
    )
    for ext in old.extensions:
        if not isinstance(ext.value, x509.SubjectKeyIdentifier):
            builder = builder.add_extension(ext.value, ext.critical)
    new = builder.sign(ca_key, signature_hash(ca_key))
    Authority.update(
        key_label=label,
        certificate_der=new.public_bytes(Encoding.DER),
        serial=to_hex(new.serial_number),
        not_before=new.not_valid_before_utc,
        not_after=new.not_valid_after_utc,
        fingerprint_sha256=fingerprint(new),
        key_hash_sha1=key_hash_sha1(new.public_key()),
        updated_at=clock.now() + timedelta(seconds=1),
    ).where(Authority.name == "citizens-ocsp").execute()
    response = load(post(client, request_der(pki.issuing, 99, nonce=b"r")).content)
    assert response.certificates == [new]
    verify_signature(response, new)


def test_signer_key_missing_try_later(pki, clock, db, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A signer whose key is not in the store → tryLater, in OCSP, never a 500."""
    from tests.pki import software_store

    empty = software_store(tmp_path / "empty-keys")
    client = make_client(settings, ["ocsp"], db, clock, empty)
    result = post(client, request_der(pki.issuing, 5, nonce=b"k"))
    assert result.status_code == 200
    assert load(result.content).response_status == x509_ocsp.OCSPResponseStatus.TRY_LATER


def test_ocsp_process_needs_no_ca_keys(pki, clock, db, settings, key_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """DESIGN: an OCSP-only process holds only the {ca}-ocsp signer keys."""
    from tests.pki import software_store

    only_signers = software_store(tmp_path / "signer-keys")
    for name in ("root-ocsp", "citizens-ocsp"):
        label = pki.row(name).key_label
        (tmp_path / "signer-keys").mkdir(exist_ok=True)
        (tmp_path / "signer-keys" / f"{label}.key.pem").write_bytes(
            (tmp_path / "keys" / f"{label}.key.pem").read_bytes()
        )
    assert not only_signers.exists(pki.row("citizens").key_label)
    client = make_client(settings, ["ocsp"], db, clock, only_signers)
    cert = issue(pki, clock)
    for issuer_cert, serial in ((pki.issuing, cert.serial_number), (pki.root, pki.issuing.serial_number)):
        response = load(post(client, request_der(issuer_cert, serial, nonce=b"p")).content)
        assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD


def test_replica_reader(pki, clock, db, settings, key_store, db_url) -> None:  # type: ignore[no-untyped-def]
    """database.replica_url: the responder reads through its own connection to the replica."""
    replica_settings = replace(settings, database=replace(settings.database, replica_url=db_url))
    client = make_client(replica_settings, ["ocsp"], db, clock, key_store)
    cert = issue(pki, clock)
    set_status(cert, reason="superseded", at=clock.now())
    response = load(post(client, request_der(pki.issuing, cert.serial_number)).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED


def test_multi_request_post(client, pki, clock) -> None:  # type: ignore[no-untyped-def]
    good = issue(pki, clock)
    revoked = issue(pki, clock)
    set_status(revoked, reason="superseded", at=clock.now())
    der = multi_request_der(
        [
            (pki.issuing, good.serial_number, "sha1"),
            (pki.issuing, revoked.serial_number, "sha256"),
            (pki.issuing, 12345, "sha1"),
        ]
    )
    singles = list(load(post(client, der).content).responses)
    assert [s.certificate_status for s in singles] == [
        x509_ocsp.OCSPCertStatus.GOOD,
        x509_ocsp.OCSPCertStatus.REVOKED,
        x509_ocsp.OCSPCertStatus.UNKNOWN,
    ]


def test_cached_after_change_with_microseconds(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """The job's copy of the change stamps matches the row exactly (microseconds included), so a
    re-signed response is served from the cache again after a change."""
    cert = issue(pki, clock)
    set_status(cert, reason="superseded", at=clock.now(), changed_at=clock.now() + timedelta(microseconds=123457))
    clock.advance(seconds=1)
    run_presign(settings, clock, key_store)
    signed_at = clock.now()
    clock.advance(minutes=5)
    response = load(get(client, request_der(pki.issuing, cert.serial_number)).content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert response.produced_at_utc == signed_at


def test_cached_unknown_keeps_short_max_age(client, pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """A reservation's pre-signed 'unknown' is served from the cache, still briefly cacheable."""
    cert = issue(pki, clock, state="reserved")
    run_presign(settings, clock, key_store)
    signed_at = clock.now()
    clock.advance(minutes=1)
    result = get(client, request_der(pki.issuing, cert.serial_number))
    response = load(result.content)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN
    assert response.produced_at_utc == signed_at
    assert result.headers["cache-control"].startswith(f"max-age={settings.ocsp.unknown_max_age_seconds},")


def test_mount_touches_no_keys(db, settings) -> None:  # type: ignore[no-untyped-def]
    """DESIGN "Processes": the key store opens lazily in the worker; mounting the OCSP service
    (before gunicorn forks) must not open it — here it could not even be opened (no PIN)."""
    from config.app import create_app

    assert settings.keystore.pin is None
    create_app(settings, ["ocsp"], database=db)


def test_resources_keep_their_docstrings() -> None:
    # A class attribute placed above the docstring turns it into a dead string expression.
    from ocsp.resources import OCSPGetResource, OCSPPostResource

    assert OCSPPostResource.__doc__ is not None and "RFC 6960 Appendix A.1" in OCSPPostResource.__doc__
    assert OCSPGetResource.__doc__ is not None and "RFC 5019 §6" in OCSPGetResource.__doc__
    assert OCSPPostResource.speaks_own_protocol and OCSPGetResource.speaks_own_protocol
