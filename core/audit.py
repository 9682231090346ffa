"""Tamper-evident audit trail: an append-only hash chain written in the caller's transaction.

Every record holds the SHA-256 of the previous one; a single ``audit_head`` row holds the last
sequence number and hash, and is locked while appending, so concurrent writers on several hosts
still form one chain. :func:`record` refuses to run outside a transaction: the change and its
record commit together or not at all. :func:`verify_chain` finds deleted, edited and truncated
records; seals (signed chain heads) pin the head so that a rewound head is caught too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import peewee as pw
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)

from core.clock import Clock
from core.db import BaseModel, JSONField, UTCDateTimeField, database, lock_row
from core.errors import InternalError
from core.signing import sign_data, verify_data

GENESIS_HASH = "0" * 64
SEAL_CONTEXT = b"sekap-trust audit seal v1"

# Personal data never enters audit details (README: refer to citizens by internal id).
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"pesel", "document_number", "id_card", "passport", "revocation_code", "code", "pin", "password", "token", "secret"}
)
_IDENTIFIER_PATTERN = re.compile(r"(PNOPL|IDCPL|PASPL)-[0-9A-Z]+|\b\d{11}\b")


class AuditError(InternalError):
    """The audit trail refused a record or cannot be sealed: a fault of the server, not of a client."""

    code = "audit_error"


class AuditRecord(BaseModel):
    seq = pw.BigIntegerField(unique=True)
    at = UTCDateTimeField()
    actor = pw.CharField(max_length=200)
    action = pw.CharField(max_length=100, index=True)
    object_type = pw.CharField(max_length=50)
    object_id = pw.CharField(max_length=200, index=True)
    outcome = pw.CharField(max_length=20)
    details = JSONField()
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64)
    # HMAC-SHA256 of ``hash`` under the chain key (a secret the database does not hold): whoever
    # can write the database but not read the key cannot recompute a consistent chain.
    mac = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "audit_record"


class AuditHead(BaseModel):
    id = pw.IntegerField(primary_key=True)
    seq = pw.BigIntegerField()
    hash = pw.CharField(max_length=64)
    # HMAC of (seq, hash): a head rewound to an earlier record (after deleting the records behind
    # it) cannot carry a valid MAC without the key.
    mac = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "audit_head"


class AuditSeal(BaseModel):
    seq = pw.BigIntegerField(index=True)
    hash = pw.CharField(max_length=64)
    at = UTCDateTimeField()
    key_label = pw.CharField(max_length=200)
    public_key = pw.BlobField()
    signature = pw.BlobField()
    timestamp_token = pw.BlobField(null=True)

    class Meta:
        table_name = "audit_seal"


MODELS: tuple[type[pw.Model], ...] = (AuditRecord, AuditHead, AuditSeal)

_key_lock = threading.Lock()
_chain_key: bytes | None = None


def configure_chain_key(key: bytes | None) -> None:
    """Set (or clear) the secret chain key for every later :func:`record` in this process; the
    composition root calls it at start-up with ``audit.chain_key`` (a secret from the environment
    or a file). Every host writing to one database must use the same key."""
    global _chain_key
    if key is not None and len(key) < 16:
        raise AuditError("the audit chain key must be at least 16 bytes")
    with _key_lock:
        _chain_key = key


def chain_key() -> bytes | None:
    with _key_lock:
        return _chain_key


def record_mac(key: bytes, digest: str) -> str:
    return hmac.new(key, b"sekap-trust audit record v1|" + digest.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.new(key, b"sekap-trust audit head v1|%d|%s" % (seq, digest.encode()), hashlib.sha256).hexdigest()


def check_details(details: Mapping[str, Any]) -> None:
    """Refuse personal data in audit details: identifiers by key name and by shape."""

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                if str(key).lower() in FORBIDDEN_DETAIL_KEYS:
                    raise AuditError(f"audit details must not contain {path}{key}")
                walk(inner, f"{path}{key}.")
        elif isinstance(value, (list, tuple)):
            for index, inner in enumerate(value):
                walk(inner, f"{path}{index}.")
        elif isinstance(value, str) and _IDENTIFIER_PATTERN.search(value):
            raise AuditError(f"audit details at {path.rstrip('.')} look like a personal identifier")

    walk(details, "")


def _digest(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    details: Any,
    prev: str,
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(), actor, action, object_type, object_id, outcome, details, prev],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    clock: Clock,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the chain inside the caller's transaction.

    Raises :class:`AuditError` outside a transaction: an audited change must commit together
    with its record.
    """
    if not database.in_transaction():
        raise AuditError("audit records are written inside the transaction of the change they describe")
    payload = dict(details or {})
    check_details(payload)
    # Round-trip through JSON so the hashed form equals what is read back.
    payload = json.loads(json.dumps(payload, sort_keys=True, default=str))
    at = clock.now()
    head = _locked_head()
    seq, prev = head.seq + 1, head.hash
    digest = _digest(seq, at, actor, action, object_type, str(object_id), outcome, payload, prev)
    key = chain_key()
    row = AuditRecord.create(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        details=payload,
        prev_hash=prev,
        hash=digest,
        mac=record_mac(key, digest) if key else None,
    )
    mac = head_mac(key, seq, digest) if key else None
    updated = (
        AuditHead.update(seq=seq, hash=digest, mac=mac)
        .where((AuditHead.id == 1) & (AuditHead.seq == head.seq))
        .execute()
    )
    if updated != 1:
        raise AuditError("audit head moved concurrently")
    return row


