"""Portal clients: the systems (the citizens' portal, a filing system) that call the APIs with a
bearer token and a set of scopes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from access.errors import PartyExistsError
from access.models import SCOPES, PortalClient
from access.secrets import PORTAL_TOKEN_PREFIX, new_token, token_hash
from core import audit
from core.clock import Clock
from core.db import atomic
from core.errors import ValidationError


@dataclass(frozen=True)
class NewPortalClient:
    id: int
    name: str
    scopes: tuple[str, ...]
    token: str  # shown once


def add_portal_client(clock: Clock, *, name: str, scopes: Iterable[str], actor: str) -> NewPortalClient:
    """Register a client; its token is returned once and stored only as a hash."""
    scope_list = sorted(set(scopes))
    if not name.strip() or len(name) > 100:
        raise ValidationError.single("name", "must be 1 to 100 characters")
    if not scope_list or any(s not in SCOPES for s in scope_list):
        raise ValidationError.single("scopes", f"choose one or more of {', '.join(SCOPES)}")
    token = new_token(PORTAL_TOKEN_PREFIX)
    with atomic():
        if PortalClient.select().where(PortalClient.name == name.strip()).exists():
            raise PartyExistsError(f"a portal client named {name.strip()!r} exists")
        client = PortalClient.create(
            name=name.strip(), token_hash=token_hash(token), scopes=",".join(scope_list), created_at=clock.now()
        )
        audit.record(
            clock,
            actor=actor,
            action="enrollment.portal_client.add",
            object_type="enrollment_portal_client",
            object_id=client.id,
            details={"name": client.name, "scopes": scope_list},
        )
    return NewPortalClient(client.id, client.name, tuple(scope_list), token)


def disable_portal_client(clock: Clock, name: str, *, actor: str) -> PortalClient:
    """Revoke a client: its token stops working at once (principal_for_token refuses disabled ones)."""
    with atomic():
        client = PortalClient.get_or_none(PortalClient.name == name.strip())
        if client is None:
            raise ValidationError.single("name", f"no portal client named {name.strip()!r}", "not_found")
        PortalClient.update(disabled=True).where(PortalClient.id == client.id).execute()
        audit.record(
            clock,
            actor=actor,
            action="enrollment.portal_client.disable",
            object_type="enrollment_portal_client",
            object_id=client.id,
            details={"name": client.name},
        )
    return client
