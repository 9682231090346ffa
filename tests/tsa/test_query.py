"""Query parsing and acceptance rules (RFC 3161 §2.4.1, §2.4.2 failure bits) and fuzzing."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from asn1crypto import tsp
from hypothesis import given, settings
from hypothesis import strategies as st

from core import der
from tests.tsa.conftest import make_query
from tsa.errors import (
    BadAlgorithmError,
    BadDataFormatError,
    BadRequestTSAError,
    TSARejection,
    UnacceptedExtensionError,
    UnacceptedPolicyError,
)
from tsa.query import HASHES, QueryRules, _decode_asn1, _decode_simple, parse_query

RULES = QueryRules(policies=("2.999.1.2.1", "2.999.1.2.2"))


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_accepted_hashes(algorithm: str) -> None:
    query = parse_query(make_query(b"data", algorithm=algorithm), RULES)
    assert query.hash_algorithm == algorithm
    assert query.imprint == hashlib.new(algorithm, b"data").digest()
    assert query.nonce == 0x1234567890ABCDEF
    assert query.cert_req is True
    assert query.policy is None


def test_sha1_refused_by_default_and_accepted_when_configured() -> None:
    data = make_query(algorithm="sha1")
    with pytest.raises(BadAlgorithmError) as caught:
        parse_query(data, RULES)
    assert caught.value.fail_info == "bad_alg"
    assert parse_query(data, QueryRules(policies=RULES.policies, accept_sha1=True)).hash_algorithm == "sha1"


@pytest.mark.parametrize("algorithm", ["md5", "sha224", "sha3_256"])
def test_other_hashes_are_bad_alg(algorithm: str) -> None:
    # RFC 3161 §2.4.2: unrecognized or unsupported algorithm identifier → badAlg.
    with pytest.raises(BadAlgorithmError):
        parse_query(make_query(algorithm=algorithm), RULES)


@pytest.mark.parametrize("size", [0, 20, 31, 33, 64])
def test_imprint_length_must_match_the_hash(size: int) -> None:
    # RFC 3161 §2.4.1: the hash length must match the algorithm → badDataFormat.
    with pytest.raises(BadDataFormatError) as caught:
        parse_query(make_query(digest=b"\x01" * size), RULES)
    assert caught.value.fail_info == "bad_data_format"


def test_null_parameters_are_accepted_and_remembered() -> None:
    assert parse_query(make_query(), RULES).hash_params_null is True
    assert parse_query(make_query(null_params=False), RULES).hash_params_null is False


def test_policy_rules() -> None:
    assert parse_query(make_query(policy="2.999.1.2.2"), RULES).policy == "2.999.1.2.2"
    with pytest.raises(UnacceptedPolicyError) as caught:
        parse_query(make_query(policy="1.2.3.4"), RULES)
    assert caught.value.fail_info == "unaccepted_policy"


def test_unknown_critical_extension_refused_non_critical_ignored() -> None:
    # RFC 3161 §2.4.1 extensions; RFC 5280 §4.2 semantics of criticality.
    critical = [{"extn_id": "1.2.3.4.5", "critical": True, "extn_value": b"\x05\x00"}]
    with pytest.raises(UnacceptedExtensionError) as caught:
        parse_query(make_query(extensions=critical), RULES)
    assert caught.value.fail_info == "unaccepted_extensions"
    relaxed = [{"extn_id": "1.2.3.4.5", "critical": False, "extn_value": b"\x05\x00"}]
    assert parse_query(make_query(extensions=relaxed), RULES).hash_algorithm == "sha256"


def test_version_must_be_1() -> None:
    with pytest.raises(BadRequestTSAError):
        parse_query(make_query(version=2), RULES)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30", b"\x30\x00", b"garbage", b"\x30\x03\x02\x01\x01", make_query() + b"\x00", make_query()[:-1]],
    ids=["empty", "truncated-header", "empty-seq", "text", "no-imprint", "trailing", "truncated"],
)
def test_undecodable_is_bad_request(data: bytes) -> None:
    with pytest.raises(BadRequestTSAError) as caught:
        parse_query(data, RULES)
    assert caught.value.fail_info == "bad_request"


def test_nonce_sizes() -> None:
    assert parse_query(make_query(nonce=-5), RULES).nonce == -5
    assert parse_query(make_query(nonce=None), RULES).nonce is None
    with pytest.raises(BadDataFormatError):
        parse_query(make_query(nonce=1 << 600), RULES)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_only_rejections(data: bytes) -> None:
    with contextlib.suppress(TSARejection):
        parse_query(data, RULES)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fuzz_mutated_queries_only_rejections(data: st.DataObject) -> None:
    raw = bytearray(
        make_query(policy="2.999.1.2.2", extensions=[{"extn_id": "1.2.3", "critical": False, "extn_value": b"x"}])
    )
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            raw[position] ^= data.draw(st.integers(1, 255))
        elif action == "delete" and len(raw) > 1:
            del raw[position]
        else:
            raw.insert(position, data.draw(st.integers(0, 255)))
    try:
        query = parse_query(bytes(raw), RULES)
    except TSARejection:
        return
    # Whatever is accepted re-encodes to a query with the same meaning.
    assert query.hash_algorithm in ("sha256", "sha384", "sha512")
    assert tsp.TimeStampReq.load(bytes(raw))["message_imprint"]["hashed_message"].native == query.imprint


# -- the DER fast path (_decode_simple) against asn1crypto (_decode_asn1) --------------------------

_HASH_NAMES = sorted(name for name, _size in HASHES.values())


@st.composite
def _oids(draw: st.DrawFn) -> str:
    """Valid OIDs (X.690 §8.19.4 first-arc rules), big arcs included, at most ~50 octets."""
    first = draw(st.integers(0, 2))
    second = draw(st.integers(0, 39) if first < 2 else st.integers(0, 2**32))
    rest = draw(st.lists(st.integers(0, 2**63), max_size=5))
    return ".".join(str(arc) for arc in [first, second, *rest])


_POLICIES = st.one_of(
    st.none(),
    st.sampled_from(["2.999", "2.999.1.2.1", "1.2.840.113549.1.9.16.1.4", "1.3.6.1.4.1.99999.1", "0.0", "2.0"]),
    _oids(),
)


@st.composite
def _valid_queries(draw: st.DrawFn) -> bytes:
    return make_query(
        algorithm=draw(st.sampled_from(_HASH_NAMES)),
        null_params=draw(st.booleans()),
        digest=draw(st.binary(max_size=80)),
        policy=draw(_POLICIES),
        nonce=draw(st.one_of(st.none(), st.integers(-(2**600), 2**600))),
        cert_req=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(_valid_queries())
def test_simple_decoder_takes_and_agrees_on_valid_queries(data: bytes) -> None:
    """RFC 3161 §2.4.1: every DER TimeStampReq without extensions takes the fast path, with the
    same result as asn1crypto."""
    simple = _decode_simple(data)
    assert simple is not None
    assert simple == _decode_asn1(data)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_valid_queries(), st.binary(max_size=200)), st.data())
def test_simple_decoder_only_accepts_what_asn1crypto_decodes_the_same(base: bytes, data: st.DataObject) -> None:
    """Whatever the fast path accepts, asn1crypto's strict decoder accepts with the same meaning."""
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(0, 4))):
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if not raw:
            raw.append(data.draw(st.integers(0, 255)))
        position = data.draw(st.integers(0, len(raw) - 1))
        if action == "flip":
            raw[position] ^= data.draw(st.integers(1, 255))
        elif action == "delete":
            del raw[position]
        elif action == "insert":
            raw.insert(position, data.draw(st.integers(0, 255)))
        else:
            del raw[position:]
    simple = _decode_simple(bytes(raw))
    if simple is not None:
        assert simple == _decode_asn1(bytes(raw))


