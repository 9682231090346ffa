"""Officer logins and sessions.

The keys live in the ``[enrollment]`` section of the settings file (where they have always been;
``enrollment.settings.EnrollmentSettings.access`` hands them over), so that existing files keep
working."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError


@dataclass(frozen=True)
class AccessSettings:
    session_ttl_minutes: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # argon2id parameters of officer passwords.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536

    def __post_init__(self) -> None:
        ranges = {
            "session_ttl_minutes": (1, 24 * 60),
            "login_max_failures": (1, 100),
            "login_lockout_minutes": (1, 24 * 60),
            "password_hash_time_cost": (1, 20),
            "password_hash_memory_kib": (64, 4 * 1024 * 1024),
        }
        for name, (low, high) in ranges.items():
            if not low <= getattr(self, name) <= high:
                raise ConfigurationError(f"enrollment.{name}", f"must be between {low} and {high}")
