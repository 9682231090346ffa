"""Polish identifiers: PESEL, NIP, REGON (python-stdnum), ID card and passport numbers, postal
codes and TERYT TERC codes (hand-written; stdnum has no module for them). Algorithms and test
vectors: ../shared/REFERENCE.md "Polish identifiers".

Each ``validate_*`` returns the normalised value or raises :class:`IdentifierError` whose
message says what is wrong without echoing the value (it may be personal data).
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.pl import nip, pesel, regon

from core.errors import FieldError, ValidationError


class IdentifierError(ValidationError):
    """An identifier is invalid. Callers that know the field re-raise it under the field's
    name; one that escapes is answered as invalid input for ``field`` (default ``identifier``)."""

    code = "invalid_identifier"

    def __init__(self, message: str, *, field: str = "identifier") -> None:
        super().__init__(FieldError(field, message, self.code), message=message)


_LETTER_VALUES = {chr(ord("A") + i): 10 + i for i in range(26)}
_ID_CARD = re.compile(r"^[A-Z]{3}[0-9]{6}$")
_ID_CARD_WEIGHTS = (7, 3, 1, 9, 7, 3, 1, 7, 3)
_PASSPORT = re.compile(r"^[A-Z]{2}[0-9]{7}$")
_PASSPORT_WEIGHTS = (7, 3, 9, 1, 7, 3, 1, 7, 3)
_POSTAL = re.compile(r"^\d{2}-\d{3}$")
_TERC = re.compile(r"^\d{7}$")


def _stdnum(module: object, value: str, what: str) -> str:
    try:
        return module.validate(value)  # type: ignore[attr-defined,no-any-return]
    except stdnum_errors.InvalidLength:
        raise IdentifierError(f"{what} has the wrong number of digits") from None
    except stdnum_errors.InvalidFormat:
        raise IdentifierError(f"{what} must contain digits only") from None
    except stdnum_errors.InvalidChecksum:
        raise IdentifierError(f"{what} has an invalid check digit") from None
    except stdnum_errors.InvalidComponent:
        raise IdentifierError(f"{what} does not encode a real date of birth") from None
    except stdnum_errors.ValidationError:
        raise IdentifierError(f"{what} is not valid") from None


def validate_pesel(value: str) -> str:
    """11 digits → checksum (weights 1,3,7,9,...) → real calendar date, in that order."""
    return _stdnum(pesel, value.strip(), "PESEL")


def pesel_birth_date(value: str) -> date:
    return pesel.get_birth_date(validate_pesel(value))  # type: ignore[no-any-return]


def validate_nip(value: str) -> str:
    """Accepts a ``PL`` prefix, spaces and hyphens; returns the 10 digits."""
    cleaned = value.strip().upper()
    if cleaned.startswith("PL"):
        cleaned = cleaned[2:]
    return _stdnum(nip, cleaned, "NIP")


def validate_regon(value: str) -> str:
    return _stdnum(regon, value.strip(), "REGON")


def _weighted(value: str, weights: tuple[int, ...]) -> int:
    return sum(weights[i] * (_LETTER_VALUES[c] if c.isalpha() else int(c)) for i, c in enumerate(value))


def validate_id_card(value: str) -> str:
    """Dowód osobisty: 3 letters + 6 digits; weights 7,3,1,9,7,3,1,7,3 over all nine characters,
    valid iff the sum is divisible by 10 (the first digit is the check digit)."""
    cleaned = value.replace(" ", "").upper()
    if not _ID_CARD.match(cleaned):
        raise IdentifierError("ID card number must be three letters followed by six digits")
    if _weighted(cleaned, _ID_CARD_WEIGHTS) % 10:
        raise IdentifierError("ID card number has an invalid check digit")
    return cleaned


def validate_passport(value: str) -> str:
    """Polish passport: 2 letters + 7 digits; weights 7,3,9,1,7,3,1,7,3; sum divisible by 10."""
    cleaned = value.replace(" ", "").upper()
    if not _PASSPORT.match(cleaned):
        raise IdentifierError("passport number must be two letters followed by seven digits")
    if _weighted(cleaned, _PASSPORT_WEIGHTS) % 10:
        raise IdentifierError("passport number has an invalid check digit")
    return cleaned


def validate_postal_code(value: str) -> str:
    cleaned = value.strip()
    if not _POSTAL.match(cleaned):
        raise IdentifierError("postal code must have the form NN-NNN")
    return cleaned


def validate_teryt_terc(value: str) -> str:
    """TERC ``WWPPGGR``: even voivodeship code 02–32, unit type R in {1,2,3,4,5,8,9}. Kept as text."""
    cleaned = value.strip()
    if not _TERC.match(cleaned):
        raise IdentifierError("TERYT code must have seven digits")
    voivodeship = int(cleaned[:2])
    if voivodeship % 2 or not 2 <= voivodeship <= 32:
        raise IdentifierError("TERYT voivodeship code must be even, 02 to 32")
    if cleaned[6] not in "1234589":
        raise IdentifierError("TERYT unit type must be one of 1, 2, 3, 4, 5, 8, 9")
    return cleaned


def semantics_identifier(
    *, pesel_value: str | None = None, id_card: str | None = None, passport: str | None = None
) -> str:
    """ETSI EN 319 412-1 §5.1.3 natural-person identifier for the subject serialNumber:
    ``PNOPL-<PESEL>``, else ``IDCPL-<ID card>``, else ``PASPL-<passport>``."""
    if pesel_value:
        return f"PNOPL-{validate_pesel(pesel_value)}"
    if id_card:
        return f"IDCPL-{validate_id_card(id_card)}"
    if passport:
        return f"PASPL-{validate_passport(passport)}"
    raise IdentifierError("a PESEL, ID card number or passport number is required")
