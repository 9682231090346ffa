"""Enrollment settings (section ``[enrollment]``, SMTP in ``[enrollment.smtp]``).

The SMTP password is a secret resolved by ``config.settings`` from ``SEKAP_TRUST_SMTP_PASSWORD``
or ``SEKAP_TRUST_SMTP_PASSWORD_FILE``; it never comes from TOML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from access.settings import AccessSettings
from core.errors import ConfigurationError
from hsm.base import ALGORITHMS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class SMTPSettings:
    """Outgoing e-mail. ``enabled = false`` keeps notifications queued in the outbox."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    username: str | None = None
    from_address: str = "sekap-trust@localhost"
    timeout_seconds: int = 10
    max_attempts: int = 20
    batch_size: int = 50
    # Deliver into this Maildir directory instead of SMTP (the local demo; empty = SMTP).
    maildir: str = ""
    # secret (environment or secret file only)
    password: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigurationError("enrollment.smtp.port", "must be between 1 and 65535")
        if not _EMAIL.match(self.from_address):
            raise ConfigurationError("enrollment.smtp.from_address", "must be an e-mail address")
        if not 1 <= self.timeout_seconds <= 300:
            raise ConfigurationError("enrollment.smtp.timeout_seconds", "must be between 1 and 300")
        if not 1 <= self.max_attempts <= 1000:
            raise ConfigurationError("enrollment.smtp.max_attempts", "must be between 1 and 1000")
        if not 1 <= self.batch_size <= 10000:
            raise ConfigurationError("enrollment.smtp.batch_size", "must be between 1 and 10000")
        if self.maildir != self.maildir.strip():
            raise ConfigurationError("enrollment.smtp.maildir", "must be a directory path without surrounding spaces")

    def __repr__(self) -> str:  # never print the password
        return f"SMTPSettings(enabled={self.enabled}, host={self.host!r}, port={self.port}, starttls={self.starttls})"


@dataclass(frozen=True)
class EnrollmentSettings:
    # Applications not confirmed in person expire (REFERENCE.md: 14 days).
    application_ttl_days: int = 14
    # Identity-verification evidence kept this long, then purged (REFERENCE.md: 20 years).
    evidence_retention_years: int = 20
    # Renewals without a visit before a new in-person check is required.
    max_remote_renewals: int = 1
    # Renewal allowed from this many days before expiry.
    renewal_window_days: int = 30
    certificate_profile: str = "citizen"
    # Key generated at the point: algorithm and PKCS#12 protection.
    point_key_algorithm: str = "rsa-2048"
    pkcs12_kdf_rounds: int = 600_000
    pkcs12_pickup_hours: int = 24
    pin_min_length: int = 6
    # Officers' logins and sessions (handed to access, see :attr:`access`).
    session_ttl_minutes: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # argon2id cost of officer passwords (access) and revocation codes.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    # Revocation codes (self-service without the portal): lockout window.
    code_max_attempts: int = 5
    code_window_minutes: int = 15
    # Expiry reminders (days before notAfter).
    reminder_days: tuple[int, ...] = (30, 7)
    smtp: SMTPSettings = field(default_factory=SMTPSettings)

    def __post_init__(self) -> None:
        positive = {
            "application_ttl_days": (1, 365),
            "evidence_retention_years": (1, 100),
            "max_remote_renewals": (0, 100),
            "renewal_window_days": (1, 365),
            "pkcs12_kdf_rounds": (1000, 10_000_000),
            "pkcs12_pickup_hours": (1, 24 * 30),
            "pin_min_length": (4, 64),
            "session_ttl_minutes": (1, 24 * 60),
            "login_max_failures": (1, 100),
            "login_lockout_minutes": (1, 24 * 60),
            "password_hash_time_cost": (1, 20),
            "password_hash_memory_kib": (64, 4 * 1024 * 1024),
            "code_max_attempts": (1, 100),
            "code_window_minutes": (1, 24 * 60),
        }
        for name, (low, high) in positive.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigurationError(f"enrollment.{name}", f"must be between {low} and {high}")
        if self.point_key_algorithm not in ALGORITHMS:
            raise ConfigurationError("enrollment.point_key_algorithm", f"choose one of {', '.join(ALGORITHMS)}")
        if not self.certificate_profile.strip():
            raise ConfigurationError("enrollment.certificate_profile", "must not be empty")
        if any(not 1 <= d <= 365 for d in self.reminder_days) or len(set(self.reminder_days)) != len(
            self.reminder_days
        ):
            raise ConfigurationError("enrollment.reminder_days", "must be distinct numbers of days between 1 and 365")

    @property
    def access(self) -> AccessSettings:
        """The officer-login keys, which live in this section for existing settings files."""
        return AccessSettings(
            session_ttl_minutes=self.session_ttl_minutes,
            login_max_failures=self.login_max_failures,
            login_lockout_minutes=self.login_lockout_minutes,
            password_hash_time_cost=self.password_hash_time_cost,
            password_hash_memory_kib=self.password_hash_memory_kib,
        )
