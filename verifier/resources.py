"""``POST /api/v1/verifications``: decode the request, ask the service, encode the report."""

from __future__ import annotations

from datetime import datetime

import falcon

from core.auth import require_scope
from core.clock import ensure_utc
from core.errors import ValidationError
from verifier.detect import parse_submission
from verifier.errors import DocumentTooLargeError, UnsupportedMediaTypeError
from verifier.etsi_report import XML_REPORT_MEDIA_TYPE, to_etsi_xml
from verifier.service import VerificationService, report_json
from verifier.signing import SIGNED_REPORT_MEDIA_TYPE

_READ_CHUNK = 1024 * 1024


class VerificationsResource:
    def __init__(self, service: VerificationService) -> None:
        self.service = service

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_scope(getattr(req.context, "principal", None), "verify")
        validation_time = _validation_time(req.get_param("validation_time"))
        wants_signed = req.get_param_as_bool("signed", default=False) or _accepts_signed(req.get_header("Accept"))
        body = _read_body(req, self.service.settings.max_document_bytes)
        try:
            submission = parse_submission(req.content_type, body, max_parts=self.service.settings.max_parts)
        except UnsupportedMediaTypeError as exc:
            raise falcon.HTTPUnsupportedMediaType(description=exc.message) from None
        report = self.service.verify(submission, validation_time)
        # ?format=etsi or Accept: application/xml → the TS 119 102-2 XML form of the same report.
        etsi = req.get_param("format") == "etsi" or "application/xml" in (req.get_header("Accept") or "").lower()
        body = to_etsi_xml(report) if etsi else report_json(report)
        if wants_signed:
            resp.content_type = SIGNED_REPORT_MEDIA_TYPE
            resp.data = self.service.sign(report, body)
        else:
            resp.content_type = XML_REPORT_MEDIA_TYPE if etsi else falcon.MEDIA_JSON
            resp.data = body
        resp.cache_control = ["no-store"]


def _accepts_signed(accept: str | None) -> bool:
    return bool(accept) and "application/pkcs7-mime" in (accept or "").lower()


def _validation_time(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return ensure_utc(value)
    except ValueError:
        raise ValidationError.single("validation_time", "must be an ISO 8601 date-time with a time zone") from None


def _read_body(req: falcon.Request, limit: int) -> bytes:
    if req.content_length is not None and req.content_length > limit:
        raise DocumentTooLargeError(f"the document exceeds {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = req.bounded_stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise DocumentTooLargeError(f"the document exceeds {limit} bytes", limit=limit)
    return b"".join(chunks)
