"""Dual control for administrator roles (issue 15 item 7): ``ra_admin`` and ``ca_admin`` are
granted only through an approval request (:mod:`core.approvals`, kind ``access.role_grant``)
that ``required`` administrators other than the proposer approved before it expired.

The request names the officer and the administrator roles; applying it (to a new account in
:meth:`enrollment.admin.Administration.add_officer`, or to an existing one with
:func:`apply_grant`) consumes it in the same transaction as the change and its audit record, so
one approval grants once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from access.models import ADMINISTRATOR_ROLES, ROLES, Officer
from core import approvals, audit
from core.clock import Clock
from core.db import atomic
from core.errors import ValidationError
from enrollment.errors import NotFoundInEnrollmentError, NotPermittedError

KIND = "access.role_grant"


def administrator_roles(roles: Iterable[str]) -> list[str]:
    return sorted(set(roles) & ADMINISTRATOR_ROLES)


def propose(
    clock: Clock, username: str, roles: Iterable[str], *, actor: str, required: int, ttl: timedelta
) -> approvals.ApprovalRequest:
    """Ask other administrators to approve giving ``username`` the administrator ``roles``."""
    wanted = sorted(set(roles))
    if not wanted or any(r not in ADMINISTRATOR_ROLES for r in wanted):
        raise ValidationError.single("roles", f"choose one or more of {', '.join(sorted(ADMINISTRATOR_ROLES))}")
    payload: dict[str, Any] = {"username": username.strip(), "roles": wanted}
    return approvals.request(clock, KIND, payload, actor=actor, required=required, ttl=ttl)


def consume(clock: Clock, approval_id: int | None, username: str, roles: Iterable[str], *, actor: str) -> None:
    """Inside the caller's transaction: the approved grant of exactly these administrator roles
    to ``username``, marked executed (raises when there is none)."""
    wanted = administrator_roles(roles)
    if approval_id is None:
        raise NotPermittedError(
            f"administrator roles ({', '.join(wanted)}) need an approved role grant (dual control): "
            "sekap-trust officer grant-role"
        )
    row = approvals.check_approved(clock, approval_id, KIND)
    if row.payload != {"username": username, "roles": wanted}:
        raise ValidationError.single("approval", f"approval request {approval_id} grants something else")
    approvals.consume(clock, approval_id, KIND, actor=actor)


def apply_grant(clock: Clock, approval_id: int, *, actor: str) -> Officer:
    """Give an existing officer the roles of an approved grant (audited, once)."""
    request = approvals.get(approval_id)
    username = str(request.payload.get("username", ""))
    with atomic():
        officer: Officer | None = Officer.get_or_none(Officer.username == username)
        if officer is None:
            raise NotFoundInEnrollmentError(f"no officer named {username!r} (new accounts: officer add --approval)")
        granted = [str(r) for r in request.payload.get("roles", []) if r in ROLES]
        consume(clock, approval_id, username, granted, actor=actor)
        roles = sorted(set(officer.role_set) | set(granted))
        Officer.update(roles=",".join(roles)).where(Officer.id == officer.id).execute()
        audit.record(
            clock,
            actor=actor,
            action="enrollment.officer.grant_roles",
            object_type="enrollment_officer",
            object_id=officer.id,
            details={"username": username, "granted": granted, "roles": roles, "approval_id": approval_id},
        )
    return Officer.get_by_id(officer.id)  # type: ignore[no-any-return]
