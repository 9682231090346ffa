"""What enrollment answers: the shapes the REST resources send and the OpenAPI schemas mirror
(enrollment/openapi.py). Services return the dataclasses here; resources encode them with
:func:`to_json`."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ca.api import CertificateState

# How the API names a certificate's condition (ca.status.CertificateState.condition).
_PUBLIC_STATUS = {
    "valid": "valid",
    "on_hold": "suspended",
    "revoked": "revoked",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "reserved": "unknown",  # never handed over: the citizen has no such certificate
    "unknown": "unknown",
}


def public_status(state: CertificateState) -> str:
    """``valid | suspended | revoked | expired | not_yet_valid | unknown``."""
    return _PUBLIC_STATUS[state.condition]


def pem(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)
