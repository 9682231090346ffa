"""Tables owned by access: officers, their sessions, portal clients.

They keep the names they were created with when they belonged to enrollment
(``enrollment_officer`` ...), so existing databases need no data migration
(access/migrations.py adopts them)."""

from __future__ import annotations

import peewee as pw

from core.db import BaseModel, UTCDateTimeField

ROLES = ("ra_officer", "ra_admin", "ca_admin", "auditor")
# Granting one of these needs the approval of other administrators (issue 15 item 7: dual control).
ADMINISTRATOR_ROLES = frozenset({"ra_admin", "ca_admin"})
SCOPES = ("applications", "citizens", "verify", "receipts")


class Officer(BaseModel):
    username = pw.CharField(max_length=64, unique=True)
    password_hash = pw.CharField(max_length=200)
    roles = pw.CharField(max_length=200)  # comma-separated, from ROLES
    disabled = pw.BooleanField(default=False)
    failed_logins = pw.IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    password_changed_at = UTCDateTimeField()

    class Meta:
        table_name = "enrollment_officer"

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


class OfficerSession(BaseModel):
    officer = pw.ForeignKeyField(Officer, backref="sessions", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)  # SHA-256 of the bearer token
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(index=True)
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "enrollment_officer_session"


class PortalClient(BaseModel):
    name = pw.CharField(max_length=100, unique=True)
    token_hash = pw.CharField(max_length=64, unique=True)
    scopes = pw.CharField(max_length=200)  # comma-separated, from SCOPES
    disabled = pw.BooleanField(default=False)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "enrollment_portal_client"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)


MODELS: tuple[type[pw.Model], ...] = (Officer, OfficerSession, PortalClient)
