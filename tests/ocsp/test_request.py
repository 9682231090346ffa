"""The request parser (RFC 6960 §4.1, Appendix A.1; RFC 9654 §2.1)."""

from __future__ import annotations

import base64
import contextlib

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocsp.errors import MalformedRequestError
from ocsp.request import decode_get_path, parse_request
from ocsp.responder import cert_id_for
from tests.ocsp.helpers import multi_request_der, request_der


@pytest.fixture(scope="module")
def ca_cert() -> x509.Certificate:
    from datetime import UTC, datetime, timedelta

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Parser Test CA")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_cert_id_hash_algorithms(ca_cert: x509.Certificate, algorithm: str) -> None:
    """RFC 6960 §4.1.1 CertID; RFC 5019 §2.1.1 SHA-1, plus the SHA-2 family."""
    parsed = parse_request(request_der(ca_cert, 0x1234, algorithm=algorithm))
    (cid,) = parsed.cert_ids
    expected = cert_id_for(ca_cert, 0x1234, algorithm)
    assert (cid.hash_algorithm, cid.issuer_name_hash, cid.issuer_key_hash, cid.serial) == (
        algorithm,
        expected.issuer_name_hash,
        expected.issuer_key_hash,
        0x1234,
    )
    assert parsed.nonce is None


def test_several_requests(ca_cert: x509.Certificate) -> None:
    """RFC 6960 §4.1.1: requestList SEQUENCE OF Request."""
    der = multi_request_der([(ca_cert, 1, "sha1"), (ca_cert, 2, "sha256"), (ca_cert, 3, "sha1")])
    assert [c.serial for c in parse_request(der).cert_ids] == [1, 2, 3]


@pytest.mark.parametrize("size", [1, 16, 32, 33, 64, 127, 128])
def test_nonce_lengths_accepted(ca_cert: x509.Certificate, size: int) -> None:
    """RFC 9654 §2.1: Nonce ::= OCTET STRING(SIZE(1..128)) (RFC 8954's cap of 32 is gone)."""
    made_by_asn1crypto = multi_request_der([(ca_cert, 5, "sha1")], nonce=b"n" * size)
    for der in (request_der(ca_cert, 5, nonce=b"n" * size), made_by_asn1crypto):
        parsed = parse_request(der)
        assert parsed.nonce == b"n" * size
        assert parsed.nonce_extn_value == asn1_core.OctetString(b"n" * size).dump()


@pytest.mark.parametrize("size", [0, 129, 200, 1000])
def test_nonce_lengths_refused(ca_cert: x509.Certificate, size: int) -> None:
    """RFC 9654 §2.1: an empty nonce or one over 128 octets → malformedRequest."""
    with pytest.raises(MalformedRequestError):
        parse_request(multi_request_der([(ca_cert, 5, "sha1")], nonce=b"n" * size))


