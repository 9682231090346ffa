"""CRLs (RFC 5280 §5): a full CRL per CA and delta CRLs, numbered from one per-CA sequence.

- Numbers come from ``ca_crl_counter``, locked for the whole build (row lock on PostgreSQL, the
  IMMEDIATE write lock on SQLite), so they strictly increase under concurrency and clock steps.
- The revoked list is read with a streaming (keyset-paginated) query and encoded in one pass
  (:mod:`ca.der`); the TBSCertList is signed with the CA key and the result checked.
- Entries stay until the certificate expires (BR §4.9.7 / RFC 5280 §3.3); holds carry
  certificateHold; delta CRLs list changes since their base, resumed certificates with
  removeFromCRL (§5.3.1), and carry a critical Delta CRL Indicator (§5.2.4).
- :meth:`CRLPublisher.publish_due` (a job) publishes after status changes, within
  ``ca.crl.publish_within_seconds``, and before half of the current CRL's validity has passed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from ca import der
from ca.errors import AuthorityNotFoundError
from ca.hierarchy import authority, load_certificate
from ca.models import CRL, Authority, Certificate, CRLCounter, StatusCounter
from ca.settings import CRL_JOB_INTERVAL_SECONDS, CASettings
from ca.status import reason_flag
from core import audit
from core.clock import Clock
from core.db import atomic, database, is_postgres, lock_row
from core.signing import sign_data, signature_algorithm
from hsm.base import KeyStore

logger = logging.getLogger(__name__)

PAGE_SIZE = 50_000
HOLD = "certificateHold"
# DER of the reasonCode entry extensions (RFC 5280 §5.3.1), precomputed for the hot loop.
# "unspecified" is left out: the extension SHOULD be absent rather than carry unspecified (0).
_REASON_EXTENSION = {
    name: der.extension(x509.CRLReason(flag))
    for name, flag in (
        (n, reason_flag(n))
        for n in (
            "keyCompromise",
            "cACompromise",
            "affiliationChanged",
            "superseded",
            "cessationOfOperation",
            "certificateHold",
            "removeFromCRL",
            "privilegeWithdrawn",
            "aACompromise",
        )
    )
    if flag is not None
}
_REASON_EXTENSIONS = {name: der.sequence(ext) for name, ext in _REASON_EXTENSION.items()}


def _entry(serial_hex: str, when: object, reason: str | None, invalidity: object | None) -> bytes:
    """One revokedCertificates entry: serial, revocationDate, crlEntryExtensions."""
    body = der.integer_from_hex(serial_hex) + der.time_from_db(when)
    if invalidity is not None:
        # RFC 5280 §5.3.2 invalidityDate (a GeneralizedTime)
        inv = invalidity if isinstance(invalidity, datetime) else datetime.fromisoformat(str(invalidity))
        body += der.sequence(
            _REASON_EXTENSION.get(reason or "", b""), der.extension(x509.InvalidityDate(inv.replace(tzinfo=None)))
        )
    elif reason in _REASON_EXTENSIONS:
        body += _REASON_EXTENSIONS[reason]
    size = len(body)
    if size < 0x80:  # the usual case: skip the general length encoder
        return bytes((der.TAG_SEQUENCE, size)) + body
    return der.tlv(der.TAG_SEQUENCE, body)


@dataclass(frozen=True)
class CRLBuild:
    der: bytes
    entries: int


def assemble_crl(
    *,
    issuer: x509.Certificate,
    key: CertificateIssuerPrivateKeyTypes,
    number: int,
    this_update: datetime,
    next_update: datetime,
    entries: Iterator[bytes],
    delta_base: int | None = None,
    freshest_url: str | None = None,
    sign: Callable[[bytes], bytes] | None = None,
) -> CRLBuild:
    """Assemble and sign a v2 CRL from already-encoded entries, in one pass (RFC 5280 §5.1).

    The entries go straight into one buffer after a reserved gap; the TBSCertList and
    CertificateList headers, whose lengths are known only at the end, are written into that gap
    and the unused front is dropped (O(1) for a bytearray), so a million entries are held about
    twice (buffer + final bytes), never copied per entry."""
    extensions = _crl_extensions(issuer, number, delta_base, freshest_url)
    algorithm = signature_algorithm(key)
    head = b"".join(
        (
            b"\x02\x01\x01",  # version v2
            algorithm,
            issuer.subject.public_bytes(),
            der.time(this_update),
            der.time(next_update),
        )
    )
    tail = der.tlv(0xA0, der.sequence(*extensions))
    gap = len(head) + 64  # room for head + three headers of at most 6 octets each (+ slack)
    buf = bytearray(gap)
    count = 0
    for entry in entries:
        buf += entry
        count += 1
    revoked_len = len(buf) - gap
    prefix = head + (bytes((der.TAG_SEQUENCE,)) + der.length(revoked_len) if count else b"")
    tbs_len = len(prefix) + revoked_len + len(tail)
    tbs_header = bytes((der.TAG_SEQUENCE,)) + der.length(tbs_len)
    tbs_start = gap - len(prefix) - len(tbs_header)
    buf[tbs_start:gap] = tbs_header + prefix
    buf += tail
    tbs_view = memoryview(buf)[tbs_start:]
    signature = (sign or (lambda data: sign_data(key, data)))(bytes(tbs_view) if sign else tbs_view)  # type: ignore[arg-type]
    tbs_view.release()
    trailer = algorithm + der.tlv(der.TAG_BIT_STRING, b"\x00" + signature)
    outer_header = bytes((der.TAG_SEQUENCE,)) + der.length(len(buf) - tbs_start + len(trailer))
    start = tbs_start - len(outer_header)
    buf[start:tbs_start] = outer_header
    del buf[:start]
    buf += trailer
    crl = bytes(buf)
    del buf
    return CRLBuild(crl, count)


def _crl_extensions(
    issuer: x509.Certificate, number: int, delta_base: int | None, freshest_url: str | None
) -> list[bytes]:
    """crlExtensions (RFC 5280 §5.2): AKI, CRL number, and the delta indicator on a delta CRL or
    the freshest-CRL pointer on a full one."""
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    extensions = [
        der.extension(x509.AuthorityKeyIdentifier(ski, None, None)),  # §5.2.1
        der.extension(x509.CRLNumber(number)),  # §5.2.3
    ]
    if delta_base is not None:
        extensions.append(der.extension(x509.DeltaCRLIndicator(delta_base), critical=True))  # §5.2.4
    elif freshest_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(freshest_url)], None, None, None)
        extensions.append(der.extension(x509.FreshestCRL([point])))  # §5.2.6
    return extensions


@dataclass(frozen=True)
class _Built:
    """A signed CRL of :meth:`CRLPublisher.publish`, before it is stored."""

    der: bytes
    entries: int
    number: int
    this_update: datetime
    next_update: datetime


def newest_full_crl_times() -> dict[str, datetime]:
    """thisUpdate of the newest full CRL of every CA (for monitoring)."""
    times: dict[str, datetime] = {}
    rows = CRL.select(CRL.this_update, Authority.name).join(Authority).where(CRL.kind == "full").order_by(CRL.number)
    for row in rows:
        times[row.issuer.name] = row.this_update
    return times


def latest(issuer: Authority, kind: str, *, with_der: bool = True) -> CRL | None:
    """The newest CRL of ``kind``; ``with_der=False`` leaves out the (possibly 50 MB) body."""
    fields = [f for f in CRL._meta.sorted_fields if with_der or f.name != "der"]
    row: CRL | None = (
        CRL.select(*fields).where((CRL.issuer == issuer) & (CRL.kind == kind)).order_by(CRL.number.desc()).first()
    )
    return row


def crl_der(crl_id: int) -> bytes:
    return bytes(CRL.select(CRL.der).where(CRL.id == crl_id).scalar())


def _stream(query: object) -> Iterator[tuple[object, ...]]:
    """Rows of ``query`` in batches without holding them all: a server-side (named) cursor on
    PostgreSQL, the natively incremental cursor on SQLite. Raw values, no model objects."""
    if is_postgres():
        sql, params = query.sql()  # type: ignore[attr-defined]
        # DECLARE/FETCH: a server-side cursor inside the caller's transaction (publish() runs in
        # atomic(); psycopg2's named cursors do not see peewee's explicit BEGIN).
        name = f"sekap_crl_{secrets.token_hex(6)}"
        database.execute_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", params)
        try:
            while rows := database.execute_sql(f"FETCH {PAGE_SIZE} FROM {name}").fetchall():
                yield from rows
        finally:
            database.execute_sql(f"CLOSE {name}")
        return
    cursor = database.execute(query)
    while rows := cursor.fetchmany(PAGE_SIZE):
        yield from rows


def _full_entries(issuer_id: int, at: datetime) -> Iterator[bytes]:
    """Revoked and held certificates of ``issuer`` that have not expired at ``at``, streamed."""
    # Times as text ("YYYY-MM-DD HH:MM:SS[.ffffff]", naive UTC) on both databases: the DER
    # encoder slices them instead of building a datetime per entry.
    query = Certificate.select(
        Certificate.serial,
        Certificate.revocation_reason,
        Certificate.revoked_at.cast("text"),
        Certificate.invalidity_date,
    ).where(
        (Certificate.issuer == issuer_id)
        & Certificate.revocation_reason.is_null(False)
        & (Certificate.not_after > at)
        & (Certificate.state != "failed")
    )
    for serial, reason, revoked_at, invalidity in _stream(query):
        yield _entry(str(serial), revoked_at, reason, invalidity)  # type: ignore[arg-type]


def _delta_entries(issuer_id: int, since: datetime, at: datetime) -> Iterator[bytes]:
    query = (
        Certificate.select(
            Certificate.serial,
            Certificate.revocation_reason,
            Certificate.revoked_at,
            Certificate.invalidity_date,
            Certificate.status_changed_at,
        )
        .where(
            (Certificate.issuer == issuer_id)
            & (Certificate.status_changed_at > since)
            & (Certificate.not_after > at)
            & (Certificate.state != "failed")
        )
        .order_by(Certificate.id)
    )
    for serial, reason, revoked_at, invalidity, changed_at in database.execute(query).fetchall():
        if reason is None:
            # Resumed after the base CRL (or suspended and resumed since): RFC 5280 §5.3.1 removeFromCRL.
            yield _entry(serial, changed_at, "removeFromCRL", None)
        else:
            yield _entry(serial, revoked_at, reason, invalidity)


def status_changes(issuer_id: int) -> int:
    """The CA's status-change counter (see :func:`ca.revocation.count_change`)."""
    row = StatusCounter.select(StatusCounter.changes).where(StatusCounter.issuer == issuer_id).first()
    return int(row.changes) if row is not None else 0


