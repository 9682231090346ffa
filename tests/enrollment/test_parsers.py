"""Hypothesis over the small parsers of self-service and renewal requests: any input either parses
or is refused with a ValidationError naming a field (never another exception)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from enrollment.lifecycle import CitizenIdentity
from enrollment.requests import serial_of as _serial
from enrollment.secrets_util import new_revocation_code, normalise_code
from enrollment.validation import parse_csr

_any = st.none() | st.booleans() | st.integers() | st.text(max_size=60) | st.lists(st.integers(), max_size=3)


@given(_any)
def test_serial_parser(value: Any) -> None:
    try:
        parsed = _serial(value)
    except ValidationError as exc:
        assert exc.errors[0].field == "serial"
    else:
        assert len(parsed) % 2 == 0 and all(c in "0123456789ABCDEF" for c in parsed)


@given(st.one_of(st.none(), st.text(max_size=20)), st.one_of(st.none(), st.text(max_size=20)))
def test_citizen_identity_headers(pesel: str | None, document: str | None) -> None:
    try:
        identity = CitizenIdentity.from_headers(pesel, document)
    except ValidationError as exc:
        # The header at fault: no name at all (or a bad PESEL), or a document number of no known form.
        assert exc.errors[0].field in ("X-Citizen-Pesel", "X-Citizen-Document")
    else:
        assert identity.pesel or identity.document_number


@settings(deadline=None)
@given(_any | st.binary(max_size=200).map(lambda b: "-----BEGIN CERTIFICATE REQUEST-----\n" + b.hex() + "\n-----END"))
def test_csr_parser(value: Any) -> None:
    errors: list[Any] = []
    assert parse_csr(value, errors) is None
    assert errors and all(e.field == "csr" for e in errors)


@given(st.text(alphabet=" -", max_size=3))
def test_codes_survive_human_typing(noise: str) -> None:
    code = new_revocation_code()
    typed = noise + code.lower().replace("-", " ") + noise
    assert normalise_code(typed) == normalise_code(code)
