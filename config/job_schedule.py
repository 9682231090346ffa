"""The periodic jobs' names and intervals, in the order they run, without their code: what
``/readyz`` needs to judge staleness in any process, including one that mounts only OCSP or the
verifier and so must not load enrollment's wiring (``config.jobs`` binds the code to these)."""

from __future__ import annotations

from ca.settings import CRL_JOB_INTERVAL_SECONDS

SCHEDULE: tuple[tuple[str, int], ...] = (
    # Holds expire before the CRLs are built, so one run publishes their revocations.
    ("ca.holds.expire", 300),
    ("ca.crl.publish_due", CRL_JOB_INTERVAL_SECONDS),
    ("ca.ocsp_signers.renew", 3600),
    ("ocsp.presign", 60),
    ("enrollment.expire_applications", 300),
    ("enrollment.expiry_reminders", 3600),
    ("enrollment.send_mail", 30),
    ("enrollment.housekeeping", 3600),
    # Checks every minute; seals when audit.seal_interval_seconds have passed since the last seal.
    ("audit.seal", 60),
    ("ca.reconcile", 300),
    ("approvals.expire", 300),
)
