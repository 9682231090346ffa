"""REST edge of the receipt service: decode, ask :class:`ReceiptService`, encode. Portal clients
with scope ``receipts`` only; errors are mapped to problem+json by config, once."""

from __future__ import annotations

import falcon

from core.auth import Principal, require_scope
from core.errors import BadRequestError
from receipts.render import to_html, to_pdf
from receipts.service import Issued, ReceiptService

XML = "application/xml; charset=utf-8"
PREFIX = "/api/v1/receipts"


def _principal(req: falcon.Request) -> Principal:
    return require_scope(getattr(req.context, "principal", None), "receipts")


def _json(req: falcon.Request) -> object:
    if req.content_length in (None, 0):
        raise BadRequestError("a JSON body is required")
    try:
        return req.get_media()
    except falcon.MediaMalformedError:
        raise BadRequestError("the body is not valid JSON") from None


def _answer(resp: falcon.Response, issued: Issued) -> None:
    row = issued.receipt
    resp.status = falcon.HTTP_200 if issued.replayed else falcon.HTTP_201
    resp.location = f"{PREFIX}/{row.public_id}"
    resp.content_type = XML
    resp.set_header("Receipt-Number", row.number)
    resp.set_header("Receipt-Id", row.public_id)
    resp.cache_control = ["no-store"]
    resp.data = bytes(row.xml)


class ReceiptsResource:
    """``POST /api/v1/receipts``: the UPO (pos:UPP) for a delivered filing."""

    def __init__(self, service: ReceiptService) -> None:
        self.service = service

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = _principal(req)
        issued = self.service.issue_submission(
            _json(req), principal=principal, idempotency_key=req.get_header("Idempotency-Key")
        )
        _answer(resp, issued)


class DeliveriesResource:
    """``POST /api/v1/receipts/deliveries``: the UPD for the citizen's signature over an office package."""

    def __init__(self, service: ReceiptService) -> None:
        self.service = service

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = _principal(req)
        issued = self.service.confirm_delivery(
            _json(req), principal=principal, idempotency_key=req.get_header("Idempotency-Key")
        )
        _answer(resp, issued)


class ReceiptResource:
    """``GET /api/v1/receipts/{receipt_id}`` (XML), ``…/html`` and ``…/pdf`` (Polish renderings)."""

    def __init__(self, service: ReceiptService) -> None:
        self.service = service

    def _row(self, req: falcon.Request, receipt_id: str):  # type: ignore[no-untyped-def]
        return self.service.get(receipt_id, _principal(req))

    def on_get(self, req: falcon.Request, resp: falcon.Response, receipt_id: str) -> None:
        resp.content_type = XML
        resp.cache_control = ["no-store"]
        resp.data = bytes(self._row(req, receipt_id).xml)

    def on_get_html(self, req: falcon.Request, resp: falcon.Response, receipt_id: str) -> None:
        resp.content_type = "text/html; charset=utf-8"
        resp.cache_control = ["no-store"]
        resp.text = to_html(self._row(req, receipt_id), platform=self.service.settings.platform_name)

    def on_get_pdf(self, req: falcon.Request, resp: falcon.Response, receipt_id: str) -> None:
        row = self._row(req, receipt_id)
        settings = self.service.settings
        resp.content_type = "application/pdf"
        resp.cache_control = ["no-store"]
        resp.downloadable_as = f"{row.number}.pdf"
        resp.data = to_pdf(
            row, platform=settings.platform_name, font=settings.pdf_font, font_bold=settings.pdf_font_bold
        )
