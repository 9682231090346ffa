"""Who is calling. Authentication (tokens, sessions) lives in enrollment; every resource only
asks the :class:`Principal` that the authentication middleware put on ``req.context.principal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import AuthenticationError, PermissionDeniedError

KINDS = ("anonymous", "portal", "officer", "citizen", "system")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``id`` is internal (never a PESEL); ``scopes`` for portal clients,
    ``roles`` and ``points`` (certification point ids) for officers."""

    kind: str
    id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    points: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown principal kind {self.kind!r}")

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"{self.kind}:{self.id}"

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal("anonymous", "-")


def require_scope(principal: Principal | None, scope: str) -> Principal:
    if principal is None or not principal.authenticated:
        raise AuthenticationError("authentication required")
    if scope not in principal.scopes:
        raise PermissionDeniedError(f"this client may not use {scope}")
    return principal


def require_role(principal: Principal | None, *roles: str) -> Principal:
    if principal is None or not principal.authenticated:
        raise AuthenticationError("authentication required")
    if not principal.roles.intersection(roles):
        raise PermissionDeniedError(f"requires one of the roles: {', '.join(roles)}")
    return principal
