"""Dual control for certificate profiles (issue 15 item 7).

Profiles live in the settings (``[ca.profiles.<name>]``), so a change is an edit of the
configuration. What the database holds is the approved content of each profile: the SHA-256 of
its canonical settings (:func:`profile_digest`). Issuance refuses a profile whose configured
content differs from the approved one, or a profile added without approval, with
:class:`~ca.errors.ProfileNotApprovedError`; so an edited profile is used only once
``required`` administrators other than the proposer approved that exact content:

1. an administrator deploys the edited configuration and runs ``sekap-trust profile propose
   NAME``: an approval request (:mod:`core.approvals`, kind ``ca.profile_change``) holding the
   new settings and their digest, and the digest approved so far;
2. other administrators ``sekap-trust approvals approve ID`` within the expiry (24 h default);
3. ``sekap-trust profile apply ID`` records the new digest, in the transaction that marks the
   request executed and writes the audit record, if the configuration still holds exactly
   what was approved.

Creating the hierarchy records the profiles configured then (:func:`pin_configured`): a fresh
install starts under control. A database where nothing was ever recorded (one older than this
control) is not checked until ``sekap-trust profile pin`` records the profiles once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ca.errors import ProfileNotApprovedError, ProfileNotFoundError
from ca.models import ProfileApproval
from ca.profiles import ProfileSettings
from core import approvals, audit
from core.clock import Clock
from core.db import atomic
from core.errors import ConflictError

KIND = "ca.profile_change"


def profile_settings(profile: ProfileSettings) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(profile).items()}


def profile_digest(profile: ProfileSettings) -> str:
    canonical = json.dumps(profile_settings(profile), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def approved_digests() -> dict[str, str]:
    return {row.name: row.sha256 for row in ProfileApproval.select(ProfileApproval.name, ProfileApproval.sha256)}


def check(name: str, profile: ProfileSettings) -> None:
    """Refuse ``profile`` unless its content is the approved one (one query; issuance calls it)."""
    approved = approved_digests()
    if approved and approved.get(name) != profile_digest(profile):
        raise ProfileNotApprovedError(name)


def pin_configured(profiles: Mapping[str, ProfileSettings], clock: Clock, *, actor: str) -> list[str]:
    """Record the configured profiles as approved, once: only while nothing is recorded (the
    hierarchy being created, or an older database taken under control). Audited."""
    with atomic():
        if ProfileApproval.select().exists():
            raise ConflictError("certificate profiles are already recorded; changes need approval (profile propose)")
        now = clock.now()
        for name, profile in sorted(profiles.items()):
            digest = profile_digest(profile)
            ProfileApproval.create(name=name, sha256=digest, approval_id=None, approved_at=now, approved_by=actor)
        audit.record(
            clock,
            actor=actor,
            action="ca.profiles.pin",
            object_type="ca_profile",
            object_id="*",
            details={name: profile_digest(p) for name, p in sorted(profiles.items())},
        )
    return sorted(profiles)


def _configured(profiles: Mapping[str, ProfileSettings], name: str) -> ProfileSettings:
    try:
        return profiles[name]
    except KeyError:
        raise ProfileNotFoundError(name) from None


def propose(
    profiles: Mapping[str, ProfileSettings],
    clock: Clock,
    name: str,
    *,
    actor: str,
    required: int,
    ttl: timedelta = approvals.DEFAULT_TTL,
) -> approvals.ApprovalRequest:
    """Ask for approval of the configured content of profile ``name`` (audited)."""
    profile = _configured(profiles, name)
    digest = profile_digest(profile)
    previous = approved_digests().get(name)
    if previous == digest:
        raise ConflictError(f"certificate profile {name!r} is unchanged: nothing to approve")
    payload = {"profile": name, "sha256": digest, "previous_sha256": previous, "settings": profile_settings(profile)}
    return approvals.request(clock, KIND, payload, actor=actor, required=required, ttl=ttl)


def apply(profiles: Mapping[str, ProfileSettings], clock: Clock, approval_id: int, *, actor: str) -> str:
    """Record the approved content of a profile; the profile's name. The configuration must
    hold exactly what was approved (an edit after the proposal needs a new one)."""
    with atomic():
        request = approvals.check_approved(clock, approval_id, KIND)
        name = str(request.payload["profile"])
        digest = profile_digest(_configured(profiles, name))
        if digest != request.payload["sha256"]:
            raise ConflictError(f"certificate profile {name!r} is not configured as approved in request {approval_id}")
        approvals.consume(clock, approval_id, KIND, actor=actor)
        row = ProfileApproval.get_or_none(ProfileApproval.name == name)
        previous = row.sha256 if row is not None else None
        if row is None:
            row = ProfileApproval(name=name)
        row.sha256, row.approval_id, row.approved_at, row.approved_by = digest, approval_id, clock.now(), actor
        row.save()
        audit.record(
            clock,
            actor=actor,
            action="ca.profile.apply",
            object_type="ca_profile",
            object_id=name,
            details={"sha256": digest, "previous_sha256": previous, "approval_id": approval_id},
        )
    return name
