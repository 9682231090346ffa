from __future__ import annotations

from config.runtime import Runtime, WSGIApp
from receipts.resources import DeliveriesResource, ReceiptResource, ReceiptsResource
from receipts.service import ReceiptService
from receipts.timestamping import InProcessTimestamper
from tsa.service import TimeStampService
from verifier.detect import parse_submission
from verifier.report import ValidationReport
from verifier.service import VerificationService


def mount(app: WSGIApp, runtime: Runtime) -> None:
    settings = runtime.settings
    # The key store is opened on the first receipt, in the worker, never here.
    tsa = TimeStampService(settings.tsa, settings.receipts.tsa_authority, lambda: runtime.key_store, runtime.clock)
    verifier = VerificationService(settings.verifier, runtime.clock, lambda: runtime.key_store)

    def verify_package(data: bytes, media_type: str) -> ValidationReport:
        return verifier.verify(parse_submission(media_type, data))

    service = ReceiptService(
        settings.receipts, runtime.clock, lambda: runtime.key_store, InProcessTimestamper(tsa), verify_package
    )
    app.add_route("/api/v1/receipts", ReceiptsResource(service))
    app.add_route("/api/v1/receipts/deliveries", DeliveriesResource(service))
    single = ReceiptResource(service)
    app.add_route("/api/v1/receipts/{receipt_id}", single)
    app.add_route("/api/v1/receipts/{receipt_id}/html", single, suffix="html")
    app.add_route("/api/v1/receipts/{receipt_id}/pdf", single, suffix="pdf")