@dataclass(frozen=True)
class Entry:
    """One record for :func:`record_many`."""

    actor: str
    action: str
    object_type: str
    object_id: str | int
    outcome: str = "success"
    details: Mapping[str, Any] | None = None


def record_many(clock: Clock, entries: list[Entry]) -> int:
    """Append several records in the caller's transaction, locking and moving the head once
    (bulk operations: one record per certificate without one head update each). Same chain,
    same checks as :func:`record`."""
    if not database.in_transaction():
        raise AuditError("audit records are written inside the transaction of the change they describe")
    if not entries:
        return 0
    at = clock.now()
    key = chain_key()
    head = _locked_head()
    seq, prev = head.seq, head.hash
    rows = []
    for entry in entries:
        payload = dict(entry.details or {})
        check_details(payload)
        payload = json.loads(json.dumps(payload, sort_keys=True, default=str))
        seq += 1
        digest = _digest(
            seq, at, entry.actor, entry.action, entry.object_type, str(entry.object_id), entry.outcome, payload, prev
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": entry.actor,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": str(entry.object_id),
                "outcome": entry.outcome,
                "details": payload,
                "prev_hash": prev,
                "hash": digest,
                "mac": record_mac(key, digest) if key else None,
            }
        )
        prev = digest
    for start in range(0, len(rows), 200):
        AuditRecord.insert_many(rows[start : start + 200]).execute()
    mac = head_mac(key, seq, prev) if key else None
    updated = (
        AuditHead.update(seq=seq, hash=prev, mac=mac).where((AuditHead.id == 1) & (AuditHead.seq == head.seq)).execute()
    )
    if updated != 1:
        raise AuditError("audit head moved concurrently")
    return len(rows)


def _locked_head() -> AuditHead:
    """The chain head, locked for this transaction. The row is created on first use (seq 0,
    genesis hash) so that there is always a row to lock: ``FOR UPDATE`` on a missing row locks
    nothing, and two first writers would both start the chain."""
    head = lock_row(AuditHead.select().where(AuditHead.id == 1)).first()
    if head is None:
        AuditHead.insert(id=1, seq=0, hash=GENESIS_HASH).on_conflict_ignore().execute()
        head = lock_row(AuditHead.select().where(AuditHead.id == 1)).first()
    assert isinstance(head, AuditHead)
    return head


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # deleted | edited | broken_link | truncated | head_rewound | unkeyed | bad_seal
    message: str


@dataclass(frozen=True)
class ChainReport:
    records: int
    head_seq: int
    seals_checked: int
    problems: list[AuditProblem] = field(default_factory=list)
    # Whether record and head MACs were checked (a chain key was given and the chain is keyed).
    keyed: bool = False
    last_seal_at: datetime | None = None
    last_seal_seq: int = 0
    seals_timestamped: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def seal_age(self, now: datetime) -> timedelta | None:
        return None if self.last_seal_at is None else now - self.last_seal_at


