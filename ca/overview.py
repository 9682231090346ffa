"""A read-only overview of the hierarchy for operators: who signs what, until when, how fresh the
CRLs are. Part of the CA's public read interface (the admin pages use it; no one else needs
``ca.models`` for this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ca.crl import latest
from ca.models import Authority


@dataclass(frozen=True)
class CRLSummary:
    kind: str  # "full" | "delta"
    number: int
    this_update: datetime
    next_update: datetime
    entries: int


@dataclass(frozen=True)
class AuthoritySummary:
    name: str
    role: str  # root | issuing | ocsp | tsa | audit
    parent: str | None
    subject: str
    serial: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str
    crls: tuple[CRLSummary, ...]


def _crls(row: Authority) -> tuple[CRLSummary, ...]:
    if row.role not in ("root", "issuing"):
        return ()
    found = []
    for kind in ("full", "delta"):
        crl = latest(row, kind, with_der=False)
        if crl is not None:
            found.append(CRLSummary(kind, crl.number, crl.this_update, crl.next_update, crl.entries))
    return tuple(found)


def hierarchy_overview() -> tuple[AuthoritySummary, ...]:
    """Every CA and signer, parents before children, each with its newest CRLs."""
    rows = list(Authority.select().order_by(Authority.id))
    names: dict[int, str] = {row.id: row.name for row in rows}
    return tuple(
        AuthoritySummary(
            name=row.name,
            role=row.role,
            # The foreign key's raw id: row.parent would load each parent again.
            parent=names.get(getattr(row, "parent_id", None) or 0),
            subject=row.subject,
            serial=row.serial,
            not_before=row.not_before,
            not_after=row.not_after,
            fingerprint_sha256=row.fingerprint_sha256,
            crls=_crls(row),
        )
        for row in rows
    )
