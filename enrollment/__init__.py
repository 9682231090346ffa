"""Enrollment: applications, certification points, officers, identity checks, issuance hand-over,
citizen self-service and notifications (the CC SEKAP flow). It decides who may do what; the CA
signs."""

from enrollment.auth import AuthenticationMiddleware
from enrollment.settings import EnrollmentSettings, SMTPSettings

__all__ = ["AuthenticationMiddleware", "EnrollmentSettings", "SMTPSettings"]
