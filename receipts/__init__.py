"""Official receipts: UPO (pos:UPP) for filings delivered to an office and UPD for deliveries the
citizen confirmed with a signature; sealed by the receipt-seal key (XAdES B-T with our TSA),
recorded and audited before they are returned, rendered in Polish (HTML, PDF)."""

from receipts.errors import (
    DeliverySignatureRejectedError,
    IdempotencyConflictError,
    ReceiptNotFoundError,
    ReceiptsError,
    SealUnavailableError,
)
from receipts.service import Issued, ReceiptService
from receipts.settings import ReceiptsSettings
from receipts.upo import POS, Party, ReceiptContent

__all__ = [
    "POS",
    "DeliverySignatureRejectedError",
    "IdempotencyConflictError",
    "Issued",
    "Party",
    "ReceiptContent",
    "ReceiptNotFoundError",
    "ReceiptService",
    "ReceiptsError",
    "ReceiptsSettings",
    "SealUnavailableError",
]
