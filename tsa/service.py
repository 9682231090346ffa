"""The TSA service: settings, the ceremony's TSA key and certificate, the clock guard and the
token record around the pure core (:mod:`tsa.authority`).

Each token is recorded in ``tsa_token`` (its own short transaction: the record of the TSA key's
use, kept out of the audit chain so tokens are not serialised behind one chain head). Start-up
configuration and clock-guard transitions go to the audit chain, once per change and host.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import peewee as pw
from cryptography import x509

from ca.hierarchy import authority, load_certificate
from core import audit, events
from core import db as core_db
from core.clock import Clock
from core.db import atomic, lock_row
from hsm.base import KeyStore
from tsa.authority import TokenProfile, TSASigner, issue_token, truncate
from tsa.clock_guard import OK, ClockGuard, SyncStatus, kernel_sync_status
from tsa.errors import SystemFailureError
from tsa.models import TSAHostState, TSAToken
from tsa.query import QueryRules, TimeStampQuery
from tsa.recorder import SerialTakenError, TokenRecorder
from tsa.serials import new_serial, to_hex
from tsa.settings import TSASettings

logger = logging.getLogger(__name__)

ACTOR = "system:tsa"
# A serial collision is astronomically unlikely; a few retries make a bug loud instead of a loop.
MAX_SERIAL_ATTEMPTS = 3


class SignerSource:
    """The current TSA signer for this process: loaded on first use (never at import or mount
    time), re-read from ``ca_authority`` every ``refresh_seconds`` to follow a renewal."""

    def __init__(self, authority_name: str, key_store: Callable[[], KeyStore], refresh_seconds: int) -> None:
        self._name = authority_name
        self._key_store = key_store
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._signer: TSASigner | None = None
        self._checked = 0.0
        self._version: tuple[str, str] | None = None

    def current(self) -> TSASigner:
        with self._lock:
            if self._signer is not None and time.monotonic() - self._checked < self._refresh:
                return self._signer
            row = authority(self._name)
            if row.role != "tsa":
                raise SystemFailureError(f"authority {self._name!r} is not a TSA (role {row.role!r})")
            version = (str(row.serial), str(row.key_label))
            if self._signer is None or version != self._version:
                certificate: x509.Certificate = load_certificate(row)
                self._signer = TSASigner(certificate, self._key_store().find(row.key_label), str(row.key_label))
                self._version = version
            self._checked = time.monotonic()
            return self._signer


class TimeStampService:
    """Issue and record time-stamp tokens; refuse while the clock cannot be trusted."""

    def __init__(
        self,
        settings: TSASettings,
        authority_name: str,
        key_store: Callable[[], KeyStore],
        clock: Clock,
        *,
        sync_check: Callable[[], SyncStatus] | None = None,
    ) -> None:
        self.settings = settings
        self.authority_name = authority_name
        self.clock = clock
        self.host = settings.host_id or socket.gethostname()[:100]
        self.rules = QueryRules(policies=settings.policies, accept_sha1=settings.accept_sha1)
        self.profile = TokenProfile(settings.accuracy_ms, settings.gen_time_precision, settings.include_tsa_name)
        self.signers = SignerSource(authority_name, key_store, settings.signer_refresh_seconds)
        limit = settings.clock_error_limit_us
        self.guard = ClockGuard(
            clock,
            require_sync=settings.require_ntp_sync,
            sync_check=sync_check or (lambda: kernel_sync_status(limit)),
            floor=self._load_floor,
            on_transition=self._record_transition,
        )
        self.recorder = TokenRecorder()
        self._announced = False
        self._announce_lock = threading.Lock()

    # -- issuing ------------------------------------------------------------------------------

    def issue(self, query: TimeStampQuery) -> bytes:
        """The token (ContentInfo DER) for an accepted query, recorded before it is returned.

        Raises :class:`tsa.errors.TimeNotAvailableError` when the clock guard refuses and
        :class:`tsa.errors.SystemFailureError` when the key, certificate or database fail.
        """
        self._announce()
        signer = self._signer()
        at = self.guard.now()
        if not signer.certificate.not_valid_before_utc <= at <= signer.certificate.not_valid_after_utc:
            raise SystemFailureError("the TSA certificate is not valid now")
        gen_time = truncate(at, self.profile.gen_time_precision)
        policy = query.policy or self.settings.policy_oid
        for _attempt in range(MAX_SERIAL_ATTEMPTS):
            serial = new_serial(gen_time)
            token = issue_token(
                query, signer=signer, policy=policy, serial=serial, gen_time=gen_time, profile=self.profile
            )
            if self._record(serial, gen_time, query, policy, signer):
                events.emit(events.TIMESTAMP_ISSUED, policy=policy)
                return token
            logger.warning("TSA serial collision; issuing again under a new serial")
        raise SystemFailureError("could not allocate a unique token serial")

    def _signer(self) -> TSASigner:
        try:
            return self.signers.current()
        except SystemFailureError:
            raise
        except Exception as exc:
            logger.exception("the TSA signer is not available")
            raise SystemFailureError("the TSA key or certificate is not available") from exc

    def _record(self, serial: int, gen_time: datetime, query: TimeStampQuery, policy: str, signer: TSASigner) -> bool:
        row = {
            "serial": to_hex(serial),
            "gen_time": gen_time,
            "host": self.host,
            "hash_algorithm": query.hash_algorithm,
            "imprint": query.imprint.hex(),
            "policy": policy,
            "has_nonce": query.nonce is not None,
            "cert_req": query.cert_req,
            "key_label": signer.key_label,
            "tsa_certificate_serial": signer.serial_hex,
        }
        try:
            self.recorder.record(row)
        except SerialTakenError:
            return False
        except Exception as exc:
            logger.exception("could not record a time-stamp token")
            if core_db.is_unavailable(exc):
                core_db.report_unavailable()
            raise SystemFailureError("the token could not be recorded") from exc
        return True

    # -- clock guard state ----------------------------------------------------------------------

    def _load_floor(self) -> datetime | None:
        """Newest genTime of this host, or another host's newest less the accuracy (clocks of
        several hosts may differ by up to the accuracy)."""
        own = TSAToken.select(pw.fn.MAX(TSAToken.gen_time)).where(TSAToken.host == self.host).scalar()
        anyone = TSAToken.select(pw.fn.MAX(TSAToken.gen_time)).scalar()
        candidates = [TSAToken.gen_time.python_value(own)] if own is not None else []
        if anyone is not None:
            tolerance = timedelta(milliseconds=self.settings.accuracy_ms)
            candidates.append(TSAToken.gen_time.python_value(anyone) - tolerance)
        return max(candidates) if candidates else None

    def _record_transition(self, old: str, new: str, reason: str, at: datetime) -> None:
        """Audit a clock-guard state change once per host, however many workers notice it."""
        with atomic():
            row = lock_row(TSAHostState.select().where(TSAHostState.host == self.host)).first()
            if row is None:
                TSAHostState.create(
                    host=self.host, config_digest="", clock_state=new, clock_reason=reason, changed_at=at
                )
            elif row.clock_state == new:
                return
            else:
                TSAHostState.update(clock_state=new, clock_reason=reason, changed_at=at).where(
                    TSAHostState.host == self.host
                ).execute()
            action = "tsa.clock.resume" if new == OK else "tsa.clock.refuse"
            audit.record(
                self.clock,
                actor=ACTOR,
                action=action,
                object_type="tsa_host",
                object_id=self.host,
                outcome="success" if new == OK else "failure",
                details={"from": old, "to": new, "reason": reason},
            )
        if new == OK:
            logger.warning("TSA clock guard: issuing again (%s)", reason)
        else:
            logger.error("TSA clock guard: refusing tokens, %s: %s", new, reason)

    # -- start-up -------------------------------------------------------------------------------

    def configuration(self) -> dict[str, object]:
        """What this TSA issues under (audited when it changes on a host)."""
        s = self.settings
        return {
            "authority": self.authority_name,
            "policy_oid": s.policy_oid,
            "accepted_policies": list(s.policies),
            "accept_sha1": s.accept_sha1,
            "accuracy_ms": s.accuracy_ms,
            "gen_time_precision": s.gen_time_precision,
            "include_tsa_name": s.include_tsa_name,
            "require_ntp_sync": s.require_ntp_sync,
            "max_clock_error_us": s.clock_error_limit_us,
        }

    def _announce(self) -> None:
        if self._announced:
            return
        with self._announce_lock:
            if self._announced:
                return
            try:
                self.announce()
            except Exception as exc:
                logger.exception("could not record the TSA configuration")
                raise SystemFailureError("the TSA could not record its configuration") from exc
            self._announced = True

    def announce(self) -> bool:
        """Audit the configuration (``tsa.configure``) if this host has not announced it yet or it
        changed; return whether a record was written."""
        config = self.configuration()
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
        now = self.clock.now()
        with atomic():
            row = lock_row(TSAHostState.select().where(TSAHostState.host == self.host)).first()
            if row is not None and row.config_digest == digest:
                return False
            if row is None:
                TSAHostState.create(
                    host=self.host, config_digest=digest, clock_state=OK, clock_reason="", changed_at=now
                )
            else:
                TSAHostState.update(config_digest=digest).where(TSAHostState.host == self.host).execute()
            audit.record(
                self.clock,
                actor=ACTOR,
                action="tsa.configure",
                object_type="tsa_host",
                object_id=self.host,
                details=config,
            )
        logger.info("TSA configuration recorded for host %s", self.host)
        return True
