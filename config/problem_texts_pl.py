"""Polish ``title`` and ``detail`` of problem+json answers, for requests that ask for
``Accept-Language: pl`` (RFC 9110 §12.5.4). ``code``, ``errors[].code`` and field names stay
English: they are for programs. A code without a Polish text gets the generic text of its status
(never the English detail mixed in)."""

from __future__ import annotations

TITLES = {
    400: "Nieprawidłowe żądanie",
    401: "Wymagane uwierzytelnienie",
    403: "Brak uprawnień",
    404: "Nie znaleziono",
    405: "Niedozwolona metoda",
    409: "Konflikt",
    413: "Zbyt duża treść żądania",
    415: "Nieobsługiwany typ treści",
    422: "Niepoprawne dane",
    429: "Zbyt wiele żądań",
    500: "Błąd serwera",
    503: "Usługa niedostępna",
}

GENERIC_DETAILS = {
    400: "Nie udało się odczytać żądania.",
    401: "Żądanie wymaga uwierzytelnienia.",
    403: "Nie masz uprawnień do tej operacji.",
    404: "Nie znaleziono wskazanego zasobu.",
    405: "Ta metoda nie jest dozwolona dla tego zasobu.",
    409: "Żądanie jest sprzeczne z bieżącym stanem.",
    413: "Treść żądania przekracza dopuszczalny rozmiar.",
    415: "Ten typ treści nie jest obsługiwany.",
    422: "Dane są niepoprawne; szczegóły w polu errors.",
    429: "Zbyt wiele prób; spróbuj ponownie po czasie podanym w nagłówku Retry-After.",
    500: "Serwer nie mógł wykonać żądania.",
    503: "Usługa jest chwilowo niedostępna; spróbuj ponownie później.",
}

DETAILS = {
    "account_locked": "Konto jest czasowo zablokowane po zbyt wielu nieudanych logowaniach.",
    "already_exists": "Taki obiekt już istnieje.",
    "application_not_found": "Nie znaleziono wniosku.",
    "application_state": "Wniosek jest w stanie, który nie pozwala na tę operację.",
    "authority_not_found": "Nie znaleziono urzędu certyfikacji.",
    "certificate_not_found": "Nie znaleziono certyfikatu.",
    "certificate_state": "Certyfikat jest w stanie, który nie pozwala na tę operację.",
    "crl_not_found": "Nie opublikowano jeszcze listy CRL.",
    "document_too_large": "Dokument przekracza dopuszczalny rozmiar.",
    "forbidden": "Nie masz uprawnień do tej operacji.",
    "idempotency_key_reused": "Klucz Idempotency-Key użyto już dla innego żądania.",
    "invalid_credentials": "Nieprawidłowa nazwa użytkownika lub hasło.",
    "invalid_csr": "Żądanie certyfikatu (CSR) jest niepoprawne.",
    "invalid_totp_code": "Podaj aktualny kod z aplikacji uwierzytelniającej (pole totp_code).",
    "invalid_identifier": "Identyfikator jest niepoprawny.",
    "invalid_reason": "Nieprawidłowy powód unieważnienia.",
    "invalid_subject": "Dane podmiotu certyfikatu są niepoprawne.",
    "key_policy": "Klucz nie spełnia wymagań (algorytm lub długość).",
    "malformed_multipart": "Treść multipart/form-data jest niepoprawna.",
    "not_found": "Nie znaleziono wskazanego zasobu.",
    "not_permitted": "Ta operacja nie jest dozwolona.",
    "payload_too_large": "Treść żądania przekracza dopuszczalny rozmiar.",
    "rate_limited": "Zbyt wiele prób; spróbuj ponownie później.",
    "renewal_refused": "Odnowienie certyfikatu nie jest możliwe.",
    "revocation_conflict": "Certyfikat jest już unieważniony albo zawieszony.",
    "too_many_attempts": "Zbyt wiele nieudanych prób; spróbuj ponownie później.",
    "unauthenticated": "Żądanie wymaga uwierzytelnienia.",
    "unparseable_document": "Nie udało się odczytać dokumentu.",
    "unsupported_algorithm": "Ten algorytm nie jest obsługiwany.",
    "unsupported_media_type": "Ten typ treści nie jest obsługiwany.",
    "validation_error": "Dane są niepoprawne; szczegóły w polu errors.",
    "wrong_code": "Kod jest nieprawidłowy.",
}


def wants_polish(accept_language: str | None) -> bool:
    """True when Polish is the client's first choice (``pl``, ``pl-PL``, ``pl;q=1, en;q=0.5``)."""
    if not accept_language:
        return False
    ranked = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return bool(ranked) and min(ranked)[2].split("-")[0] == "pl"


def translate(status: int, code: str) -> tuple[str, str]:
    """(title, detail) in Polish for a problem of ``status`` and ``code``."""
    title = TITLES.get(status, "Błąd")
    detail = DETAILS.get(code) if status < 500 else None
    return title, detail or GENERIC_DETAILS.get(status, "Nie udało się wykonać żądania.")
