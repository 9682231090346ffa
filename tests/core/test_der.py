"""core.der agrees with asn1crypto's strict encoder (X.690 §8.3 INTEGER, §8.19 OID, §10.1 lengths,
§11.6 SET OF order) for every value hypothesis can think of."""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import core
from hypothesis import given
from hypothesis import strategies as st

from core import der


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_integer(value: int) -> None:
    assert der.integer(value) == core.Integer(value).dump()


@given(st.lists(st.integers(0, 2**64), min_size=1, max_size=8), st.integers(0, 2), st.integers(0, 39))
def test_oid(arcs: list[int], first: int, second: int) -> None:
    dotted = ".".join(str(a) for a in [first, second, *arcs])
    assert der.oid(dotted) == core.ObjectIdentifier(dotted).dump()


@given(st.binary(max_size=70000))
def test_octet_string_lengths(value: bytes) -> None:
    assert der.octet_string(value) == core.OctetString(value).dump()


def test_set_of_sorts_with_zero_padding() -> None:
    # X.690 §11.6: a shorter encoding compares as if padded with trailing zero octets.
    assert der.set_of(b"\x04\x01\x01", b"\x04\x00", b"\x02\x01\x05") == b"\x31\x08\x02\x01\x05\x04\x00\x04\x01\x01"


@given(st.integers(min_value=-(2**64), max_value=2**64))
def test_enumerated(value: int) -> None:
    # ENUMERATED is encoded like INTEGER with tag 10 (X.690 §8.4).
    assert der.enumerated(value) == b"\x0a" + core.Integer(value).dump()[1:]


@given(st.integers(min_value=0, max_value=2**160))
def test_integer_from_hex(value: int) -> None:
    text = f"{value:X}"
    text = text if len(text) % 2 == 0 else "0" + text
    assert der.integer_from_hex(text) == core.Integer(value).dump()


@given(st.binary(max_size=300))
def test_bit_string_and_boolean(value: bytes) -> None:
    assert der.bit_string(value) == core.OctetBitString(value).dump()
    assert der.boolean(True) == core.Boolean(True).dump()
    assert der.boolean(False) == core.Boolean(False).dump()


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(9999, 12, 31)))
def test_generalized_time(value: datetime) -> None:
    value = value.replace(microsecond=0, tzinfo=UTC)
    assert der.generalized_time(value) == core.GeneralizedTime(value).dump(force=True)


@given(st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=6))
def test_set_of_matches_asn1crypto_order(items: list[bytes]) -> None:
    encoded = [core.OctetString(i).dump() for i in items]
    expected = core.SetOf(spec=core.OctetString)
    for i in items:
        expected.append(core.OctetString(i))
    assert der.set_of(*encoded) == expected.dump(force=True)


def test_explicit_and_implicit_tags() -> None:
    assert der.explicit(0, der.integer(5)) == b"\xa0\x03\x02\x01\x05"
    assert der.implicit_primitive(1, b"\x07") == b"\x81\x01\x07"
