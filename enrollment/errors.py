"""Enrollment's exception tree; each class also carries the generic kind the edge maps."""

from __future__ import annotations

from core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SekapError,
    ValidationError,
    family,
)


@family
class EnrollmentError(SekapError):
    code = "enrollment_error"


class TooManyAttemptsError(EnrollmentError, RateLimitedError):
    code = "too_many_attempts"


class NotPermittedError(EnrollmentError, PermissionDeniedError):
    code = "not_permitted"


class WrongCodeError(EnrollmentError, PermissionDeniedError):
    """Wrong serial/revocation-code pair (deliberately not saying which)."""

    code = "wrong_code"


class ApplicationNotFoundError(EnrollmentError, NotFoundError):
    code = "application_not_found"

    def __init__(self, reference: str) -> None:
        super().__init__(f"no application {reference}")
        self.reference = reference


class CitizenCertificateNotFoundError(EnrollmentError, NotFoundError):
    code = "certificate_not_found"

    def __init__(self, serial: str) -> None:
        super().__init__(f"no certificate {serial} for this citizen")
        self.serial = serial


class NotFoundInEnrollmentError(EnrollmentError, NotFoundError):
    code = "not_found"


class ApplicationStateError(EnrollmentError, ConflictError):
    code = "application_state"

    def __init__(self, reference: str, state: str, wanted: str) -> None:
        super().__init__(f"application {reference} is {state}; {wanted}")
        self.reference = reference
        self.state = state


class CertificateStateError(EnrollmentError, ConflictError):
    code = "certificate_state"


class IdempotencyConflictError(EnrollmentError, ConflictError):
    code = "idempotency_key_reused"


class AlreadyExistsError(EnrollmentError, ConflictError):
    code = "already_exists"


class DownloadGoneError(EnrollmentError, NotFoundError):
    code = "pkcs12_not_available"


class RenewalRefusedError(EnrollmentError, ConflictError):
    code = "renewal_refused"


class EnrollmentValidationError(EnrollmentError, ValidationError):
    code = "validation_error"