def _records() -> Iterator[AuditRecord]:
    last = 0
    while True:
        batch = list(AuditRecord.select().where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(5000))
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify_chain(
    public_keys: Mapping[str, CertificateIssuerPublicKeyTypes] | None = None, key: bytes | None = None
) -> ChainReport:
    """Walk the whole chain and report every deleted, edited or truncated record.

    ``public_keys`` maps seal key labels to the keys known from the key store; a seal whose stored
    public key differs from it is reported, so replacing seal and key together is caught.
    With the chain ``key``, record and head MACs are checked too: a chain recomputed after the
    last seal, and a head rewound after deleting the newest records, are reported.
    """
    problems: list[AuditProblem] = []
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    hashes: dict[int, str] = {}
    keyed_from: int | None = None
    for row in _records():
        if key is not None:
            keyed_from = _check_mac(row, key, keyed_from, problems)
        count += 1
        if row.seq != expected_seq:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}..{row.seq - 1}"
            problems.append(AuditProblem(expected_seq, "deleted", f"record(s) {missing} missing"))
        elif row.prev_hash != prev:
            problems.append(
                AuditProblem(row.seq, "broken_link", f"record {row.seq} does not follow record {row.seq - 1}")
            )
        recomputed = _digest(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.object_type,
            row.object_id,
            row.outcome,
            row.details,
            row.prev_hash,
        )
        if recomputed != row.hash:
            problems.append(AuditProblem(row.seq, "edited", f"record {row.seq} was modified after it was written"))
        hashes[row.seq] = row.hash
        prev = row.hash
        expected_seq = row.seq + 1
    head = AuditHead.get_or_none(AuditHead.id == 1)
    last_seq = expected_seq - 1
    problems.extend(_head_problems(head, count, last_seq, prev, key if keyed_from is not None else None))
    seals, stamped, last_seal = _check_seals(hashes, last_seq, public_keys or {}, problems)
    return ChainReport(
        records=count,
        head_seq=head.seq if head else 0,
        seals_checked=seals,
        problems=problems,
        keyed=keyed_from is not None,
        last_seal_at=last_seal.at if last_seal else None,
        last_seal_seq=last_seal.seq if last_seal else 0,
        seals_timestamped=stamped,
    )


def _check_seals(
    hashes: Mapping[int, str],
    last_seq: int,
    known: Mapping[str, CertificateIssuerPublicKeyTypes],
    problems: list[AuditProblem],
) -> tuple[int, int, AuditSeal | None]:
    """Check every seal; return how many there are, how many carry a token, and the newest."""
    seals, stamped, last_seal = 0, 0, None
    for seal in AuditSeal.select().order_by(AuditSeal.seq, AuditSeal.id):
        seals += 1
        stamped += seal.timestamp_token is not None
        problems.extend(_check_seal(seal, hashes, last_seq, known))
        if last_seal is None or seal.at >= last_seal.at:
            last_seal = seal
    return seals, stamped, last_seal


def _head_problems(
    head: AuditHead | None, count: int, last_seq: int, last_hash: str, key: bytes | None
) -> list[AuditProblem]:
    """The head must exist, match the last record, and (keyed chain) carry a valid MAC."""
    problems = []
    if head is None:
        if count:
            problems.append(AuditProblem(last_seq, "truncated", "the chain head is missing"))
        return problems
    if key is not None and not _head_mac_ok(head, key):
        problems.append(
            AuditProblem(
                head.seq,
                "head_rewound",
                f"the chain head at {head.seq} was not written with the chain key (rewound or forged)",
            )
        )
    if head.seq > last_seq:
        problems.append(
            AuditProblem(last_seq + 1, "truncated", f"records {last_seq + 1}..{head.seq} missing at the end")
        )
    elif head.seq == last_seq and head.hash != last_hash:
        problems.append(AuditProblem(last_seq, "edited", f"record {last_seq} does not match the chain head"))
    return problems


def _head_mac_ok(head: AuditHead, key: bytes) -> bool:
    return head.mac is not None and hmac.compare_digest(head.mac, head_mac(key, head.seq, head.hash))


