"""OpenAPI 3.1 fragments for the CA's public downloads: CA certificates, CRLs, CPS and PDS."""

from __future__ import annotations

from typing import Any

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_CACHE_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Strong validator of the body"},
    "Last-Modified": {"schema": {"type": "string"}, "description": "thisUpdate of the CRL / last change"},
    "Cache-Control": {"schema": {"type": "string"}, "description": "public, max-age (at most until nextUpdate)"},
}


def _name(description: str) -> dict[str, Any]:
    return {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def paths() -> dict[str, Any]:
    return {**_download_paths(), "/policy/{name}": _policy_path()}


def _download_paths() -> dict[str, Any]:
    return {
        "/certs/{name}.crt": {
            "get": {
                "tags": ["ca"],
                "summary": "Certificate of a CA or signer (RFC 5280 §4.2.2.1 caIssuers target)",
                "operationId": "getAuthorityCertificate",
                "parameters": [_name("Authority name, e.g. root, citizens, citizens-ocsp, tsa")],
                "responses": {
                    "200": {
                        "description": "DER certificate (RFC 2585 §3)",
                        "headers": {k: v for k, v in _CACHE_HEADERS.items() if k != "Expires"},
                        "content": {
                            "application/pkix-cert": {"schema": {"$ref": "#/components/schemas/CertificateDER"}}
                        },
                    },
                    "304": {"description": "Not modified (If-None-Match)"},
                    "404": {"description": "No such authority", "content": _PROBLEM},
                },
            }
        },
        "/crl/{name}.crl": {
            "get": {
                "tags": ["ca"],
                "summary": "Newest full CRL of a CA, or its delta CRL as /crl/<ca>-delta.crl (RFC 5280 §5)",
                "description": (
                    "The full CRL carries AKI, CRLNumber and Freshest CRL; the delta CRL a critical Delta CRL "
                    "Indicator with the base CRL number and removeFromCRL entries for resumed certificates. "
                    "A new CRL appears within ca.crl.publish_within_seconds of a status change."
                ),
                "operationId": "getCRL",
                "parameters": [_name("CA name (root, citizens), or '<ca>-delta' for the delta CRL")],
                "responses": {
                    "200": {
                        "description": "DER CRL (RFC 2585 §3)",
                        "headers": {
                            **_CACHE_HEADERS,
                            "Expires": {"schema": {"type": "string"}, "description": "End of the caching period"},
                        },
                        "content": {"application/pkix-crl": {"schema": {"$ref": "#/components/schemas/CRLDER"}}},
                    },
                    "304": {"description": "Not modified (If-None-Match / If-Modified-Since)"},
                    "404": {"description": "No such CA, or no CRL published yet", "content": _PROBLEM},
                },
            }
        },
    }


def _policy_path() -> dict[str, Any]:
    return {
        "get": {
            "tags": ["ca"],
            "summary": "Certification practice statement (cps) or PKI disclosure statement (pds), in Polish",
            "description": (
                "The CPS is the target of the CPS qualifier in every certificate's policies "
                "(RFC 5280 §4.2.1.4) unless ca.cps_uri names another; the PDS follows EN 319 411-1."
            ),
            "operationId": "getPolicyDocument",
            "parameters": [
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["cps", "pds"]},
                    "description": "cps or pds",
                }
            ],
            "responses": {
                "200": {
                    "description": "HTML document (Polish)",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                "404": {"description": "No such document", "content": _PROBLEM},
            },
        }
    }


def schemas() -> dict[str, Any]:
    return {
        "CertificateDER": {
            "type": "string",
            "contentMediaType": "application/pkix-cert",
            "description": "DER X.509 certificate",
        },
        "CRLDER": {"type": "string", "contentMediaType": "application/pkix-crl", "description": "DER X.509 v2 CRL"},
    }