def _raw_nonce_request(ca_cert: x509.Certificate, extn_value: bytes) -> bytes:
    """A request whose nonce extnValue holds ``extn_value`` directly (not OCTET STRING-wrapped)."""
    der = multi_request_der(
        [(ca_cert, 5, "sha1")],
        extensions=[{"extn_id": "1.3.6.1.5.5.7.48.1.99", "critical": False, "extn_value": extn_value}],
    )
    nonce_oid = asn1_core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.2").dump()
    return der.replace(asn1_core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.99").dump(), nonce_oid)


@pytest.mark.parametrize("digest", ["sha256", "sha512"])
def test_nonce_digest_info_echoed_as_received(ca_cert: x509.Certificate, digest: str) -> None:
    """BDOC/DigiDoc practice (pyasice): the extnValue holds a DigestInfo of the signature value, not
    an OCTET STRING. Within RFC 9654 §2.1's 128-octet limit it is taken as received, to be echoed."""
    size = {"sha256": 32, "sha512": 64}[digest]
    info = asn1_algos.DigestInfo({"digest_algorithm": {"algorithm": digest}, "digest": b"\x5a" * size}).dump()
    parsed = parse_request(_raw_nonce_request(ca_cert, info))
    assert parsed.nonce == info
    assert parsed.nonce_extn_value == info


def test_nonce_unwrapped_over_128_refused(ca_cert: x509.Certificate) -> None:
    """RFC 9654 §2.1's size limit holds for unwrapped nonces too: 129 octets → malformedRequest."""
    value = asn1_core.Sequence.load(bytes([0x30, 0x81, 126]) + asn1_core.OctetString(b"x" * 124).dump()).dump()
    assert len(value) == 129
    with pytest.raises(MalformedRequestError):
        parse_request(_raw_nonce_request(ca_cert, value))


def test_nonce_not_der_octet_string(ca_cert: x509.Certificate) -> None:
    """RFC 9654 §2.1: the extnValue holds a DER value; raw non-DER bytes are refused."""
    der = multi_request_der(
        [(ca_cert, 5, "sha1")],
        extensions=[
            {"extn_id": "1.3.6.1.5.5.7.48.1.99", "critical": False, "extn_value": b"x"},
        ],
    )
    # Rewrite the unknown OID into the nonce OID, keeping the raw (non-DER) value "x".
    nonce_oid = asn1_core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.2").dump()
    raw = der.replace(asn1_core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.99").dump(), nonce_oid)
    with pytest.raises(MalformedRequestError):
        parse_request(raw)


def test_unknown_critical_extension_refused(ca_cert: x509.Certificate) -> None:
    """RFC 5280 §4.2 as used by RFC 6960 §4.4: an unrecognised critical extension is not ignored."""
    der = multi_request_der(
        [(ca_cert, 5, "sha1")],
        extensions=[
            {"extn_id": "1.2.3.4.5", "critical": True, "extn_value": asn1_core.Null().dump()},
        ],
    )
    with pytest.raises(MalformedRequestError):
        parse_request(der)


def test_unknown_critical_single_extension_refused(ca_cert: x509.Certificate) -> None:
    der = multi_request_der(
        [(ca_cert, 5, "sha1")],
        single_extensions=[
            {"extn_id": "1.2.3.4.5", "critical": True, "extn_value": asn1_core.Null().dump()},
        ],
    )
    with pytest.raises(MalformedRequestError):
        parse_request(der)


def test_unknown_non_critical_extension_ignored(ca_cert: x509.Certificate) -> None:
    der = multi_request_der(
        [(ca_cert, 5, "sha1")],
        extensions=[
            {"extn_id": "1.2.3.4.5", "critical": False, "extn_value": asn1_core.Null().dump()},
        ],
        single_extensions=[{"extn_id": "1.2.3.4.6", "critical": False, "extn_value": asn1_core.Null().dump()}],
    )
    assert parse_request(der).cert_ids[0].serial == 5


def test_duplicate_extension_refused(ca_cert: x509.Certificate) -> None:
    ext = {"extn_id": "1.2.3.4.5", "critical": False, "extn_value": asn1_core.Null().dump()}
    with pytest.raises(MalformedRequestError):
        parse_request(multi_request_der([(ca_cert, 5, "sha1")], extensions=[ext, dict(ext)]))


def test_acceptable_responses_without_basic_refused(ca_cert: x509.Certificate) -> None:
    """RFC 6960 §4.4.3: we only produce id-pkix-ocsp-basic."""
    ok = {"extn_id": "acceptable_responses", "critical": True, "extn_value": ["basic_ocsp_response"]}
    assert parse_request(multi_request_der([(ca_cert, 5, "sha1")], extensions=[ok])).cert_ids
    bad = {"extn_id": "acceptable_responses", "critical": True, "extn_value": ["1.2.3.4"]}
    with pytest.raises(MalformedRequestError):
        parse_request(multi_request_der([(ca_cert, 5, "sha1")], extensions=[bad]))


def test_unsupported_hash_algorithm(ca_cert: x509.Certificate) -> None:
    cid = asn1_ocsp.CertId.load(cert_id_for(ca_cert, 5, "sha1").der)
    cid["hash_algorithm"] = {"algorithm": "md5"}
    der = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cid}]}}).dump()
    with pytest.raises(MalformedRequestError):
        parse_request(der)


def test_hash_length_must_match_algorithm(ca_cert: x509.Certificate) -> None:
    cid = asn1_ocsp.CertId.load(cert_id_for(ca_cert, 5, "sha256").der)
    cid["issuer_key_hash"] = b"\x00" * 20
    der = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cid}]}}).dump()
    with pytest.raises(MalformedRequestError):
        parse_request(der)


