"""Vectors from ../shared/REFERENCE.md "Polish identifiers"."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import identifiers as ids
from core.identifiers import IdentifierError

VALID_PESEL = ["44051401359", "02211307589", "02070803628", "83071503434", "99923112316", "04422900119", "00610100006"]
BAD_PESEL = {
    "44051401358": "check digit",
    "92060512181": "check digit",
    "02381307589": "date of birth",
    "01222912346": "date of birth",
    "00000000000": "date of birth",
    "4405140135": "number of digits",
    "4405140135X": "digits only",
}


@pytest.mark.parametrize("value", VALID_PESEL)
def test_valid_pesel(value: str) -> None:
    assert ids.validate_pesel(value) == value


@pytest.mark.parametrize(("value", "reason"), BAD_PESEL.items(), ids=list(BAD_PESEL))
def test_invalid_pesel_names_the_reason_without_echoing(value: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        ids.validate_pesel(value)
    assert reason in info.value.message
    assert value not in info.value.message


def test_pesel_birth_dates_cover_all_centuries() -> None:
    assert str(ids.pesel_birth_date("99923112316")) == "1899-12-31"
    assert str(ids.pesel_birth_date("02211307589")) == "2002-01-13"
    assert str(ids.pesel_birth_date("04422900119")) == "2104-02-29"
    assert str(ids.pesel_birth_date("00610100006")) == "2200-01-01"


@pytest.mark.parametrize("value", ["8567346215", "5260300517", "PL8567346215", "856-734-62-15", "PL 856 734 62 15"])
def test_valid_nip(value: str) -> None:
    assert len(ids.validate_nip(value)) == 10


@pytest.mark.parametrize("value", ["8567346216", "1234567890"])
def test_invalid_nip(value: str) -> None:
    with pytest.raises(IdentifierError):
        ids.validate_nip(value)


@pytest.mark.parametrize(
    ("value", "ok"), [("192598184", True), ("12345678512347", True), ("192598183", False), ("12345678612342", False)]
)
def test_regon(value: str, ok: bool) -> None:
    if ok:
        assert ids.validate_regon(value) == value
    else:
        with pytest.raises(IdentifierError):
            ids.validate_regon(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("ABA300000", True), ("ABS123456", True), ("abs 123456", True), ("ABS523456", False), ("AB1234567", False)],
)
def test_id_card(value: str, ok: bool) -> None:
    if ok:
        assert ids.validate_id_card(value) == value.replace(" ", "").upper()
    else:
        with pytest.raises(IdentifierError):
            ids.validate_id_card(value)


@pytest.mark.parametrize(("value", "ok"), [("CC7999486", True), ("CC7999480", False), ("C17999486", False)])
def test_passport(value: str, ok: bool) -> None:
    if ok:
        assert ids.validate_passport(value) == value
    else:
        with pytest.raises(IdentifierError):
            ids.validate_passport(value)


@pytest.mark.parametrize(("value", "ok"), [("40-001", True), ("40001", False), ("4-0001", False)])
def test_postal_code(value: str, ok: bool) -> None:
    if ok:
        assert ids.validate_postal_code(value) == value
    else:
        with pytest.raises(IdentifierError):
            ids.validate_postal_code(value)


@pytest.mark.parametrize(
    ("value", "ok"), [("3201011", True), ("2469011", True), ("3201016", False), ("3301011", False), ("320101", False)]
)
def test_teryt(value: str, ok: bool) -> None:
    if ok:
        assert ids.validate_teryt_terc(value) == value
    else:
        with pytest.raises(IdentifierError):
            ids.validate_teryt_terc(value)


def test_semantics_identifier_prefers_pesel() -> None:
    # ETSI EN 319 412-1 §5.1.3
    assert ids.semantics_identifier(pesel_value="44051401359", id_card="ABS123456") == "PNOPL-44051401359"
    assert ids.semantics_identifier(id_card="ABS123456") == "IDCPL-ABS123456"
    assert ids.semantics_identifier(passport="CC7999486") == "PASPL-CC7999486"
    with pytest.raises(IdentifierError):
        ids.semantics_identifier()


@given(st.text(max_size=30))
def test_validators_never_crash_on_arbitrary_text(value: str) -> None:
    for validator in (
        ids.validate_pesel,
        ids.validate_nip,
        ids.validate_regon,
        ids.validate_id_card,
        ids.validate_passport,
        ids.validate_postal_code,
        ids.validate_teryt_terc,
    ):
        with contextlib.suppress(IdentifierError):
            validator(value)