def _request(*fields: bytes, algorithm: str = "2.16.840.1.101.3.4.2.1") -> bytes:
    """A TimeStampReq written field by field: version 1, a SHA-256 imprint, then ``fields``."""
    imprint = der.sequence(der.sequence(der.oid(algorithm), der.NULL), der.octet_string(bytes(32)))
    return der.sequence(der.integer(1), imprint, *fields)


def test_simple_decoder_reads_the_common_shape() -> None:
    """RFC 3161 §2.4.1: policy, nonce and certReq TRUE (X.690 §11.1: FF) on the fast path."""
    data = _request(der.oid("1.3.6.1.4.1.99999.1"), der.integer(-5), der.boolean(True))
    decoded = _decode_simple(data)
    assert decoded is not None
    assert (decoded.version, decoded.policy, decoded.nonce, decoded.cert_req) == ("v1", "1.3.6.1.4.1.99999.1", -5, True)
    assert decoded == _decode_asn1(data)


@pytest.mark.parametrize(
    "nonce",
    [b"\x02\x02\x00\x05", b"\x02\x02\xff\xff", b"\x02\x00"],
    ids=["leading-00", "leading-ff", "empty"],
)
def test_non_minimal_nonce_falls_back(nonce: bytes) -> None:
    """X.690 §8.3.2: an INTEGER in more octets than needed is not DER; the fast path leaves it to
    asn1crypto, so the outcome is what it was before the fast path."""
    data = _request(nonce, der.boolean(True))
    assert _decode_simple(data) is None
    assert _outcome(data) == _outcome_asn1(data)


