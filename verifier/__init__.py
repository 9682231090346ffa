"""Signed-document validation (CAdES, XAdES, PAdES) with ETSI EN 319 102-1 reports."""

from verifier.detect import Part, Submission, parse_submission
from verifier.report import Indication, SignatureReport, SubIndication, ValidationReport
from verifier.service import VerificationService
from verifier.settings import VerifierSettings

__all__ = [
    "Indication",
    "Part",
    "SignatureReport",
    "SubIndication",
    "Submission",
    "ValidationReport",
    "VerificationService",
    "VerifierSettings",
    "parse_submission",
]
