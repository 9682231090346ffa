"""Administrator roles under dual control (issue 15 item 7; ETSI EN 319 401 §7.2 and
EN 319 411-1 §6.5.1 / CA/B Forum BR §5.2.2: trusted roles assigned under multi-person control):
``ra_admin`` and ``ca_admin`` are granted only with an approved, unexpired request made by
another administrator, N approvals (``approvals.required``), once."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from access.models import Officer
from config import cli
from config.runtime import Runtime
from config.settings import ApprovalSettings
from core import approvals
from core.audit import AuditRecord
from core.errors import ValidationError
from enrollment import role_grants
from enrollment.admin import Administration
from enrollment.errors import NotPermittedError
from tests.enrollment.helpers import PASSWORD

TTL = timedelta(hours=24)


@pytest.fixture
def admin(db: Any, settings: Any, clock: Any) -> Administration:
    return Administration(settings.enrollment, clock)


def _add(admin: Administration, username: str, roles: list[str], approval_id: int | None = None) -> Officer:
    return admin.add_officer(
        username=username, password=PASSWORD, roles=roles, points=[], actor="cli:alice", approval_id=approval_id
    )


def test_administrator_roles_need_an_approved_grant(admin: Administration, clock: Any) -> None:
    with pytest.raises(NotPermittedError, match="dual control"):
        _add(admin, "bob", ["ca_admin"])
    assert not Officer.select().where(Officer.username == "bob").exists()
    _add(admin, "clerk", ["ra_officer", "auditor"])  # other roles need no approval

    grant = role_grants.propose(clock, "bob", ["ca_admin"], actor="cli:alice", required=1, ttl=TTL)
    with pytest.raises(approvals.ApprovalError, match="0 of 1"):
        _add(admin, "bob", ["ca_admin"], grant.id)  # proposed, not yet approved
    with pytest.raises(approvals.SelfApprovalError):
        approvals.approve(clock, grant.id, actor="cli:alice")
    approvals.approve(clock, grant.id, actor="cli:bob.admin")
    with pytest.raises(ValidationError, match="grants something else"):
        _add(admin, "mallory", ["ca_admin"], grant.id)  # the approval names bob
    with pytest.raises(ValidationError, match="grants something else"):
        _add(admin, "bob", ["ca_admin", "ra_admin"], grant.id)  # and only ca_admin
    officer = _add(admin, "bob", ["ca_admin"], grant.id)
    assert officer.role_set == {"ca_admin"}
    with pytest.raises(approvals.ApprovalError, match="executed"):
        _add(admin, "bob2", ["ca_admin"], grant.id)
    record = AuditRecord.select().where(AuditRecord.action == "enrollment.officer.add").order_by(AuditRecord.seq)
    assert [r.details["approval_id"] for r in record] == [None, grant.id]


def test_an_expired_grant_grants_nothing(admin: Administration, clock: Any) -> None:
    grant = role_grants.propose(clock, "bob", ["ra_admin"], actor="cli:alice", required=1, ttl=TTL)
    approvals.approve(clock, grant.id, actor="cli:carol")
    clock.advance(hours=24)
    with pytest.raises(approvals.ApprovalError, match="expired"):
        _add(admin, "bob", ["ra_admin"], grant.id)


def test_cli_grant_to_an_existing_officer_with_two_approvers(
    admin: Administration, settings: Any, clock: Any, key_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``officer grant-role`` proposes, ``approvals approve`` by two other administrators
    (``approvals.required = 2``), ``officer apply-grant`` applies: each step audited."""
    _add(admin, "ewa", ["ra_officer"])
    runtime = Runtime(replace(settings, approvals=ApprovalSettings(required=2)), clock, key_store)

    def as_user(user: str, *argv: str) -> tuple[int, str]:
        monkeypatch.setattr(cli, "_user", lambda: user)
        out = io.StringIO()
        return cli.main(list(argv), out=out, runtime=runtime), out.getvalue()

    code, out = as_user("alice", "officer", "grant-role", "--username", "ewa", "--role", "ra_admin")
    assert code == 0 and "needs 2 approval(s)" in out, out
    request_id = int(out.split()[2])
    assert as_user("alice", "approvals", "approve", str(request_id))[0] != 0  # not one's own
    assert as_user("bob", "approvals", "approve", str(request_id))[0] == 0
    assert as_user("bob", "officer", "apply-grant", str(request_id))[0] != 0  # 1 of 2
    assert Officer.get(Officer.username == "ewa").role_set == {"ra_officer"}
    assert as_user("carol", "approvals", "approve", str(request_id))[0] == 0
    code, out = as_user("bob", "officer", "apply-grant", str(request_id))
    assert code == 0 and Officer.get(Officer.username == "ewa").role_set == {"ra_officer", "ra_admin"}, out
    assert as_user("bob", "officer", "apply-grant", str(request_id))[0] != 0  # once
    actions = [r.action for r in AuditRecord.select().order_by(AuditRecord.seq)]
    tail = actions[actions.index("approval.request") :]
    assert tail == [
        "approval.request",
        "approval.approve",
        "approval.approve",
        "approval.execute",
        "enrollment.officer.grant_roles",
    ]
