"""Access's exceptions, each also a generic kind from ``core.errors`` (mapped once at the edge)."""

from __future__ import annotations

from core.errors import AuthenticationError, ConflictError, NotFoundError, RateLimitedError, SekapError, family


@family
class AccessError(SekapError):
    code = "access_error"


class InvalidCredentialsError(AccessError, AuthenticationError):
    code = "invalid_credentials"


class SecondFactorError(AccessError, AuthenticationError):
    """The password was right but the officer's TOTP code is missing or wrong (RFC 6238)."""

    code = "invalid_totp_code"


class AccountLockedError(AccessError, RateLimitedError):
    code = "account_locked"


class PartyExistsError(AccessError, ConflictError):
    """An officer or portal client of that name exists."""

    code = "already_exists"


class PartyNotFoundError(AccessError, NotFoundError):
    code = "not_found"
