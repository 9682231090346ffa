"""The anchored audit trail: sealing (audit key + our TSA) as a job and a command, and the
readiness check on the age of the last seal."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from ca.errors import AuthorityNotFoundError
from ca.hierarchy import authority, load_certificate
from config.runtime import Runtime
from core import audit
from core.errors import SekapError
from core.job_runs import JobResult
from tsa.query import TimeStampQuery
from tsa.service import TimeStampService

logger = logging.getLogger(__name__)

SHA256_OID = "2.16.840.1.101.3.4.2.1"


def audit_public_keys() -> dict[str, object]:
    try:
        row = authority("audit")
    except AuthorityNotFoundError:
        return {}
    return {row.key_label: load_certificate(row).public_key()}


def chain_key(runtime: Runtime) -> bytes | None:
    key = runtime.settings.audit.chain_key
    return key.encode("utf-8") if key else None


def _timestamper(runtime: Runtime) -> TimeStampService | None:
    try:
        authority(runtime.settings.ca.tsa.name)
    except AuthorityNotFoundError:
        return None
    return TimeStampService(
        runtime.settings.tsa, runtime.settings.ca.tsa.name, lambda: runtime.key_store, runtime.clock
    )


def seal_now(runtime: Runtime, *, actor: str) -> audit.AuditSeal:
    """Seal the chain head with the audit key and an RFC 3161 token from our TSA over the
    seal. A TSA that cannot answer (clock not synchronised, no TSA yet) does not stop the seal:
    the seal is stored without a token and ``audit verify`` counts it."""
    row = authority("audit")
    key = runtime.key_store.find(row.key_label)
    service = _timestamper(runtime)

    def timestamp(message: bytes) -> bytes | None:
        if service is None:
            return None
        query = TimeStampQuery(
            hash_oid=SHA256_OID,
            hash_algorithm="sha256",
            hash_params_null=False,
            imprint=hashlib.sha256(message).digest(),
            policy=None,
            nonce=secrets.randbits(63),
            cert_req=True,
        )
        try:
            return service.issue(query)
        except SekapError as exc:
            logger.warning("audit seal without a timestamp: the TSA refused (%s)", exc.code)
            return None

    return audit.seal(runtime.clock, key, row.key_label, actor=actor, timestamp=timestamp)


def seal_due(runtime: Runtime, now: datetime) -> bool:
    """Due when records exist that no seal covers and the last seal is an interval old."""
    if audit.oldest_unsealed_at() is None:
        return False
    last = audit.last_seal()
    interval = timedelta(seconds=runtime.settings.audit.seal_interval_seconds)
    return last is None or now - last.at >= interval


def seal_job(runtime: Runtime) -> str:
    if not seal_due(runtime, runtime.clock.now()):
        return "not due"
    try:
        row = seal_now(runtime, actor="system:jobs")
    except AuthorityNotFoundError:
        return "no audit key yet (no CA hierarchy)"
    stamped = "timestamped" if row.timestamp_token is not None else "NOT timestamped"
    return f"sealed the audit chain at record {row.seq} ({stamped})"


def seal_staleness(runtime: Runtime, now: datetime) -> str | None:
    """Why the trail counts as unanchored for /readyz, or None: records older than two seal
    intervals that no seal covers (a fresh install with no records is fine)."""
    oldest = audit.oldest_unsealed_at()
    if oldest is None:
        return None
    limit = timedelta(seconds=2 * runtime.settings.audit.seal_interval_seconds)
    last = audit.last_seal()
    if last is not None and now - last.at <= limit:
        return None
    if last is None and now - oldest <= limit:
        return None
    since = "never sealed" if last is None else f"last seal {int((now - last.at).total_seconds())} s ago"
    return f"stale: {since}, limit {int(limit.total_seconds())} s"


def seal_token_problems(runtime: Runtime) -> list[audit.AuditProblem]:
    """Check every seal's RFC 3161 token: it covers this seal's message (messageImprint), its
    messageDigest matches its TSTInfo, and our TSA's key signed it (RFC 3161 §2.4.2, RFC 5652
    §5.4). A seal without a token is not a problem here (``audit verify`` counts them)."""
    try:
        row = authority(runtime.settings.ca.tsa.name)
    except AuthorityNotFoundError:
        return []
    tsa_key = load_certificate(row).public_key()
    problems = []
    for seal in audit.AuditSeal.select().where(audit.AuditSeal.timestamp_token.is_null(False)):
        why = _token_problem(bytes(seal.timestamp_token or b""), audit.seal_message(seal), tsa_key)
        if why:
            problems.append(audit.AuditProblem(seal.seq, "bad_timestamp", f"seal {seal.id}: {why}"))
    return problems


def _token_problem(token: bytes, message: bytes, tsa_key: object) -> str | None:
    from asn1crypto import cms
    from cryptography.exceptions import InvalidSignature

    from core.signing import verify_data

    try:
        signed = cms.ContentInfo.load(token)["content"]
        content = signed["encap_content_info"]["content"]
        info = content.parsed
        if info["message_imprint"]["hashed_message"].native != hashlib.sha256(message).digest():
            return "the token does not cover this seal"
        signer = signed["signer_infos"][0]
        attrs = signer["signed_attrs"]
        digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
        if digests != [hashlib.sha256(content.contents).digest()]:
            return "the token's messageDigest does not match its content"
        verify_data(tsa_key, signer["signature"].native, attrs.untag().dump())  # type: ignore[arg-type]
    except InvalidSignature:
        return "the token's signature is not our TSA's"
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return "the token cannot be parsed"
    return None


def expire_approvals_job(runtime: Runtime) -> JobResult:
    """Dual control: pending approval requests past their expiry become ``expired`` (audited)."""
    from core import approvals

    expired = approvals.expire(runtime.clock)
    return JobResult(f"{expired} approval request(s) expired", {"expired": expired})
