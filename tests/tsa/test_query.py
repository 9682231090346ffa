"""Query parsing and acceptance rules (RFC 3161 §2.4.1, §2.4.2 failure bits) and fuzzing."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from asn1crypto import tsp
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tsa.conftest import make_query
from tsa.errors import (
    BadAlgorithmError,
    BadDataFormatError,
    BadRequestTSAError,
    TSARejection,
    UnacceptedExtensionError,
    UnacceptedPolicyError,
)
from tsa.query import QueryRules, parse_query

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
