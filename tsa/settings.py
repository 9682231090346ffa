"""TSA settings (section ``[tsa]``).

The TSA's key and certificate are not configured here: they come from the key ceremony
(``ca.tsa.name``, role ``tsa``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError

_OID_DIGITS = set("0123456789.")


def _check_oid(key: str, value: str) -> None:
    parts = value.split(".")
    if (
        not value
        or not set(value) <= _OID_DIGITS
        or len(parts) < 2
        or any(not p or (len(p) > 1 and p[0] == "0") for p in parts)
        or parts[0] not in ("0", "1", "2")
    ):
        raise ConfigurationError(key, f"{value!r} is not a dotted OID")


@dataclass(frozen=True)
class TSASettings:
    """Everything that shapes a time-stamp token and when the TSA refuses to issue one."""

    # TSA policy (RFC 3161 §2.4.2 policy) put in tokens when the query names none.
    policy_oid: str = "2.999.1.2.1"
    # Further policies a query may ask for (the default policy is always accepted).
    accepted_policies: tuple[str, ...] = ()
    # SHA-1 imprints are refused with badAlg unless this is true (SHA-256/384/512 always accepted).
    accept_sha1: bool = False
    # accuracy (RFC 3161 §2.4.2), in milliseconds; ETSI EN 319 421 asks for 1 s or better.
    accuracy_ms: int = 1000
    # Digits of fraction of a second in genTime (0-6); trailing zeros are never encoded.
    gen_time_precision: int = 0
    # Put the TSA certificate subject into TSTInfo.tsa (a directoryName GeneralName).
    include_tsa_name: bool = True
    # Largest TimeStampReq accepted, in bytes (a SHA-512 query with a nonce is about 100 bytes).
    max_request_bytes: int = 4096
    # Refuse (timeNotAvailable) while the kernel says the clock is not NTP-synchronised or its
    # maximum error exceeds max_clock_error_ms. Production sets this true.
    require_ntp_sync: bool = False
    # Largest kernel-reported maximum clock error tolerated; 0 means "the accuracy" (accuracy_ms).
    max_clock_error_ms: int = 0
    # Identifies this host in tsa_token and the clock guard's state; empty means the host name.
    host_id: str = ""
    # How often a worker re-reads the TSA authority row to notice a renewed certificate.
    signer_refresh_seconds: int = 60

    def __post_init__(self) -> None:
        _check_oid("tsa.policy_oid", self.policy_oid)
        for index, oid in enumerate(self.accepted_policies):
            _check_oid(f"tsa.accepted_policies[{index}]", oid)
        if not 1 <= self.accuracy_ms <= 3_600_000:
            raise ConfigurationError("tsa.accuracy_ms", "must be between 1 and 3600000")
        if not 0 <= self.gen_time_precision <= 6:
            raise ConfigurationError("tsa.gen_time_precision", "must be between 0 and 6 digits")
        if not 64 <= self.max_request_bytes <= 1_048_576:
            raise ConfigurationError("tsa.max_request_bytes", "must be between 64 and 1048576")
        if self.max_clock_error_ms < 0:
            raise ConfigurationError("tsa.max_clock_error_ms", "must not be negative")
        if len(self.host_id) > 100:
            raise ConfigurationError("tsa.host_id", "must be at most 100 characters")
        if not 1 <= self.signer_refresh_seconds <= 86400:
            raise ConfigurationError("tsa.signer_refresh_seconds", "must be between 1 and 86400")

    @property
    def policies(self) -> tuple[str, ...]:
        """Every policy a query may ask for, the default first."""
        return (self.policy_oid, *(p for p in self.accepted_policies if p != self.policy_oid))

    @property
    def clock_error_limit_us(self) -> int:
        """Largest acceptable kernel maxerror, in microseconds."""
        return (self.max_clock_error_ms or self.accuracy_ms) * 1000
