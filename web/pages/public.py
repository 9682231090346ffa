"""Public pages: the start page and "Weryfikacja e-paczki" (upload a signed document, read the
verifier's report in plain Polish, download the signed report)."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, replace

import falcon

from core.errors import BadRequestError, PayloadTooLargeError
from verifier.detect import Part, parse_media_type, parse_multipart, parse_submission
from verifier.errors import ReportSigningError
from verifier.report import ValidationReport
from web.context import base_context
from web.deps import WebDeps
from web.security import CSRF_FIELD, check_csrf
from web.templating import render_page
from web.verification_texts import (
    COUNTER_NOTE,
    COVERAGE,
    SUB_INDICATIONS,
    TIMESTAMP_KINDS,
    counter_texts,
    covered_files,
    explain,
)

logger = logging.getLogger(__name__)
_CHUNK = 256 * 1024


class HomeResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        render_page(resp, "home.html", title="Strona główna", **base_context(req, resp))


@dataclass(frozen=True)
class Upload:
    document: Part | None
    content: Part | None


class VerificationPageResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    @property
    def limit(self) -> int:
        return min(self.deps.settings.max_upload_bytes, self.deps.verifier.settings.max_document_bytes)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._form(req, resp, [])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            upload = self._read(req)
        except PayloadTooLargeError:
            message = f"Plik jest za duży. Największy dopuszczalny rozmiar to {self._mib} MiB."
            self._form(req, resp, [("document", message)])
            return
        if upload.document is None or not upload.document.data:
            self._form(req, resp, [("document", "Wybierz plik z podpisanym dokumentem lub e-paczką.")])
            return
        try:
            submission = parse_submission("application/octet-stream", upload.document.data)
            if upload.content is not None and upload.content.data:
                if submission.kind == "pdf":
                    raise BadRequestError("a PDF carries its own content")
                submission = replace(submission, detached=(upload.content,))
            # The verifier refuses what its hardened XML parser refuses (DTDs, entities) as bad input.
            report = self.deps.verifier.verify(submission)
        except BadRequestError:
            message = (
                "Nie rozpoznano pliku: prześlij podpisany PDF, dokument XML z podpisem lub plik podpisu (.p7s, .p7m)."
            )
            self._form(req, resp, [("document", message)])
            return
        self._result(req, resp, report, upload)

    @property
    def _mib(self) -> str:
        return f"{self.limit / (1024 * 1024):.0f}"

    def _read(self, req: falcon.Request) -> Upload:
        media_type, params = parse_media_type(req.content_type)
        if media_type != "multipart/form-data":
            raise falcon.HTTPUnsupportedMediaType()
        # The form adds a little around the files; the files themselves are checked below.
        limit = self.limit * 2 + 64 * 1024
        if req.content_length is not None and req.content_length > limit:
            raise PayloadTooLargeError("upload too large", limit=limit)
        body = read_bounded(req, limit)
        try:
            parts = {p.name: p for p in parse_multipart(body, params.get("boundary", ""), max_parts=4)}
        except BadRequestError:
            raise falcon.HTTPBadRequest() from None
        token = parts.get(CSRF_FIELD)
        check_csrf(req, token.data.decode("ascii", "replace") if token else None)
        document, content = parts.get("document"), parts.get("content")
        for part in (document, content):
            if part is not None and len(part.data) > self.limit:
                raise PayloadTooLargeError("file too large", limit=self.limit)
        return Upload(document, content if content is not None and content.filename else None)

    def _form(self, req: falcon.Request, resp: falcon.Response, errors: list[tuple[str, str]]) -> None:
        render_page(
            resp,
            "verification.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + "Weryfikacja e-paczki",
            errors=errors,
            limit_mib=self._mib,
            report=None,
            **base_context(req, resp),
        )

    def _result(self, req: falcon.Request, resp: falcon.Response, report: ValidationReport, upload: Upload) -> None:
        explanation, reason = explain(report.indication, report.sub_indication)
        render_page(
            resp,
            "verification.html",
            title="Wynik weryfikacji",
            errors=[],
            limit_mib=self._mib,
            report=report,
            explanation=explanation,
            reason=reason,
            explain=explain,
            sub_texts=SUB_INDICATIONS,
            timestamp_kinds=TIMESTAMP_KINDS,
            coverage_texts=COVERAGE,
            covered_files=covered_files,
            counter_texts=counter_texts,
            counter_note=COUNTER_NOTE,
            file_name=upload.document.label if upload.document else "",
            content_name=upload.content.label if upload.content else None,
            signed_report=self._signed(report),
            **base_context(req, resp),
        )

    def _signed(self, report: ValidationReport) -> str | None:
        """The signed report as a data: URL for the download link (nothing is kept on the server)."""
        try:
            der = self.deps.verifier.sign(report)
        except ReportSigningError:
            logger.warning("verification page: the report could not be signed")
            return None
        return "data:application/pkcs7-mime;base64," + base64.b64encode(der).decode("ascii")


def read_bounded(req: falcon.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := req.bounded_stream.read(min(_CHUNK, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError("upload too large", limit=limit)
    return b"".join(chunks)
