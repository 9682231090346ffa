"""OCSP errors. The responder answers them in OCSP (RFC 6960 §2.3 response statuses: ``unauthorized``
is a result of the core, not an exception); they reach config.http_errors only from
non-protocol paths (CLI, jobs)."""

from __future__ import annotations

from core.errors import BadRequestError, SekapError, UnavailableError, family


@family
class OCSPError(SekapError):
    """Root of the OCSP package's errors; ``ocsp_status`` is the RFC 6960 §4.2.1 response status."""

    code = "ocsp_error"
    ocsp_status = "internalError"


class MalformedRequestError(OCSPError, BadRequestError):
    """The request does not conform to the OCSP syntax (RFC 6960 §2.3 malformedRequest)."""

    code = "ocsp_malformed_request"
    ocsp_status = "malformedRequest"

    def __init__(self, message: str, *, http_status: int = 200) -> None:
        super().__init__(message)
        # OCSP errors travel in an OCSP body; a few (oversize, wrong media type) also get a
        # matching HTTP status so intermediaries see the problem too.
        self.http_status = http_status


class SignerUnavailableError(OCSPError, UnavailableError):
    """The delegated signer (certificate or key) of a served CA cannot be used now (tryLater)."""

    code = "ocsp_signer_unavailable"
    ocsp_status = "tryLater"

    def __init__(self, issuer: str, problem: str) -> None:
        super().__init__(f"OCSP signer of {issuer!r} is not usable: {problem}")
        self.issuer = issuer
        self.problem = problem
