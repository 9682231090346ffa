"""The verifier's ETSI EN 319 102-1 indications explained in plain Polish for the public page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from verifier.report import CounterSignatureReport, Coverage, Indication, SignatureReport, SubIndication


@dataclass(frozen=True)
class Explanation:
    headline: str
    meaning: str
    tone: str  # "ok" | "warn" | "bad": the colour and icon of the verdict box


INDICATIONS: dict[Indication, Explanation] = {
    Indication.TOTAL_PASSED: Explanation(
        "Podpis jest prawidłowy",
        "Dokument nie został zmieniony po podpisaniu, a certyfikat osoby podpisującej był ważny "
        "i pochodzi od zaufanego wystawcy.",
        "ok",
    ),
    Indication.INDETERMINATE: Explanation(
        "Nie można rozstrzygnąć ważności podpisu",
        "Podpis nie jest sfałszowany, ale brakuje informacji potrzebnych do potwierdzenia jego "
        "ważności. Powód podano poniżej; czasem wystarczy spróbować później.",
        "warn",
    ),
    Indication.TOTAL_FAILED: Explanation(
        "Podpis jest nieprawidłowy",
        "Dokumentu nie można uznać za podpisany: został zmieniony po podpisaniu albo podpis lub certyfikat są wadliwe.",
        "bad",
    ),
}

SUB_INDICATIONS: dict[SubIndication, str] = {
    SubIndication.FORMAT_FAILURE: "Plik nie ma poprawnej budowy podpisanego dokumentu albo nie zawiera podpisu.",
    SubIndication.HASH_FAILURE: "Treść dokumentu zmieniono po złożeniu podpisu.",
    SubIndication.SIG_CRYPTO_FAILURE: "Podpis nie zgadza się z kluczem z certyfikatu (podpis jest uszkodzony).",
    SubIndication.REVOKED: "Certyfikat osoby podpisującej unieważniono przed złożeniem podpisu.",
    SubIndication.EXPIRED: "Certyfikat osoby podpisującej wygasł przed złożeniem podpisu.",
    SubIndication.NOT_YET_VALID: "Certyfikat osoby podpisującej nie był jeszcze ważny w chwili podpisu.",
    SubIndication.SIG_CONSTRAINTS_FAILURE: "Podpis nie spełnia wymagań polityki weryfikacji.",
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: "Ścieżka certyfikatów nie spełnia wymagań polityki weryfikacji.",
    SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: "Nie udało się sprawdzić ścieżki certyfikatów.",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "Użyto algorytmu lub klucza uznanego za zbyt słaby.",
    SubIndication.POLICY_PROCESSING_ERROR: "Nie udało się zastosować polityki podpisu.",
    SubIndication.SIGNATURE_POLICY_NOT_AVAILABLE: "Polityka podpisu wskazana w podpisie jest niedostępna.",
    SubIndication.TIMESTAMP_ORDER_FAILURE: "Znaczniki czasu są w niewłaściwej kolejności.",
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "Nie znaleziono certyfikatu osoby podpisującej.",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "Certyfikat nie pochodzi od zaufanego wystawcy.",
    SubIndication.REVOKED_NO_POE: "Certyfikat unieważniono, a nie ma dowodu, że podpis złożono wcześniej.",
    SubIndication.REVOKED_CA_NO_POE: "Certyfikat wystawcy unieważniono, a nie ma dowodu, że podpis złożono wcześniej.",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "Certyfikat jest poza okresem ważności, a nie ma dowodu czasu podpisu.",
    SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: "Informacja o unieważnieniu jest nieaktualna.",
    SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: "Certyfikat wygasł, choć nie był unieważniony.",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "Użyty algorytm jest dziś zbyt słaby, "
    "a brak dowodu czasu podpisu.",
    SubIndication.NO_POE: "Brak dowodu, kiedy złożono podpis.",
    SubIndication.TRY_LATER: "Certyfikat jest zawieszony albo brak aktualnej informacji o jego statusie. "
    "Spróbuj ponownie później.",
    SubIndication.SIGNED_DATA_NOT_FOUND: "Nie znaleziono podpisanej treści (dołącz plik, którego dotyczy podpis).",
    SubIndication.GENERIC: "Weryfikacja nie powiodła się z innego powodu.",
}

TIMESTAMP_KINDS = {
    "signature": "znacznik czasu podpisu",
    "content": "znacznik czasu treści",
    "archive": "archiwalny znacznik czasu",
    "document": "znacznik czasu dokumentu",
}

COVERAGE = {
    "pdf-byte-range": "podpis obejmuje zakres bajtów pliku PDF",
    "xml-references": "podpis obejmuje wskazane elementy i pliki",
    "cms-attached": "podpisana treść jest w pliku podpisu",
    "cms-detached": "podpis dotyczy osobno dołączonego pliku",
}


def explain(indication: Indication, sub: SubIndication | None) -> tuple[Explanation, str | None]:
    return INDICATIONS[indication], SUB_INDICATIONS.get(sub) if sub else None


def covered_files(coverage: Coverage) -> list[str]:
    """The names a person recognises: the package's files (URI-decoded), without the signature's
    own signed properties or other references inside the signature document."""
    names: list[str] = []
    for name in coverage.detached_parts:
        names.append(unquote(name))
    for ref in coverage.references:
        uri = ref.uri or ""
        if not uri or uri.startswith("#") or "SignedProperties" in (ref.type or ""):
            continue
        names.append(unquote(uri))
    return list(dict.fromkeys(names))


COUNTER_NOTE = (
    "Kontrasygnata to podpis złożony pod innym podpisem, np. przez osobę zatwierdzającą lub świadka. "
    "Potwierdza podpis, pod którym ją złożono, a nie same pliki. Jej wynik nie zmienia oceny tego podpisu."
)

COUNTER_HEADLINES = {
    Indication.TOTAL_PASSED: "kontrasygnata jest prawidłowa",
    Indication.INDETERMINATE: "nie można rozstrzygnąć ważności kontrasygnaty",
    Indication.TOTAL_FAILED: "kontrasygnata jest nieprawidłowa",
}

# Where a counter-signature needs other words than a signature over files.
COUNTER_SUB_INDICATIONS: dict[SubIndication, str] = {
    SubIndication.HASH_FAILURE: "Podpis, pod którym złożono kontrasygnatę, zmieniono po jej złożeniu.",
    SubIndication.SIG_CRYPTO_FAILURE: "Kontrasygnata nie zgadza się z kluczem z certyfikatu (jest uszkodzona).",
    SubIndication.FORMAT_FAILURE: "Kontrasygnata nie ma poprawnej budowy.",
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "Nie znaleziono certyfikatu osoby składającej kontrasygnatę.",
    SubIndication.GENERIC: "Kontrasygnaty nie sprawdzono (jest ich za dużo albo są zagnieżdżone zbyt głęboko).",
}


@dataclass(frozen=True)
class CounterText:
    """A counter-signature as the page shows it: "Kontrasygnata 1.2" of "podpisu 1" (or of
    another counter-signature), its verdict in words and the box colour."""

    report: CounterSignatureReport
    label: str
    target: str
    verdict: str
    reason: str | None
    tone: str


def counter_texts(signature: SignatureReport, signature_number: int) -> list[CounterText]:
    labels = {signature.id: f"podpisu {signature_number}"}
    texts = []
    for number, counter in enumerate(signature.counter_signatures, start=1):
        label = f"{signature_number}.{number}"
        sub = counter.sub_indication
        reason = (COUNTER_SUB_INDICATIONS.get(sub) or SUB_INDICATIONS.get(sub)) if sub else None
        texts.append(
            CounterText(
                report=counter,
                label=f"Kontrasygnata {label}",
                target=labels.get(counter.counters, "innego podpisu"),
                verdict=COUNTER_HEADLINES[counter.indication],
                reason=reason,
                tone=INDICATIONS[counter.indication].tone,
            )
        )
        labels[counter.id] = f"kontrasygnaty {label}"
    return texts
