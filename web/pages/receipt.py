"""The public UPO viewer: upload a receipt (UPO/UPP or UPD), read whether it is genuine and what it
states. The verifier checks the seal exactly as for any signed XML; this page only adds that the
seal must be our receipt-seal and carry a valid timestamp."""

from __future__ import annotations

from dataclasses import dataclass

import falcon

from core.errors import BadRequestError, PayloadTooLargeError
from verifier.detect import parse_media_type, parse_multipart, parse_submission
from verifier.receipt_fields import ReceiptInfo
from verifier.report import Indication, ValidationReport
from web.context import base_context
from web.deps import WebDeps
from web.pages.public import read_bounded
from web.security import CSRF_FIELD, check_csrf
from web.templating import render_page
from web.verification_texts import explain

# Receipts are a few kilobytes; a megabyte leaves room and keeps the parser's work small.
RECEIPT_LIMIT = 1024 * 1024
KINDS = {"UPP": "Urzędowe poświadczenie przedłożenia (UPO)", "UPD": "Urzędowe poświadczenie doręczenia (UPD)"}
NOT_A_RECEIPT = "To nie jest UPO ani UPD: prześlij plik XML poświadczenia (pos:Dokument) otrzymany z systemu."


@dataclass(frozen=True)
class Verdict:
    genuine: bool
    sealed_by_us: bool
    signature_valid: bool
    timestamped: bool


class ReceiptPageResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    @property
    def limit(self) -> int:
        return min(self.deps.settings.max_upload_bytes, RECEIPT_LIMIT)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._page(req, resp, [])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            data = self._read(req)
        except PayloadTooLargeError:
            self._page(
                req, resp, [("receipt", f"Plik jest za duży. Poświadczenie może mieć najwyżej {self._kib} KiB.")]
            )
            return
        if not data:
            self._page(req, resp, [("receipt", "Wybierz plik XML z poświadczeniem (UPO lub UPD).")])
            return
        try:
            submission = parse_submission("application/octet-stream", data)
            # The verifier refuses what its hardened XML parser refuses (DTDs, entities) as bad input.
            report = self.deps.verifier.verify(submission) if submission.kind == "xml" else None
        except BadRequestError:
            report = None
        if report is None or report.receipt is None:
            self._page(req, resp, [("receipt", NOT_A_RECEIPT)])
            return
        self._page(req, resp, [], report=report, receipt=report.receipt, verdict=self._verdict(report))

    @property
    def _kib(self) -> str:
        return f"{self.limit // 1024}"

    def _verdict(self, report: ValidationReport) -> Verdict:
        ours = self.deps.receipt_seal_fingerprints()
        valid = report.indication == Indication.TOTAL_PASSED and len(report.signatures) == 1
        sealed = valid and any(s.signer is not None and s.signer.fingerprint_sha256 in ours for s in report.signatures)
        stamped = valid and all(
            any(t.indication == Indication.TOTAL_PASSED for t in s.timestamps) for s in report.signatures
        )
        return Verdict(valid and sealed and stamped, sealed, valid, stamped)

    def _read(self, req: falcon.Request) -> bytes:
        media_type, params = parse_media_type(req.content_type)
        if media_type != "multipart/form-data":
            raise falcon.HTTPUnsupportedMediaType()
        limit = self.limit + 64 * 1024  # the form adds a little around the file
        if req.content_length is not None and req.content_length > limit:
            raise PayloadTooLargeError("upload too large", limit=limit)
        body = read_bounded(req, limit)
        try:
            parts = {p.name: p for p in parse_multipart(body, params.get("boundary", ""), max_parts=3)}
        except BadRequestError:
            raise falcon.HTTPBadRequest() from None
        token = parts.get(CSRF_FIELD)
        check_csrf(req, token.data.decode("ascii", "replace") if token else None)
        receipt = parts.get("receipt")
        if receipt is not None and len(receipt.data) > self.limit:
            raise PayloadTooLargeError("file too large", limit=self.limit)
        return receipt.data if receipt is not None else b""

    def _page(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        errors: list[tuple[str, str]],
        report: ValidationReport | None = None,
        receipt: ReceiptInfo | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        title = "Sprawdzenie poświadczenia UPO" if report is None else "Wynik sprawdzenia UPO"
        render_page(
            resp,
            "upo.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + title,
            errors=errors,
            limit_kib=self._kib,
            report=report,
            receipt=receipt,
            verdict=verdict,
            kinds=KINDS,
            subject=_information(receipt, "TematWniosku"),
            reason=explain(report.indication, report.sub_indication)[1] if report else None,
            **base_context(req, resp),
        )


def _information(receipt: ReceiptInfo | None, kind: str) -> str | None:
    if receipt is None:
        return None
    return next((entry.value for entry in receipt.information if entry.type == kind), None)