def _changed_count(issuer_id: int, since: datetime) -> int:
    return int(
        Certificate.select().where((Certificate.issuer == issuer_id) & (Certificate.status_changed_at > since)).count()
    )


class CRLPublisher:
    def __init__(self, settings: CASettings, key_store: KeyStore, clock: Clock) -> None:
        self.settings = settings
        self.key_store = key_store
        self.clock = clock

    def _ca(self, name: str) -> Authority:
        row = authority(name)
        if row.role not in ("root", "issuing"):
            raise AuthorityNotFoundError(name)
        return row

    def cas(self) -> list[Authority]:
        return list(Authority.select().where(Authority.role.in_(("root", "issuing"))).order_by(Authority.id))

    def publish(
        self, name: str, *, kind: str = "full", actor: str, only_if: Callable[[Authority], bool] | None = None
    ) -> CRL | None:
        """Build, sign and store a new CRL for CA ``name`` (``full`` or ``delta``). With
        ``only_if``, the condition is re-checked under the counter lock (several hosts)."""
        if kind not in ("full", "delta"):
            raise ValueError("kind is full or delta")
        row = self._ca(name)
        issuer_cert = load_certificate(row)
        key = self.key_store.find(row.key_label)
        CRLCounter.insert(issuer=row, last_number=0).on_conflict_ignore().execute()
        with atomic():
            counter = lock_row(CRLCounter.select().where(CRLCounter.issuer == row)).first()
            if only_if is not None and not only_if(row):
                return None
            base = latest(row, "full", with_der=False) if kind == "delta" else None
            if kind == "delta" and base is None:
                raise AuthorityNotFoundError(f"{name} (no full CRL to base a delta on)")
            last = CRL.select(CRL.number).where(CRL.issuer == row).order_by(CRL.number.desc()).first()
            number = max(counter.last_number, last.number if last else 0) + 1
            CRLCounter.update(last_number=number).where(CRLCounter.id == counter.id).execute()
            snapshot_at = self.clock.now()
            # Read before the entries: a change committed in between is published now and again later.
            changes = status_changes(row.id)
            built = self._build(row, issuer_cert, key, number, base, snapshot_at)
            saved = self._store(row, kind, base, built, snapshot_at=snapshot_at, changes=changes, actor=actor)
        logger.info("published %s CRL %s of %s with %s entries", kind, number, name, built.entries)
        return saved

    def _build(
        self,
        row: Authority,
        issuer_cert: x509.Certificate,
        key: CertificateIssuerPrivateKeyTypes,
        number: int,
        base: CRL | None,
        snapshot_at: datetime,
    ) -> _Built:
        """Sign the CRL as of ``snapshot_at`` (a delta one on ``base``) and check the signature."""
        now = snapshot_at.replace(microsecond=0)  # DER times have whole seconds
        next_update = now + timedelta(hours=self.settings.crl.next_update_hours)
        if base is not None:
            margin = timedelta(seconds=self.settings.crl.change_margin_seconds)
            entries = _delta_entries(row.id, base.snapshot_at - margin, snapshot_at)
        else:
            entries = _full_entries(row.id, snapshot_at)
        built = assemble_crl(
            issuer=issuer_cert,
            key=key,
            number=number,
            this_update=now,
            next_update=next_update,
            entries=entries,
            delta_base=base.number if base is not None else None,
            freshest_url=self.settings.delta_crl_url(row.name) if self.settings.crl.delta else None,
        )
        crl = x509.load_der_x509_crl(built.der)
        if not crl.is_signature_valid(issuer_cert.public_key()):  # type: ignore[arg-type]
            raise ValueError("the CRL signature does not verify")
        return _Built(built.der, built.entries, number, now, next_update)

    def _store(
        self,
        row: Authority,
        kind: str,
        base: CRL | None,
        built: _Built,
        *,
        snapshot_at: datetime,
        changes: int,
        actor: str,
    ) -> CRL:
        """Keep the CRL with what later scheduling compares against, and audit it."""
        margin = timedelta(seconds=self.settings.crl.change_margin_seconds)
        digest = hashlib.sha256(built.der).hexdigest()
        saved: CRL = CRL.create(
            issuer=row,
            number=built.number,
            kind=kind,
            base_number=base.number if base is not None else None,
            this_update=built.this_update,
            next_update=built.next_update,
            snapshot_at=snapshot_at,
            changed_in_margin=_changed_count(row.id, snapshot_at - margin),
            status_changes=changes,
            entries=built.entries,
            der=built.der,
            sha256=digest,
        )
        audit.record(
            self.clock,
            actor=actor,
            action="crl.publish",
            object_type="crl",
            object_id=f"{row.name}:{built.number}",
            details={
                "kind": kind,
                "number": built.number,
                "entries": built.entries,
                "sha256": digest,
                "base_number": saved.base_number,
                "next_update": built.next_update.isoformat(),
            },
        )
        return saved

    # -- scheduling ----------------------------------------------------------------------------

    def changed_since(self, issuer: Authority, crl: CRL) -> bool:
        """A status change this CRL does not show: counted after its snapshot (clock-independent),
        or stamped after its snapshot, or committed late within the margin before it (then the
        count of changes in that window grew) — the last two also catch changes made without
        :class:`ca.revocation.RevocationService`."""
        if status_changes(issuer.id) > crl.status_changes:
            return True
        if (
            Certificate.select()
            .where((Certificate.issuer == issuer) & (Certificate.status_changed_at >= crl.snapshot_at))
            .exists()
        ):
            return True
        margin = timedelta(seconds=self.settings.crl.change_margin_seconds)
        return _changed_count(issuer.id, crl.snapshot_at - margin) > crl.changed_in_margin

    def _due(self, issuer: Authority, kind: str) -> bool:
        now = self.clock.now()
        current = latest(issuer, kind, with_der=False)
        if current is None:
            return True
        if now >= current.this_update + (current.next_update - current.this_update) / 2:
            return True  # before half its validity (BR §4.9.7 practice)
        if kind == "delta":
            base = latest(issuer, "full", with_der=False)
            if base is not None and current.base_number != base.number:
                return True
        elif not self.settings.crl.full_on_change:
            return False
        quiet = timedelta(seconds=max(0, self.settings.crl.publish_within_seconds - CRL_JOB_INTERVAL_SECONDS))
        # After a clock step back (now before thisUpdate) the quiet period cannot be measured:
        # publish on change at once rather than wait for the clock to catch up.
        settled = now < current.this_update or now - current.this_update >= quiet
        return settled and self.changed_since(issuer, current)

    def publish_due(self, *, actor: str = "system:jobs") -> list[str]:
        """Publish every CRL that is due; returns ``name:kind:number`` of each one published."""
        done = []
        for issuer in self.cas():
            kinds = ("full", "delta") if self.settings.crl.delta else ("full",)
            for kind in kinds:
                if self._due(issuer, kind):
                    crl = self.publish(issuer.name, kind=kind, actor=actor, only_if=partial(self._due, kind=kind))
                    if crl is not None:
                        done.append(f"{issuer.name}:{kind}:{crl.number}")
        return done
