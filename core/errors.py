"""The root of every sekap-trust exception and the generic kinds the edges map.

Each package defines its own small tree under these kinds (``ca.errors.CertificateNotFoundError``
is a :class:`NotFoundError`), and ``config.http_errors`` maps the kinds to HTTP problem+json
exactly once. Exceptions carry data in fields, not only in text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

_E = TypeVar("_E", bound=type["SekapError"])
_FAMILIES: set[type[SekapError]] = set()


def family(cls: _E) -> _E:
    """Mark ``cls`` as the root of a package's tree: it groups errors but has no kind of its own,
    so it can never be raised (only its subclasses, each of which declares a kind)."""
    _FAMILIES.add(cls)
    return cls


def is_family(cls: type[SekapError]) -> bool:
    return cls in _FAMILIES


class SekapError(Exception):
    """Root of all sekap-trust errors. ``code`` is a stable machine-readable identifier.

    Every concrete error also inherits exactly one *kind* below (:data:`KINDS`), which decides
    how the edges answer it; an error without one is a generic internal error there."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if type(self) in _FAMILIES or type(self) is SekapError:
            raise TypeError(f"{type(self).__name__} is an error family; raise one of its subclasses")
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


class InternalError(SekapError):
    """The server's own fault (a broken invariant, a damaged key file, a wrong key-store
    passphrase): clients learn nothing but a generic 500 and the request id."""

    code = "internal_error"


# The kinds an edge maps; every concrete error inherits exactly one of them.
KINDS: tuple[type[SekapError], ...] = (
    ValidationError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    ConflictError,
    PayloadTooLargeError,
    RateLimitedError,
    UnavailableError,
    ConfigurationError,
    IntegrityError,
    InternalError,
)


def kinds_of(cls: type[BaseException]) -> tuple[type[SekapError], ...]:
    """The kinds ``cls`` declares (one for every concrete error; none for a family root)."""
    return tuple(kind for kind in KINDS if issubclass(cls, kind))


def details_without(mapping: Mapping[str, object], *keys: str) -> dict[str, object]:
    """Copy of ``mapping`` without ``keys``; used to keep personal data out of audit details."""
    return {k: v for k, v in mapping.items() if k not in keys}
