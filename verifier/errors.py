"""Errors of the verifier. Verdicts about signatures are never exceptions (they are reports);
these are for input the service cannot even read, and for configuration problems."""

from __future__ import annotations

from core.errors import BadRequestError, PayloadTooLargeError, SekapError, UnavailableError, family


@family
class VerifierError(SekapError):
    """Root of the verifier's errors."""

    code = "verifier_error"


class UnparseableDocumentError(VerifierError, BadRequestError):
    """The body is not a readable PDF, XML document or CMS structure (HTTP 400)."""

    code = "unparseable_document"

    def __init__(self, message: str, *, document_format: str | None = None) -> None:
        super().__init__(message)
        self.document_format = document_format


class MalformedMultipartError(VerifierError, BadRequestError):
    """The multipart body is broken or lacks the ``signature`` part (HTTP 400)."""

    code = "malformed_multipart"


class UnsupportedMediaTypeError(VerifierError, BadRequestError):
    """The media type is not one the verifier accepts; the resource answers 415."""

    code = "unsupported_media_type"

    def __init__(self, media_type: str) -> None:
        super().__init__(f"unsupported media type {media_type!r}")
        self.media_type = media_type


class DocumentTooLargeError(VerifierError, PayloadTooLargeError):
    code = "document_too_large"


class ReportSigningError(VerifierError, UnavailableError):
    """The report signer (key or certificate) is not available (HTTP 503)."""

    code = "report_signing_error"
