"""Time-stamping authority (RFC 3161 / RFC 5816): a pure query → token core, serials, the
clock guard and the token record."""

from tsa.authority import TokenProfile, TSASigner, format_gen_time, granted, issue_token, rejected
from tsa.clock_guard import ClockGuard, SyncStatus, kernel_sync_status
from tsa.errors import (
    BadAlgorithmError,
    BadDataFormatError,
    BadRequestTSAError,
    SystemFailureError,
    TimeNotAvailableError,
    TSAError,
    TSARejection,
    UnacceptedExtensionError,
    UnacceptedPolicyError,
)
from tsa.query import QueryRules, TimeStampQuery, parse_query
from tsa.serials import new_serial
from tsa.service import TimeStampService
from tsa.settings import TSASettings

__all__ = [
    "BadAlgorithmError",
    "BadDataFormatError",
    "BadRequestTSAError",
    "ClockGuard",
    "QueryRules",
    "SyncStatus",
    "SystemFailureError",
    "TSAError",
    "TSARejection",
    "TSASettings",
    "TSASigner",
    "TimeNotAvailableError",
    "TimeStampQuery",
    "TimeStampService",
    "TokenProfile",
    "UnacceptedExtensionError",
    "UnacceptedPolicyError",
    "format_gen_time",
    "granted",
    "issue_token",
    "kernel_sync_status",
    "new_serial",
    "parse_query",
    "rejected",
]
