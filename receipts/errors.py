"""Errors of the receipt service, mapped to problem+json once by config."""

from __future__ import annotations

from core.errors import (
    ConflictError,
    FieldError,
    NotFoundError,
    SekapError,
    UnavailableError,
    ValidationError,
    family,
)


@family
class ReceiptsError(SekapError):
    """Root of the receipt service's errors."""

    code = "receipts_error"


class ReceiptNotFoundError(ReceiptsError, NotFoundError):
    code = "receipt_not_found"

    def __init__(self, receipt_id: str) -> None:
        super().__init__(f"no receipt {receipt_id!r}")
        self.receipt_id = receipt_id


class IdempotencyConflictError(ReceiptsError, ConflictError):
    """The Idempotency-Key was used before with a different request body (HTTP 409)."""

    code = "idempotency_conflict"


class SealUnavailableError(ReceiptsError, UnavailableError):
    """The receipt seal (key, certificate) or the TSA cannot be used now (HTTP 503); nothing is stored."""

    code = "receipt_seal_unavailable"


class DeliverySignatureRejectedError(ReceiptsError, ValidationError):
    """The citizen's signature over the office's package did not validate (HTTP 422)."""

    code = "delivery_signature_rejected"

    def __init__(self, message: str, *, indication: str, sub_indication: str | None) -> None:
        ValidationError.__init__(self, FieldError("signed_package", message, "signature_rejected"), message)
        self.indication = indication
        self.sub_indication = sub_indication
