"""TSA exceptions: every rejection carries the RFC 3161 §2.4.2 PKIFailureInfo it answers with.

The TSA endpoint never lets these reach the problem+json handlers: the resource turns them into
a TimeStampResp with status ``rejection`` and the failure bit named by :attr:`TSARejection.fail_info`.
They still inherit the generic kinds so a non-protocol caller (e.g. an internal client) gets a
sensible HTTP mapping.
"""

from __future__ import annotations

from core.errors import BadRequestError, SekapError, UnavailableError, ValidationError, family


@family
class TSAError(SekapError):
    """Root of the TSA's exceptions."""

    code = "tsa_error"


@family
class TSARejection(TSAError):
    """A request the TSA refuses; ``fail_info`` is the asn1crypto name of the PKIFailureInfo bit."""

    fail_info = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class BadRequestTSAError(TSARejection, BadRequestError):
    """The query could not be decoded, or asks for something not supported (badRequest)."""

    code = "tsa_bad_request"
    fail_info = "bad_request"


class BadDataFormatError(TSARejection, BadRequestError):
    """The submitted data has the wrong format: content type, imprint length (badDataFormat)."""

    code = "tsa_bad_data_format"
    fail_info = "bad_data_format"


class BadAlgorithmError(TSARejection, ValidationError):
    """The imprint's hash algorithm is not accepted (badAlg); ``algorithm`` is the dotted OID or name."""

    code = "tsa_bad_alg"
    fail_info = "bad_alg"

    def __init__(self, algorithm: str) -> None:
        # No FieldError list: this is a protocol answer, not a form.
        ValidationError.__init__(self, [], message=f"hash algorithm {algorithm} is not accepted")
        self.algorithm = algorithm


class UnacceptedPolicyError(TSARejection, ValidationError):
    """The requested TSA policy is not one this TSA accepts (unacceptedPolicy)."""

    code = "tsa_unaccepted_policy"
    fail_info = "unaccepted_policy"

    def __init__(self, policy: str) -> None:
        ValidationError.__init__(self, [], message=f"policy {policy} is not accepted")
        self.policy = policy


class UnacceptedExtensionError(TSARejection, ValidationError):
    """A critical extension the TSA does not understand (unacceptedExtension)."""

    code = "tsa_unaccepted_extension"
    fail_info = "unaccepted_extensions"  # asn1crypto's name for bit 16

    def __init__(self, extension: str) -> None:
        ValidationError.__init__(self, [], message=f"critical extension {extension} is not supported")
        self.extension = extension


class TimeNotAvailableError(TSARejection, UnavailableError):
    """The clock cannot be trusted now (not synchronised, or moved backwards): timeNotAvailable."""

    code = "tsa_time_not_available"
    fail_info = "time_not_available"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SystemFailureError(TSARejection, UnavailableError):
    """The TSA cannot issue now (key store, database): systemFailure."""

    code = "tsa_system_failure"
    fail_info = "system_failure"
