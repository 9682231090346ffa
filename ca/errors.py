"""The CA's exceptions: a shallow tree under :class:`CAError`, each also a generic kind from
``core.errors`` so the edges map them once (problem+json, CLI)."""

from __future__ import annotations

from core.errors import (
    ConflictError,
    FieldError,
    IntegrityError,
    NotFoundError,
    SekapError,
    ValidationError,
    family,
)


@family
class CAError(SekapError):
    code = "ca_error"


class AuthorityNotFoundError(CAError, NotFoundError):
    code = "authority_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no CA or signer named {name!r}")
        self.name = name


class HierarchyExistsError(CAError, ConflictError):
    code = "hierarchy_exists"


class CertificateNotFoundError(CAError, NotFoundError):
    code = "certificate_not_found"

    def __init__(self, serial: str) -> None:
        super().__init__(f"no certificate with serial {serial}")
        self.serial = serial


class CSRError(CAError, ValidationError):
    """The CSR cannot be parsed or its self-signature is invalid (field ``csr``)."""

    code = "invalid_csr"

    def __init__(self, message: str) -> None:
        ValidationError.__init__(self, FieldError("csr", message, "invalid_csr"), message=f"csr: {message}")


class KeyPolicyError(CAError, ValidationError):
    """The public key is not acceptable (CA/B BR §6.1.5–6.1.6); field ``csr``."""

    code = "key_policy"

    def __init__(self, message: str) -> None:
        ValidationError.__init__(self, FieldError("csr", message, "key_policy"), message=f"csr: {message}")


class WeakKeyError(KeyPolicyError):
    """The public key is known to be weak (ROCA, close primes, small factors ...) or compromised
    (blocklisted). ``reason`` is a stable code, ``spki_sha256`` identifies the key (not personal data)."""

    code = "weak_key"

    def __init__(self, reason: str, message: str, spki_sha256: str) -> None:
        ValidationError.__init__(
            self, FieldError("csr", f"{message} ({reason})", "weak_key"), message=f"csr: {message} ({reason})"
        )
        self.reason = reason
        self.spki_sha256 = spki_sha256


class SubjectError(CAError, ValidationError):
    """The subject identity is incomplete or invalid; ``errors`` names the fields."""

    code = "invalid_subject"


class ProfileNotFoundError(CAError, ValidationError):
    code = "unknown_profile"

    def __init__(self, name: str) -> None:
        ValidationError.__init__(
            self,
            FieldError("profile", f"no certificate profile named {name!r}", "unknown_profile"),
            message=f"profile: no certificate profile named {name!r}",
        )
        self.name = name


class ProfileNotApprovedError(CAError, ConflictError):
    """The configured profile differs from its approved content (dual control): nothing is
    issued with it until other administrators approve the change (``sekap-trust profile``)."""

    code = "profile_not_approved"

    def __init__(self, name: str) -> None:
        super().__init__(f"certificate profile {name!r} was changed without approval (sekap-trust profile propose)")
        self.name = name


class LintError(CAError, ValidationError):
    """pkilint found ERROR-level problems in the to-be-signed certificate; nothing was signed."""

    code = "lint_failed"

    def __init__(self, findings: list[str]) -> None:
        ValidationError.__init__(
            self,
            [FieldError("certificate", f, "lint") for f in findings],
            message="the certificate would violate its profile: " + "; ".join(findings),
        )
        self.findings = findings


class SigningIntegrityError(CAError, IntegrityError):
    """The signed certificate's TBS differs from the stored intent; the certificate is not handed out."""

    code = "tbs_mismatch"


class RevocationError(CAError, ConflictError):
    """The status change is not allowed from the certificate's current state."""

    code = "revocation_conflict"

    def __init__(self, message: str, *, serial: str, state: str) -> None:
        super().__init__(message)
        self.serial = serial
        self.state = state


class ReasonError(CAError, ValidationError):
    code = "invalid_reason"

    def __init__(self, field: str, message: str) -> None:
        ValidationError.__init__(self, FieldError(field, message, "invalid_reason"), message=f"{field}: {message}")


class CRLNotFoundError(CAError, NotFoundError):
    code = "crl_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no CRL published for {name!r} yet")
        self.name = name
