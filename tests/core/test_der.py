"""core.der agrees with asn1crypto's strict encoder (X.690 §8.3 INTEGER, §8.19 OID, §10.1 lengths,
§11.6 SET OF order) for every value hypothesis can think of; read_tlv reads back what it writes
and nothing that is not DER."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
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


@given(st.integers(0, 0x1E) | st.integers(0x20, 0x3E), st.binary(max_size=1000), st.binary(max_size=4))
def test_read_tlv_reads_what_tlv_writes(tag: int, content: bytes, after: bytes) -> None:
    encoded = der.tlv(tag, content)
    data = b"\x00" + encoded + after
    assert der.read_tlv(data, 1, len(data)) == (tag, len(encoded) - len(content) + 1, len(encoded) + 1)


@pytest.mark.parametrize("size", [0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000])
def test_read_tlv_length_forms(size: int) -> None:
    """X.690 §8.1.3: short form below 0x80, long form above, as core.der.length writes them."""
    encoded = der.octet_string(bytes(size))
    assert der.read_tlv(encoded, 0, len(encoded)) == (der.OCTET_STRING, len(encoded) - size, len(encoded))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x04",
        b"\x04\x02\x00",  # content runs past the end
        b"\x30\x80\x00\x00",  # indefinite length (X.690 §10.1: DER is definite)
        b"\x04\x81\x05" + bytes(5),  # long form for a short length (§10.1: fewest octets)
        b"\x04\x82\x00\x80" + bytes(0x80),  # leading zero length octet
        b"\x04\x84\x01\x00\x00\x00",  # more length octets than the reader takes (16 MiB)
        b"\x1f\x81\x00\x00",  # high tag number form (§8.1.2.4)
    ],
    ids=["empty", "no-length", "overrun", "indefinite", "long-short", "leading-zero", "four-octets", "high-tag"],
)
def test_read_tlv_refuses_what_is_not_minimal_der(data: bytes) -> None:
    assert der.read_tlv(data, 0, len(data)) is None


def test_read_tlv_stays_before_end() -> None:
    # The element must fit before ``end``, not merely before the end of the buffer.
    data = der.octet_string(b"abc") + b"more"
    assert der.read_tlv(data, 0, 4) is None
    assert der.read_tlv(data, 0, 5) == (der.OCTET_STRING, 2, 5)
