"""Polish texts of the officer console: application states and the services' field errors."""

from __future__ import annotations

STATES = {
    "submitted": "czeka na sprawdzenie tożsamości",
    "verified": "tożsamość sprawdzona",
    "approved": "zatwierdzony przez drugiego pracownika",
    "issuing": "certyfikat w trakcie wydawania",
    "issued": "certyfikat wydany",
    "expired": "wygasł",
}

DOCUMENT_TYPES = {"id_card": "dowód osobisty", "passport": "paszport"}

REVOCATION_REASONS = {
    "unspecified": "bez podania przyczyny",
    "keyCompromise": "klucz mógł trafić w niepowołane ręce",
    "affiliationChanged": "zmiana danych",
    "superseded": "zastąpiony nowym certyfikatem",
    "cessationOfOperation": "certyfikat nie jest już potrzebny",
    "privilegeWithdrawn": "cofnięcie uprawnień",
}

# (field, code) of core.errors.FieldError -> what the officer reads; (field, None) is the fallback.
FIELD_ERRORS: dict[tuple[str, str | None], str] = {
    ("document_type", None): "Wybierz rodzaj dokumentu.",
    ("document_number", "mismatch"): "Numer różni się od dokumentu podanego we wniosku.",
    ("document_number", None): "Numer dokumentu jest nieprawidłowy (sprawdź cyfrę kontrolną).",
    ("document_expiry", "expired"): "Dokument stracił ważność.",
    ("document_expiry", None): "Podaj datę ważności dokumentu.",
    ("data_match", None): "Potwierdź, że dane w dokumencie zgadzają się z wnioskiem.",
    ("agreement_version", None): "Obywatel musi zaakceptować aktualną umowę.",
    ("birth_date", "required"): "Podaj datę urodzenia z dokumentu (wniosek nie zawiera numeru PESEL).",
    ("birth_date", "underage"): "Certyfikat może otrzymać tylko osoba pełnoletnia (18 lat w dniu wizyty).",
    ("birth_date", "mismatch"): "Data urodzenia różni się od daty zapisanej w numerze PESEL.",
    ("birth_date", None): "Podaj poprawną datę urodzenia.",
    ("pesel", "underage"): "Certyfikat może otrzymać tylko osoba pełnoletnia (18 lat w dniu wizyty).",
    ("pin", None): "PIN jest za krótki.",
    ("reason", None): "Wybierz przyczynę.",
}


def field_message(field: str, code: str | None) -> str:
    return FIELD_ERRORS.get((field, code)) or FIELD_ERRORS.get((field, None)) or "Popraw to pole."