@pytest.mark.parametrize("value", [b"\x00", b"\x01", b"\x7f"], ids=["explicit-false", "true-01", "true-7f"])
def test_cert_req_other_than_ff_falls_back(value: bytes) -> None:
    """X.690 §11.1: DER TRUE is FF; §11.5: certReq DEFAULT FALSE must be absent, not 01 01 00."""
    data = _request(der.integer(5), der.tlv(der.BOOLEAN, value))
    assert _decode_simple(data) is None
    assert _outcome(data) == _outcome_asn1(data)


def test_trailing_bytes_after_the_request_are_rejected() -> None:
    """RFC 3161 §2.4.1, §3.4: the body is one DER TimeStampReq, so the outer SEQUENCE must span
    all of it; bytes after it are badRequest on either path."""
    data = make_query() + b"\x05\x00"
    assert _decode_simple(data) is None
    with pytest.raises(BadRequestTSAError):
        parse_query(data, RULES)


def test_extensions_go_through_the_slow_path() -> None:
    """RFC 3161 §2.4.1: extensions [0] IMPLICIT Extensions are left to asn1crypto."""
    extensions = [{"extn_id": "1.2.3.4.5", "critical": True, "extn_value": b"\x05\x00"}]
    data = make_query(extensions=extensions)
    assert _decode_simple(data) is None
    assert _decode_asn1(data).extensions == (("1.2.3.4.5", True),)
    with pytest.raises(UnacceptedExtensionError):
        parse_query(data, RULES)


@pytest.mark.parametrize(
    "data",
    [
        _request(der.integer(5), der.boolean(True), der.NULL),
        _request(der.integer(5), der.oid("2.999")),
        _request(der.integer(5), der.integer(6)),
        _request(der.boolean(True), der.integer(5)),
        _request(der.tlv(der.OBJECT_IDENTIFIER, b"\x2a\x80\x01")),
        _request(der.tlv(der.OBJECT_IDENTIFIER, b"\x2a\x81")),
        _request(der.tlv(der.OBJECT_IDENTIFIER, b"")),
        _request(algorithm="2.16.840.1.101.3.4.2.4"),
        make_query(version=2),
        make_query(version=0),
    ],
    ids=[
        "stray-element",
        "policy-after-nonce",
        "two-nonces",
        "cert-req-before-nonce",
        "oid-0x80-padding",
        "oid-truncated",
        "oid-empty",
        "other-hash",
        "version-2",
        "version-0",
    ],
)
def test_unusual_queries_fall_back(data: bytes) -> None:
    """RFC 3161 §2.4.1 field order, X.690 §8.19.2 canonical OIDs, version v1 only: anything the fast
    path does not fully recognise is decided by asn1crypto, exactly as before."""
    assert _decode_simple(data) is None
    assert _outcome(data) == _outcome_asn1(data)


def _outcome(data: bytes) -> object:
    try:
        return parse_query(data, RULES)
    except TSARejection as exc:
        return type(exc), str(exc)


def _outcome_asn1(data: bytes) -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tsa.query._decode_simple", lambda _data: None)
        return _outcome(data)