def _check_mac(row: AuditRecord, key: bytes, keyed_from: int | None, problems: list[AuditProblem]) -> int | None:
    """Check one record's MAC; once the chain is keyed, every later record must carry one."""
    if row.mac is None:
        if keyed_from is not None:
            problems.append(AuditProblem(row.seq, "unkeyed", f"record {row.seq} has no MAC in a keyed chain"))
        return keyed_from
    if not hmac.compare_digest(row.mac, record_mac(key, row.hash)):
        problems.append(
            AuditProblem(row.seq, "edited", f"record {row.seq} was rewritten (its MAC does not match the chain key)")
        )
    return row.seq if keyed_from is None else keyed_from


def last_seal() -> AuditSeal | None:
    """The newest seal (by its time)."""
    row: AuditSeal | None = AuditSeal.select().order_by(AuditSeal.at.desc(), AuditSeal.id.desc()).first()
    return row


def oldest_unsealed_at() -> datetime | None:
    """When the oldest record not covered by any seal was written (None: everything is sealed)."""
    newest = last_seal()
    query = AuditRecord.select(AuditRecord.at).order_by(AuditRecord.seq)
    if newest is not None:
        query = query.where(AuditRecord.seq > newest.seq)
    row = query.first()
    return row.at if row is not None else None


def _seal_message(seq: int, digest: str, at: datetime) -> bytes:
    return b"|".join([SEAL_CONTEXT, str(seq).encode(), digest.encode(), at.isoformat().encode()])


def _check_seal(
    seal: AuditSeal, hashes: Mapping[int, str], last_seq: int, known: Mapping[str, CertificateIssuerPublicKeyTypes]
) -> list[AuditProblem]:
    problems = []
    if seal.seq > last_seq:
        problems.append(AuditProblem(seal.seq, "truncated", f"seal covers record {seal.seq}, which is missing"))
    elif hashes.get(seal.seq) != seal.hash:
        problems.append(AuditProblem(seal.seq, "edited", f"record {seal.seq} differs from the sealed chain head"))
    public_key = serialization.load_der_public_key(bytes(seal.public_key))
    expected = known.get(seal.key_label)
    if expected is not None and _spki(expected) != bytes(seal.public_key):
        problems.append(
            AuditProblem(seal.seq, "bad_seal", f"seal at {seal.seq} was not made with key {seal.key_label}")
        )
    try:
        verify_data(public_key, bytes(seal.signature), _seal_message(seal.seq, seal.hash, seal.at))  # type: ignore[arg-type]
    except InvalidSignature:
        problems.append(AuditProblem(seal.seq, "bad_seal", f"seal at {seal.seq} has an invalid signature"))
    return problems


def _spki(key: CertificateIssuerPublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def seal(
    clock: Clock,
    key: CertificateIssuerPrivateKeyTypes,
    key_label: str,
    *,
    actor: str,
    timestamp: Callable[[bytes], bytes | None] | None = None,
) -> AuditSeal:
    """Sign the current chain head, have the signature timestamped, and record the seal.

    ``timestamp`` gets the signed message and returns an RFC 3161 token over it (our TSA), or
    None when no token can be had; it runs before the seal's transaction, because the TSA records
    its token in a transaction of its own. Any record added meanwhile is simply not covered by
    this seal (the seal names the head it read)."""
    head = AuditHead.get_or_none(AuditHead.id == 1)
    if head is None or head.seq == 0:
        raise AuditError("the audit trail is empty; nothing to seal")
    at = clock.now()
    message = _seal_message(head.seq, head.hash, at)
    signature = sign_data(key, message)
    token = timestamp(message) if timestamp is not None else None
    with database.atomic():
        row = AuditSeal.create(
            seq=head.seq,
            hash=head.hash,
            at=at,
            key_label=key_label,
            public_key=_spki(key.public_key()),
            signature=signature,
            timestamp_token=token,
        )
        record(
            clock,
            actor=actor,
            action="audit.seal",
            object_type="audit_seal",
            object_id=row.id,
            details={"seq": head.seq, "key_label": key_label, "timestamped": token is not None},
        )
    return row


def seal_message(seal_row: AuditSeal) -> bytes:
    """The bytes a seal's signature and timestamp token cover."""
    return _seal_message(seal_row.seq, seal_row.hash, seal_row.at)
