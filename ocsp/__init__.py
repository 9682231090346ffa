"""RFC 6960 / RFC 5019 OCSP responder with a pre-signed response cache and RFC 9654 nonces."""

from ocsp.directory import IssuerDirectory, signer_name
from ocsp.errors import MalformedRequestError, OCSPError, SignerUnavailableError
from ocsp.jobs import PresignReport, presign
from ocsp.request import CertID, ParsedRequest, decode_get_path, parse_request
from ocsp.responder import (
    IssuerIndex,
    OCSPAnswer,
    ServedIssuer,
    cert_id_for,
    error_response,
    respond,
    sign_response,
)
from ocsp.service import OCSPService, ServedResponse
from ocsp.settings import OCSPSettings
from ocsp.signer import ResponseSigner

__all__ = [
    "CertID",
    "IssuerDirectory",
    "IssuerIndex",
    "MalformedRequestError",
    "OCSPAnswer",
    "OCSPError",
    "OCSPService",
    "OCSPSettings",
    "ParsedRequest",
    "PresignReport",
    "ResponseSigner",
    "ServedIssuer",
    "ServedResponse",
    "SignerUnavailableError",
    "cert_id_for",
    "decode_get_path",
    "error_response",
    "parse_request",
    "presign",
    "respond",
    "sign_response",
    "signer_name",
]
