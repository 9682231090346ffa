"""Adulthood on the day of the identity check: certificates only for citizens aged 18 or over.

The portal's registration requires the declaration "jestem pełnoletni (ukończyłem 18 lat)"; the
desk checks it: the birth date comes from the PESEL (REFERENCE.md: the month carries the century)
or, for citizens without one, from the date of birth on the document the officer holds.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.errors import FieldError
from core.identifiers import pesel_birth_date

ADULT_AGE = 18
WARSAW = ZoneInfo("Europe/Warsaw")


def anniversary(birth: date, years: int) -> date:
    """The day ``years`` after ``birth``; someone born on 29 February reaches an age on 28 February
    of a common year (art. 112 of the Polish Civil Code: the last day of the month)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 2, 28)


def is_adult(birth: date, on: date) -> bool:
    return anniversary(birth, ADULT_AGE) <= on


def check_adulthood(pesel: str | None, stated: date | None, now: datetime, errors: list[FieldError]) -> None:
    """Add an error unless the citizen is 18 or over on ``now``'s day in Poland.

    With a PESEL its birth date decides (a ``stated`` date of birth must agree); without one the
    officer enters the date of birth from the document."""
    today = now.astimezone(WARSAW).date()
    if pesel is not None:
        birth = pesel_birth_date(pesel)
        if stated is not None and stated != birth:
            errors.append(FieldError("birth_date", "differs from the date of birth in the PESEL", "mismatch"))
            return
    elif stated is None:
        if not any(e.field == "birth_date" for e in errors):  # not when it was given but unreadable
            errors.append(FieldError("birth_date", "the date of birth from the document is required", "required"))
        return
    else:
        birth = stated
    if birth > today:
        errors.append(FieldError("birth_date", "the date of birth is in the future"))
    elif not is_adult(birth, today):
        field = "pesel" if pesel is not None and stated is None else "birth_date"
        errors.append(FieldError(field, "the citizen must be 18 or older on the day of the identity check", "underage"))
