"""Certificate profiles under dual control (issue 15 item 7; ETSI EN 319 401 §7.2 and
EN 319 411-1 §6.5 / CA/B Forum BR §5.2.2: changes to the CA's configuration under multi-person
control; EN 319 411-1 §6.6.1 profiles as part of the approved CA configuration): an edited
profile issues nothing until N administrators other than the proposer approved its exact
content, before the approval expired; each step is audited."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

import pytest

from ca import profile_control
from ca.errors import ProfileNotApprovedError
from ca.issuance import IssuancePipeline
from ca.settings import CASettings
from config import cli
from config.runtime import Runtime
from config.settings import Settings
from core import approvals
from core.audit import AuditRecord
from core.errors import ConflictError
from hsm.software import SoftwareKeyStore
from tests.ca.conftest import citizen_request, with_settings
from tests.pki import TestPKI

TTL = timedelta(hours=24)


def _edited(settings: CASettings, validity_days: int = 365) -> CASettings:
    profiles = dict(settings.profiles)
    profiles["citizen"] = dataclasses.replace(profiles["citizen"], validity_days=validity_days)
    return with_settings(settings, profiles=profiles)


def _issue(ca_pki: TestPKI, settings: CASettings) -> int:
    pipeline = IssuancePipeline(settings, ca_pki.key_store, ca_pki.clock)
    issued = pipeline.issue(citizen_request(), actor="test:officer")
    return (issued.not_after - issued.not_before).days


def test_an_edited_profile_issues_only_after_n_other_administrators_approved(ca_pki: TestPKI) -> None:
    clock, original = ca_pki.clock, ca_pki.settings
    _issue(ca_pki, _edited(original))  # nothing recorded yet (a database older than the control)
    profile_control.pin_configured(original.profiles, clock, actor="cli:alice")
    with pytest.raises(ConflictError):
        profile_control.pin_configured(original.profiles, clock, actor="cli:alice")  # once only
    _issue(ca_pki, original)
    edited = _edited(original)
    with pytest.raises(ProfileNotApprovedError):
        _issue(ca_pki, edited)
    with pytest.raises(ConflictError, match="unchanged"):
        profile_control.propose(original.profiles, clock, "citizen", actor="cli:alice", required=2, ttl=TTL)

    request = profile_control.propose(edited.profiles, clock, "citizen", actor="cli:alice", required=2, ttl=TTL)
    with pytest.raises(approvals.SelfApprovalError):
        approvals.approve(clock, request.id, actor="cli:alice")
    approvals.approve(clock, request.id, actor="cli:bob")
    with pytest.raises(approvals.ApprovalError, match="1 of 2"):
        profile_control.apply(edited.profiles, clock, request.id, actor="cli:alice")
    approvals.approve(clock, request.id, actor="cli:carol")
    with pytest.raises(ConflictError, match="not configured as approved"):
        profile_control.apply(_edited(original, 400).profiles, clock, request.id, actor="cli:alice")
    profile_control.apply(edited.profiles, clock, request.id, actor="cli:alice")
    assert _issue(ca_pki, edited) == 365
    with pytest.raises(ProfileNotApprovedError):
        _issue(ca_pki, original)  # the old content is no longer the approved one
    with pytest.raises(approvals.ApprovalError, match="executed"):
        profile_control.apply(edited.profiles, clock, request.id, actor="cli:alice")
    applied = AuditRecord.get(AuditRecord.action == "ca.profile.apply")
    assert applied.object_id == "citizen" and applied.details["approval_id"] == request.id
    assert applied.details["previous_sha256"] == profile_control.profile_digest(original.profiles["citizen"])
    assert applied.details["sha256"] == request.payload["sha256"]


def test_a_profile_change_approved_too_late_is_not_applied(ca_pki: TestPKI) -> None:
    clock, original = ca_pki.clock, ca_pki.settings
    profile_control.pin_configured(original.profiles, clock, actor="cli:alice")
    edited = _edited(original)
    request = profile_control.propose(edited.profiles, clock, "citizen", actor="cli:alice", required=1, ttl=TTL)
    approvals.approve(clock, request.id, actor="cli:bob")
    clock.advance(hours=24)
    with pytest.raises(approvals.ApprovalError, match="expired"):
        profile_control.apply(edited.profiles, clock, request.id, actor="cli:alice")
    with pytest.raises(ProfileNotApprovedError):
        _issue(ca_pki, edited)


def test_ca_init_records_the_profiles_and_the_cli_flow(
    settings: Settings, db: object, clock: object, key_store: SoftwareKeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sekap-trust init`` starts a fresh install under control; ``profile propose``,
    ``approvals approve`` (someone else), ``profile apply``."""

    def run(user: str, runtime: Runtime, *argv: str) -> tuple[int, str]:
        monkeypatch.setattr(cli, "_user", lambda: user)
        out = io.StringIO()
        return cli.main(list(argv), out=out, runtime=runtime), out.getvalue()

    runtime = Runtime(settings, clock, key_store)  # type: ignore[arg-type]
    assert run("alice", runtime, "init")[0] == 0
    code, out = run("alice", runtime, "profile", "list")
    assert code == 0 and "citizen" in out and "CHANGED" not in out and "not recorded" not in out, out
    changed = Runtime(dataclasses.replace(settings, ca=_edited(settings.ca)), clock, key_store)  # type: ignore[arg-type]
    assert "CHANGED" in run("alice", changed, "profile", "list")[1]
    code, out = run("alice", changed, "profile", "propose", "citizen")
    assert code == 0 and "needs 1 approval(s)" in out, out
    request_id = out.split()[2]
    assert run("alice", changed, "approvals", "approve", request_id)[0] != 0
    assert run("bob", changed, "approvals", "approve", request_id)[0] == 0
    assert run("alice", changed, "profile", "apply", request_id)[0] == 0
    assert "CHANGED" not in run("alice", changed, "profile", "list")[1]