def test_empty_request_list_refused() -> None:
    with pytest.raises(MalformedRequestError):
        parse_request(asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": []}}).dump())


def test_too_many_requests(ca_cert: x509.Certificate) -> None:
    der = multi_request_der([(ca_cert, i, "sha1") for i in range(1, 5)])
    with pytest.raises(MalformedRequestError):
        parse_request(der, max_requests=3)


def test_oversize_request() -> None:
    with pytest.raises(MalformedRequestError) as info:
        parse_request(b"\x30" * 70000, max_bytes=65536)
    assert info.value.http_status == 413


@pytest.mark.parametrize("data", [b"", b"\x00", b"garbage", b"\x30\x03\x02\x01\x01", b"\x30\x80\x00\x00"])
def test_garbage(data: bytes) -> None:
    with pytest.raises(MalformedRequestError):
        parse_request(data)


def test_trailing_bytes_refused(ca_cert: x509.Certificate) -> None:
    with pytest.raises(MalformedRequestError):
        parse_request(request_der(ca_cert, 5) + b"\x00")


@given(st.binary(max_size=600))
@settings(max_examples=400, deadline=None)
def test_fuzz_random_bytes_only_malformed(data: bytes) -> None:
    """Hypothesis: arbitrary bytes either parse or raise MalformedRequestError — nothing else."""
    with contextlib.suppress(MalformedRequestError):
        parse_request(data)


@given(data=st.data())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzz_mutated_requests_only_malformed(ca_cert: x509.Certificate, data: st.DataObject) -> None:
    """Hypothesis: flip, drop and insert bytes of valid requests (with nonces and extensions)."""
    base = bytearray(
        multi_request_der(
            [(ca_cert, 7, "sha1"), (ca_cert, 8, "sha256")],
            nonce=b"abc",
            extensions=[{"extn_id": "1.2.3.4.5", "critical": False, "extn_value": asn1_core.Null().dump()}],
        )
    )
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        pos = data.draw(st.integers(0, len(base) - 1)) if base else 0
        if op == "flip" and base:
            base[pos] ^= data.draw(st.integers(1, 255))
        elif op == "drop" and base:
            del base[pos]
        elif op == "insert":
            base.insert(pos, data.draw(st.integers(0, 255)))
        elif op == "truncate":
            del base[pos:]
    try:
        parsed = parse_request(bytes(base))
    except MalformedRequestError:
        return
    assert parsed.cert_ids


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_fuzz_get_path_only_malformed(text: str) -> None:
    with contextlib.suppress(MalformedRequestError):
        parse_request(decode_get_path(text))


@pytest.mark.parametrize("variant", ["standard", "unpadded", "urlsafe", "urlsafe-unpadded"])
def test_get_path_base64_variants(ca_cert: x509.Certificate, variant: str) -> None:
    """RFC 6960 Appendix A.1 base64; padding optional and the URL-safe alphabet accepted."""
    # Find a serial whose request encodes with '+' or '/' and padding, so the variants differ.
    for serial in range(1, 500):
        der = request_der(ca_cert, serial)
        text = base64.b64encode(der).decode()
        if ("/" in text or "+" in text) and text.endswith("="):
            break
    encoded = {
        "standard": text,
        "unpadded": text.rstrip("="),
        "urlsafe": base64.urlsafe_b64encode(der).decode(),
        "urlsafe-unpadded": base64.urlsafe_b64encode(der).decode().rstrip("="),
    }[variant]
    assert decode_get_path(encoded) == der


@pytest.mark.parametrize("text", ["", "!!!!", "abc$", "a"])
def test_get_path_not_base64(text: str) -> None:
    with pytest.raises(MalformedRequestError):
        decode_get_path(text)


def _full(data: bytes):  # type: ignore[no-untyped-def]
    from ocsp.request import _parse

    return _parse(data, 20)


def test_simple_path_taken_for_rfc5019_shape(ca_cert: x509.Certificate) -> None:
    from ocsp.request import _parse_simple

    for der in (request_der(ca_cert, 77), request_der(ca_cert, 77, algorithm="sha512", nonce=b"z" * 128)):
        assert _parse_simple(der) == _full(der)
    assert _parse_simple(multi_request_der([(ca_cert, 1, "sha1"), (ca_cert, 2, "sha1")])) is None


@given(data=st.data())
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_simple_and_full_parsers_agree(ca_cert: x509.Certificate, data: st.DataObject) -> None:
    """Differential: whatever the fast DER walk accepts, the full asn1crypto parser parses to the
    same result (CertID bytes, hashes, serial, nonce)."""
    from ocsp.request import _parse_simple

    serial = data.draw(st.integers(-(2**170), 2**170))
    algorithm = data.draw(st.sampled_from(["sha1", "sha256", "sha384", "sha512"]))
    nonce = data.draw(st.none() | st.binary(min_size=0, max_size=140))
    base = bytearray(multi_request_der([(ca_cert, serial, algorithm)], nonce=nonce))
    for _ in range(data.draw(st.integers(0, 3))):
        pos = data.draw(st.integers(0, len(base) - 1))
        base[pos] ^= data.draw(st.integers(1, 255))
    raw = bytes(base)
    quick = _parse_simple(raw)
    if quick is None:
        return
    assert quick == _full(raw)
