"""OCSP responder settings (section ``[ocsp]``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError


@dataclass(frozen=True)
class OCSPSettings:
    # thisUpdate → nextUpdate of every response (CA/B BR §4.9.10: 8 hours to 10 days).
    validity_hours: int = 24
    # Larger request bodies (POST) or decoded GET requests get malformedRequest (HTTP 413).
    max_request_bytes: int = 65536
    # Single requests in one OCSPRequest; more → malformedRequest.
    max_requests_per_message: int = 20
    # HTTP max-age for signed ``unknown`` answers (a reserved serial may become issued soon).
    unknown_max_age_seconds: int = 300
    # How often a worker re-reads the CA and signer rows (new CA, renewed signer).
    refresh_seconds: float = 5.0
    # Pre-signing job (every 60 s): rows per transaction and signatures per run.
    presign_batch_size: int = 500
    presign_max_per_run: int = 200_000

    def __post_init__(self) -> None:
        if not 8 <= self.validity_hours <= 240:
            raise ConfigurationError("ocsp.validity_hours", "must be between 8 and 240 (CA/B BR §4.9.10)")
        if not 512 <= self.max_request_bytes <= 1024 * 1024:
            raise ConfigurationError("ocsp.max_request_bytes", "must be between 512 and 1048576")
        if not 1 <= self.max_requests_per_message <= 1000:
            raise ConfigurationError("ocsp.max_requests_per_message", "must be between 1 and 1000")
        if not 0 <= self.unknown_max_age_seconds <= 3600:
            raise ConfigurationError("ocsp.unknown_max_age_seconds", "must be between 0 and 3600")
        if not 0 <= self.refresh_seconds <= 3600:
            raise ConfigurationError("ocsp.refresh_seconds", "must be between 0 and 3600")
        if not 1 <= self.presign_batch_size <= 10_000:
            raise ConfigurationError("ocsp.presign_batch_size", "must be between 1 and 10000")
        if self.presign_max_per_run < self.presign_batch_size:
            raise ConfigurationError("ocsp.presign_max_per_run", "must be at least presign_batch_size")
