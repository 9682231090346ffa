"""OpenAPI 3.1 fragments for the OCSP endpoints (binary protocol, RFC 6960 Appendix A)."""

from __future__ import annotations

from typing import Any

_OCSP_RESPONSE = {
    "description": (
        "A DER OCSPResponse (RFC 6960 §4.2.1). Errors are OCSP response statuses too "
        "(malformedRequest, unauthorized, tryLater, internalError), never problem+json."
    ),
    "content": {"application/ocsp-response": {"schema": {"$ref": "#/components/schemas/OCSPResponseDER"}}},
}

# The database (or the signer) is away: RFC 6960 §2.3 tryLater, HTTP 503 with Retry-After.
_TRY_LATER = {
    **_OCSP_RESPONSE,
    "description": "tryLater (RFC 6960 §2.3): the status cannot be read or signed now",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
}


def paths() -> dict[str, Any]:
    return {"/ocsp": {"post": _post(), "get": _get_empty()}, "/ocsp/{encoded}": {"get": _get()}}


def _post() -> dict[str, Any]:
    return {
        "tags": ["ocsp"],
        "summary": "OCSP request (RFC 6960 Appendix A.1, POST); not cacheable",
        "operationId": "ocspPost",
        "requestBody": {
            # Not required for an answer: a missing body is answered in OCSP (malformedRequest).
            "required": False,
            "content": {"application/ocsp-request": {"schema": {"$ref": "#/components/schemas/OCSPRequestDER"}}},
        },
        "responses": {
            "200": _OCSP_RESPONSE,
            "413": {
                **_OCSP_RESPONSE,
                "description": "Body larger than ocsp.max_request_bytes (malformedRequest)",
            },
            "503": _TRY_LATER,
        },
    }


def _get_empty() -> dict[str, Any]:
    return {
        "tags": ["ocsp"],
        "summary": "Without a request: malformedRequest",
        "operationId": "ocspGetEmpty",
        "responses": {"200": _OCSP_RESPONSE},
    }


def _get() -> dict[str, Any]:
    return {
        "tags": ["ocsp"],
        "summary": "OCSP request (RFC 6960 Appendix A.1, GET), cacheable per RFC 5019 §6",
        "operationId": "ocspGet",
        "parameters": [
            {
                "name": "encoded",
                "in": "path",
                "required": True,
                "description": "URL-encoded base64 of the DER OCSPRequest; padding optional, URL-safe alphabet "
                "accepted; may contain '/'.",
                "schema": {"type": "string"},
            }
        ],
        "responses": {
            "200": {
                **_OCSP_RESPONSE,
                "headers": {
                    "Cache-Control": {
                        "schema": {"type": "string"},
                        "description": "max-age=N, public, no-transform, must-revalidate",
                    },
                    "ETag": {"schema": {"type": "string"}},
                    "Last-Modified": {"schema": {"type": "string"}, "description": "producedAt"},
                    "Expires": {"schema": {"type": "string"}, "description": "nextUpdate"},
                },
            },
            "304": {"description": "Not modified (If-None-Match)"},
            "503": _TRY_LATER,
        },
    }


def schemas() -> dict[str, Any]:
    return {
        "OCSPRequestDER": {
            "type": "string",
            "contentMediaType": "application/ocsp-request",
            "description": "DER OCSPRequest (RFC 6960 §4.1.1)",
        },
        "OCSPResponseDER": {
            "type": "string",
            "contentMediaType": "application/ocsp-response",
            "description": "DER OCSPResponse (RFC 6960 §4.2.1)",
        },
    }
