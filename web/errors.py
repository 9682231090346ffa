"""Error pages in Polish. Never any internal text: the status decides the message."""

from __future__ import annotations

import falcon

from web.context import base_context
from web.templating import render_page

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Nieprawidłowe żądanie", "Nie udało się odczytać przesłanych danych. Wróć i spróbuj ponownie."),
    401: ("Wymagane logowanie", "Ta strona jest dostępna po zalogowaniu."),
    403: (
        "Brak dostępu",
        "Nie masz uprawnień do tej strony albo formularz wygasł. Odśwież stronę i spróbuj ponownie.",
    ),
    404: ("Nie znaleziono strony", "Sprawdź adres albo wróć na stronę główną."),
    405: ("Niedozwolona operacja", "Tej strony nie można użyć w ten sposób."),
    409: ("Konflikt", "Stan sprawy zmienił się w międzyczasie. Odśwież stronę."),
    413: ("Plik jest za duży", "Przesłany plik przekracza dopuszczalny rozmiar."),
    415: ("Nieobsługiwany rodzaj pliku", "Ten rodzaj pliku nie jest obsługiwany."),
    422: ("Niepoprawne dane", "Popraw dane w formularzu i spróbuj ponownie."),
    429: ("Zbyt wiele prób", "Odczekaj chwilę i spróbuj ponownie."),
    503: ("Usługa chwilowo niedostępna", "Spróbuj ponownie za kilka minut."),
}
GENERIC = ("Wystąpił błąd", "Nie udało się wykonać operacji. Spróbuj ponownie później.")


def render_error(req: falcon.Request, resp: falcon.Response, status: int) -> None:
    """The page ``config.http_errors`` shows instead of problem+json on the pages' paths."""
    title, message = MESSAGES.get(status, GENERIC)
    render_page(
        resp,
        "error.html",
        status=status,
        title=title,
        message=message,
        status_code=status,
        **base_context(req, resp),
    )
