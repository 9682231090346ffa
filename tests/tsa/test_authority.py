"""The pure core: TSTInfo (RFC 3161 §2.4.2) and the SignedData around it (RFC 5652, RFC 5816)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pki import TestPKI
from tests.tsa.conftest import make_query, parse_reply
from tests.tsa.tokens import certificates_in, check_token
from tsa.authority import TokenProfile, TSASigner, encode_accuracy, format_gen_time, granted, issue_token, rejected
from tsa.query import QueryRules, parse_query
from tsa.serials import new_serial, to_hex

RULES = QueryRules(policies=("2.999.1.2.1", "2.999.1.2.2"))
AT = datetime(2026, 1, 15, 9, 0, 0, 123000, tzinfo=UTC)


def _signer(pki: TestPKI) -> TSASigner:
    return TSASigner(pki.cert("tsa"), pki.key("tsa"), pki.row("tsa").key_label)


def _issue(
    signer: TSASigner, raw_query: bytes, profile: TokenProfile | None = None, policy: str = "2.999.1.2.1"
) -> bytes:
    return issue_token(
        parse_query(raw_query, RULES),
        signer=signer,
        policy=policy,
        serial=new_serial(),
        gen_time=AT,
        profile=profile or TokenProfile(),
    )


def test_token_from_the_ceremony_tsa(pki: TestPKI) -> None:
    signer = _signer(pki)
    token = _issue(signer, make_query(b"document", algorithm="sha384", nonce=42))
    info = check_token(token, pki.cert("tsa")).native
    assert info["version"] == "v1"
    assert info["policy"] == "2.999.1.2.1"
    assert info["message_imprint"]["hash_algorithm"]["algorithm"] == "sha384"
    assert info["message_imprint"]["hashed_message"] == hashlib.sha384(b"document").digest()
    assert info["nonce"] == 42  # RFC 3161 §2.4.2: the nonce is echoed
    assert info["ordering"] is False
    assert info["accuracy"] == {"seconds": 1, "millis": None, "micros": None}
    assert info["gen_time"] == AT.replace(microsecond=0)
    assert 2**158 <= info["serial_number"] < 2**159
    tsa_name = tsp.TSTInfo.load(cms_content(token))["tsa"]
    assert tsa_name.name == "directory_name"
    assert tsa_name.chosen.untag().dump() == pki.cert("tsa").subject.public_bytes()


def cms_content(token: bytes) -> bytes:
    from asn1crypto import cms

    return bytes(cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].contents)


def test_certificate_only_when_cert_req(pki: TestPKI) -> None:
    # RFC 3161 §2.4.1 certReq.
    signer = _signer(pki)
    with_cert = _issue(signer, make_query(cert_req=True))
    without = _issue(signer, make_query(cert_req=False))
    assert certificates_in(with_cert) == [pki.cert("tsa").public_bytes(Encoding.DER)]
    assert certificates_in(without) == []
    check_token(without, pki.cert("tsa"))


def test_requested_policy_is_used(pki: TestPKI) -> None:
    token = _issue(_signer(pki), make_query(policy="2.999.1.2.2"), policy="2.999.1.2.2")
    assert check_token(token, pki.cert("tsa"))["policy"].dotted == "2.999.1.2.2"


def test_no_nonce_no_tsa_name(pki: TestPKI) -> None:
    token = _issue(_signer(pki), make_query(nonce=None), TokenProfile(include_tsa_name=False))
    info = check_token(token, pki.cert("tsa")).native
    assert info["nonce"] is None
    assert info["tsa"] is None


def test_imprint_copied_with_or_without_null_parameters(pki: TestPKI) -> None:
    # RFC 3161 §2.4.2: messageImprint MUST have the same value as in the request.
    from asn1crypto import tsp as asn1_tsp

    for null in (True, False):
        raw = make_query(null_params=null)
        token = _issue(_signer(pki), raw)
        request_imprint = asn1_tsp.TimeStampReq.load(raw)["message_imprint"].dump()
        assert check_token(token, pki.cert("tsa"))["message_imprint"].dump() == request_imprint


@pytest.mark.parametrize(
    ("micro", "precision", "text"),
    [
        (0, 0, "20260115090000Z"),
        (123456, 0, "20260115090000Z"),
        (123456, 3, "20260115090000.123Z"),
        (120000, 3, "20260115090000.12Z"),
        (100000, 6, "20260115090000.1Z"),
        (999, 3, "20260115090000Z"),
        (123456, 6, "20260115090000.123456Z"),
    ],
)
def test_gen_time_has_no_trailing_zeros(micro: int, precision: int, text: str) -> None:
    # RFC 3161 §2.4.2: "The fraction-of-second ... MUST NOT include trailing zeros"; no bare dot.
    assert format_gen_time(AT.replace(microsecond=micro), precision) == text


def test_gen_time_refuses_non_utc() -> None:
    from datetime import timezone

    with pytest.raises(ValueError):
        format_gen_time(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))), 0)


def test_gen_time_precision_in_token(pki: TestPKI) -> None:
    token = _issue(_signer(pki), make_query(), TokenProfile(gen_time_precision=3))
    assert check_token(token, pki.cert("tsa")).native["gen_time"] == AT


@pytest.mark.parametrize(
    ("ms", "native"),
    [
        (1000, {"seconds": 1, "millis": None, "micros": None}),
        (1500, {"seconds": 1, "millis": 500, "micros": None}),
        (250, {"seconds": None, "millis": 250, "micros": None}),
    ],
)
def test_accuracy(ms: int, native: dict[str, int | None]) -> None:
    encoded = encode_accuracy(ms)
    parsed = tsp.Accuracy.load(encoded)
    assert parsed.native == native
    assert parsed.dump(force=True) == encoded


def _self_signed(key: CertificateIssuerPrivateKeyTypes) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Throwaway TSA")])
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(AT - timedelta(days=1))
        .not_valid_after(AT + timedelta(days=1))
        .sign(key, algorithm)  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ed25519.Ed25519PrivateKey.generate,
    ],
    ids=["ec-p384", "rsa-2048", "ed25519"],
)
def test_other_key_types(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    cert = _self_signed(key)
    token = _issue(TSASigner(cert, key, "throwaway"), make_query())
    check_token(token, cert)


def test_granted_and_rejected_responses(pki: TestPKI) -> None:
    token = _issue(_signer(pki), make_query())
    reply = parse_reply(granted(token))
    assert reply.status == "granted"
    assert reply.token is not None and reply.token.dump() == token
    refusal = parse_reply(rejected("bad_alg", "no"))
    assert (refusal.status, refusal.fail_info, refusal.text, refusal.token) == ("rejection", {"bad_alg"}, ["no"], None)


def test_serials_are_159_bit_positive_and_distinct() -> None:
    serials = {new_serial() for _ in range(2000)}
    assert len(serials) == 2000
    assert all(2**158 <= s < 2**159 for s in serials)


def test_serials_carry_128_random_bits_below_the_issue_time() -> None:
    """Issue #5: at least 128 random bits; the bits above them order serials by issue time, so
    later tokens sort after earlier ones (hex and integer alike) and the index grows at its end."""
    at = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    same_second = [new_serial(at) for _ in range(2000)]
    assert {s >> 128 for s in same_second} == {(1 << 30) | int(at.timestamp() - 1577836800)}
    low = [s & ((1 << 128) - 1) for s in same_second]
    for bit in (0, 63, 127):  # random bits are set about half the time
        assert 850 < sum(v >> bit & 1 for v in low) < 1150
    later = new_serial(at + timedelta(seconds=1))
    assert all(later > s and to_hex(later) > to_hex(s) for s in same_second)
    assert {len(to_hex(s)) for s in same_second} == {40}


_PROPERTY_KEY = ec.generate_private_key(ec.SECP256R1())
_PROPERTY_CERT = _self_signed(_PROPERTY_KEY)
_PROPERTY_SIGNER = TSASigner(_PROPERTY_CERT, _PROPERTY_KEY, "property")


@settings(max_examples=40, deadline=None)
@given(
    algorithm=st.sampled_from(["sha256", "sha384", "sha512"]),
    data=st.binary(max_size=64),
    nonce=st.none() | st.integers(min_value=-(2**256), max_value=2**256),
    cert_req=st.booleans(),
    null_params=st.booleans(),
    precision=st.integers(0, 6),
    micro=st.integers(0, 999_999),
    accuracy_ms=st.integers(1, 3_600_000),
    include_tsa_name=st.booleans(),
)
def test_every_accepted_query_gives_a_strict_der_token(
    algorithm: str,
    data: bytes,
    nonce: int | None,
    cert_req: bool,
    null_params: bool,
    precision: int,
    micro: int,
    accuracy_ms: int,
    include_tsa_name: bool,
) -> None:
    # RFC 3161 §2.4.2 field by field, through an independent decoder (asn1crypto, strict DER).
    query = parse_query(
        make_query(data, algorithm=algorithm, nonce=nonce, cert_req=cert_req, null_params=null_params), RULES
    )
    at = AT.replace(microsecond=micro)
    profile = TokenProfile(accuracy_ms=accuracy_ms, gen_time_precision=precision, include_tsa_name=include_tsa_name)
    serial = new_serial()
    token = issue_token(
        query, signer=_PROPERTY_SIGNER, policy="2.999.1.2.1", serial=serial, gen_time=at, profile=profile
    )
    info = check_token(token, _PROPERTY_CERT).native
    assert info["serial_number"] == serial
    assert info["nonce"] == nonce
    assert info["message_imprint"]["hashed_message"] == hashlib.new(algorithm, data).digest()
    step = 10 ** (6 - precision)
    assert info["gen_time"] == at.replace(microsecond=micro - micro % step)
    seconds, millis = divmod(accuracy_ms, 1000)
    assert info["accuracy"] == {"seconds": seconds or None, "millis": millis or None, "micros": None}
    assert (info["tsa"] is not None) == include_tsa_name
    assert bool(certificates_in(token)) == cert_req
