"""The root of every sekap-trust exception and the generic kinds the edges map.

Each package defines its own small tree under these kinds (``ca.errors.CertificateNotFoundError``
is a :class:`NotFoundError`), and ``config.http_errors`` maps the kinds to HTTP problem+json
exactly once. Exceptions carry data in fields, not only in text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class SekapError(Exception):
    """Root of all sekap-trust errors. ``code`` is a stable machine-readable identifier."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(SekapError):
    """Settings are missing or invalid; ``key`` names the setting (dotted path)."""

    code = "configuration_error"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a request: a JSON-pointer-like name and a human message."""

    field: str
    message: str
    code: str = "invalid"


class ValidationError(SekapError):
    """Input is well-formed but invalid; ``errors`` lists the offending fields (HTTP 422)."""

    code = "validation_error"

    def __init__(self, errors: list[FieldError] | FieldError, message: str = "Invalid input") -> None:
        super().__init__(message)
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)

    @classmethod
    def single(cls, field: str, message: str, code: str = "invalid") -> ValidationError:
        return cls([FieldError(field, message, code)], message=f"{field}: {message}")


class BadRequestError(SekapError):
    """Input could not be parsed at all (HTTP 400)."""

    code = "bad_request"


class NotFoundError(SekapError):
    code = "not_found"


class ConflictError(SekapError):
    """The request conflicts with the current state (already exists, already revoked, ...)."""

    code = "conflict"


class AuthenticationError(SekapError):
    code = "unauthenticated"


class PermissionDeniedError(SekapError):
    code = "forbidden"


class RateLimitedError(SekapError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLargeError(SekapError):
    code = "payload_too_large"

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class UnavailableError(SekapError):
    """A dependency (database, key store, clock) is not available now; retry later (HTTP 503)."""

    code = "unavailable"


class IntegrityError(SekapError):
    """Stored data failed an integrity check (audit chain broken, TBS changed after signing)."""

    code = "integrity_error"


def details_without(mapping: Mapping[str, object], *keys: str) -> dict[str, object]:
    """Copy of ``mapping`` without ``keys``; used to keep personal data out of audit details."""
    return {k: v for k, v in mapping.items() if k not in keys}
