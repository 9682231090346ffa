"""The verifier's path validation of a signer's (or any end-entity) certificate: RFC 5280 §6.1 with
the validation policy's initial inputs and cryptographic constraints (pyhanko-certvalidator), the
revocation sources of :mod:`verifier.listed`, and the EN 319 102-1 §5.2.6 indications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.generic_cms import validate_cert_usage
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.validate import async_validate_path

from verifier.common import refine_chain_verdict, revoked_verdict, verdict_from_ades
from verifier.listed import Listing, find_listing, listing_verdict
from verifier.policy import SIGNER_KEY_USAGE, TrustStore
from verifier.report import PASSED, Indication, SubIndication, Verdict


@dataclass(frozen=True)
class PathOutcome:
    verdict: Verdict  # PASSED when the path is valid
    path: Any  # pyhanko ValidationPath, or None when none was built
    listing: Listing | None = None
    revocation_details: Any = None


async def validate_certificate_path(
    cert: asn1_x509.Certificate,
    context: ValidationContext,
    trust: TrustStore,
    moment: datetime,
    *,
    key_usage: KeyUsageConstraints = SIGNER_KEY_USAGE,
) -> PathOutcome:
    """Validate ``cert`` against ``context`` with ``trust.policy``'s RFC 5280 initial inputs
    (initial policy set, explicit policy, inhibit policy mapping, inhibit anyPolicy); then look the
    path up in the consulted revocation sources at ``moment``."""
    result = await validate_cert_usage(
        cert,
        context,
        key_usage_settings=key_usage,
        paths=context.path_builder.async_build_paths_lazy(cert),
        pkix_validation_params=trust.policy.pkix_params(),
    )
    path = result.success_result or result.error_path
    if result.error_subindic is not None:
        verdict = verdict_from_ades(result.error_subindic, "certificate validation failed")
        if verdict.sub_indication is SubIndication.REVOKED_NO_POE:
            verdict = revoked_verdict(result.revo_details, None)
        verdict = await refine_chain_verdict(verdict, context, cert)
    elif result.success_result is None:
        verdict = Verdict(
            Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no chain to a trust anchor"
        )
    else:
        verdict = PASSED
    listing = find_listing(path, trust.crls, moment) if path is not None else None
    if listing is not None and verdict.indication is not Indication.TOTAL_FAILED:
        verdict = listing_verdict(listing)
    return PathOutcome(verdict, path, listing, result.revo_details)


async def policy_verdict(path: Any, context: ValidationContext, trust: TrustStore) -> Verdict | None:
    """For validators that build the path themselves (pyHanko's CMS and PDF validation take no
    RFC 5280 initial inputs): re-run §6.1 on the validated path with the policy's initial policy
    set, explicit policy and inhibit flags. None when they hold (or are the defaults)."""
    if path is None or trust.policy.default_inputs:
        return None
    try:
        await async_validate_path(context, path, parameters=trust.policy.pkix_params())
    except _JUDGED_BEFORE:
        return None  # revocation, validity and algorithms were judged by the first validation
    except PathValidationError as exc:
        return Verdict(Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE, str(exc.failure_msg)[:200])
    except ValidationError:
        return None
    return None


_JUDGED_BEFORE: tuple[type[BaseException], ...] = (
    RevokedError,
    InsufficientRevinfoError,
    ExpiredError,
    NotYetValidError,
    DisallowedAlgorithmError,
)
