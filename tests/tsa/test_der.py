"""The hand DER writer agrees with asn1crypto (X.690 §8.3 INTEGER, §8.19 OID, §10.1 lengths)."""

from __future__ import annotations

from asn1crypto import core
from hypothesis import given
from hypothesis import strategies as st

from tsa import der


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
