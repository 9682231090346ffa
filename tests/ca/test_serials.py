"""Serial numbers (RFC 5280 §4.1.2.2, CA/B BR §7.1): positive, below 2^159, from the CSPRNG."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ca.serials import SERIAL_BITS, from_hex, new_serial, to_hex


def test_each_of_the_159_bits_is_set_half_of_the_time() -> None:
    n = 100_000
    data = b"".join(new_serial().to_bytes(20, "big") for _ in range(n))
    for position in range(20):
        column = data[position::20]
        for bit in range(8):
            index = (19 - position) * 8 + bit  # bit number in the integer
            table = bytes(1 if byte & (1 << bit) else 0 for byte in range(256))
            ones = column.translate(table).count(1)
            if index >= SERIAL_BITS:
                assert ones == 0, "serials stay below 2^159 (at most 20 octets, positive)"
            else:
                assert 0.49 <= ones / n <= 0.51, f"bit {index}: {ones / n:.4f}"


def test_serials_are_positive_and_fit_20_octets() -> None:
    for _ in range(1000):
        s = new_serial()
        assert 2**64 <= s < 2**159
        assert len(to_hex(s)) <= 40


@given(st.integers(min_value=1, max_value=2**159 - 1))
def test_hex_round_trip(value: int) -> None:
    text = to_hex(value)
    assert len(text) % 2 == 0 and text == text.upper()
    assert from_hex(text) == value
    assert from_hex(text.lower()) == value
    assert from_hex(":".join(text[i : i + 2] for i in range(0, len(text), 2))) == value


@pytest.mark.parametrize("bad", ["", "0", "00", "xyz", "1" * 41, "-1"])
def test_bad_hex(bad: str) -> None:
    with pytest.raises(ValueError):
        from_hex(bad)
