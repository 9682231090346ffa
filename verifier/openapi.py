"""OpenAPI 3.1 fragments for the verifier's routes (merged by config/openapi.py)."""

from __future__ import annotations

from typing import Any

from verifier.asic.openapi import ASIC_MEDIA_TYPES
from verifier.asic.openapi import schemas as package_schemas
from verifier.report import FORMATS, LEVELS, Indication, SubIndication

_REF = "#/components/schemas/"


def paths() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/api/v1/verifications": {
            "post": {
                "operationId": "createVerification",
                "summary": "Validate a signed document (CAdES, XAdES, PAdES) or an e-package (ASiC-S, ASiC-E)",
                "description": (
                    "The body is the signed document, or multipart/form-data with one part named `signature` and "
                    "one or more detached content parts (XAdES references name them by file name). Requires a "
                    "portal token with scope `verify`. With `?signed=true` or `Accept: application/pkcs7-mime` "
                    "the same report JSON is returned encapsulated in a CMS SignedData (attached) signed by the "
                    "verifier's report key. The report can name the signer (including the semantics identifier); "
                    "it is never logged. ASiC containers (`application/vnd.etsi.asic-e+zip`, `…asic-s+zip`, or a "
                    "ZIP sent as `application/octet-stream`) are read in memory within the `asic_*` limits; the "
                    "report's `package` says which signature covers which file, and a container passes only when "
                    "every data file is covered by a valid signature. An unreadable or hostile container gets a "
                    "report with TOTAL_FAILED/FORMAT_FAILURE, not an error status."
                ),
                "security": [{"portalToken": ["verify"]}],
                "parameters": _parameters(),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/pdf": binary,
                        "application/xml": binary,
                        "text/xml": binary,
                        "application/pkcs7-signature": binary,
                        "application/pkcs7-mime": binary,
                        "application/cms": binary,
                        **dict.fromkeys(ASIC_MEDIA_TYPES, binary),
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["signature"],
                                "properties": {"signature": {"type": "string", "format": "binary"}},
                                "additionalProperties": {"type": "string", "format": "binary"},
                            }
                        },
                    },
                },
                "responses": {
                    "200": {
                        "description": "The validation report",
                        "content": {
                            "application/json": {"schema": {"$ref": _REF + "ValidationReport"}},
                            "application/xml": {"schema": {"type": "string", "description": "TS 119 102-2"}},
                            "application/pkcs7-mime": binary,
                        },
                    },
                    "400": {"$ref": "#/components/responses/Problem"},
                    "401": {"$ref": "#/components/responses/Problem"},
                    "403": {"$ref": "#/components/responses/Problem"},
                    "413": {"$ref": "#/components/responses/Problem"},
                    "415": {"$ref": "#/components/responses/Problem"},
                    "422": {"$ref": "#/components/responses/Problem"},
                },
            }
        }
    }


def _parameters() -> list[dict[str, Any]]:
    return [
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "etsi: the report in the ETSI TS 119 102-2 XML format (also with Accept: application/xml).",
            "schema": {"type": "string", "enum": ["json", "etsi"], "default": "json"},
        },
        {
            "name": "validation_time",
            "in": "query",
            "required": False,
            "description": "Validate as of this time (ISO 8601 with zone); default now.",
            "schema": {"type": "string", "format": "date-time"},
        },
        {
            "name": "signed",
            "in": "query",
            "required": False,
            "description": "Return the report as CMS SignedData (application/pkcs7-mime).",
            "schema": {"type": "boolean", "default": False},
        },
    ]


def _dt(nullable: bool = True) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "format": "date-time"}


def schemas() -> dict[str, Any]:
    indication = {"type": "string", "enum": [i.value for i in Indication]}
    sub = {
        "type": ["string", "null"],
        "enum": [*[s.value for s in SubIndication], None],
        "description": "ETSI EN 319 102-1 §5.1.3 sub-indication; null when TOTAL_PASSED",
    }
    text = {"type": "string"}
    return {
        "ValidationReport": {
            "type": "object",
            "required": [
                "indication",
                "sub_indication",
                "validation_time",
                "revocation_mode",
                "document",
                "signatures",
                "warnings",
                "policy",
            ],
            "properties": {
                "indication": indication,
                "sub_indication": sub,
                "validation_time": _dt(False),
                "revocation_mode": {"type": "string", "enum": ["require", "soft-fail", "offline"]},
                "policy": text,
                "document": {
                    "type": "object",
                    "properties": {
                        "media_type": text,
                        "size": {"type": "integer"},
                        "sha256": text,
                        "detached_parts": {"type": "array", "items": text},
                    },
                },
                "signatures": {"type": "array", "items": {"$ref": _REF + "SignatureReport"}},
                "warnings": {"type": "array", "items": text},
                "package": {"$ref": _REF + "PackageInfo"},
                "receipt": {"$ref": _REF + "ReceiptInfo"},
            },
        },
        **package_schemas(),
        "SignatureReport": _signature_report(indication, sub),
        "CounterSignatureReport": _counter_signature_report(indication, sub),
    }


def _signature_report(indication: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["id", "format", "level", "indication", "sub_indication", "coverage"],
        "properties": {
            "id": text,
            "format": {"type": "string", "enum": list(FORMATS)},
            "level": {"type": "string", "enum": list(LEVELS)},
            "indication": indication,
            "sub_indication": sub,
            "signer": {
                "type": ["object", "null"],
                "properties": {
                    "name": opt_text,
                    "semantics_identifier": {
                        "type": ["string", "null"],
                        "description": "e.g. PNOPL-… (EN 319 412-1 §5.1.3)",
                    },
                    "subject": text,
                    "issuer": text,
                    "serial": text,
                    "fingerprint_sha256": text,
                },
            },
            "claimed_signing_time": _dt(),
            **_evidence(indication, sub),
            "coverage": _coverage(),
            "signature_algorithm": opt_text,
            "digest_algorithm": opt_text,
            "warnings": {"type": "array", "items": text},
            "counter_signatures": {
                "type": "array",
                "description": (
                    "Every counter-signature of this signature, nested ones included (RFC 5652 §11.4, "
                    "EN 319 122-1 §5.2.7, EN 319 132-1 §5.2.7.2), each validated on its own; a failed one does "
                    "not change this signature's indication (a warning says so)"
                ),
                "items": {"$ref": _REF + "CounterSignatureReport"},
            },
            "baseline": {
                "type": "array",
                "description": (
                    "Per baseline level (B-B, B-T, B-LT, B-LTA of EN 319 122-1 / 132-1 / 142-1 §6.3): whether "
                    "the signature meets its requirements and which are missing"
                ),
                "items": {
                    "type": "object",
                    "properties": {
                        "level": {"type": "string", "enum": list(LEVELS[1:])},
                        "met": {"type": "boolean"},
                        "missing": {"type": "array", "items": text},
                    },
                },
            },
        },
    }


def _counter_signature_report(indication: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    evidence = _evidence(indication, sub)
    signer = _signature_report(indication, sub)["properties"]["signer"]
    return {
        "type": "object",
        "description": (
            "A counter-signature: a signature over the signature value of `counters` (the id of a signature "
            "or, when nested, of another counter-signature), with its own EN 319 102-1 indication"
        ),
        "required": ["id", "counters", "format", "indication", "sub_indication", "signer", "certificate_chain"],
        "properties": {
            "id": text,
            "counters": {**text, "description": "id of the signature (or counter-signature) it counter-signs"},
            "format": {"type": "string", "enum": list(FORMATS)},
            "indication": indication,
            "sub_indication": sub,
            "signer": signer,
            "claimed_signing_time": _dt(),
            "certificate_chain": evidence["certificate_chain"],
            "revocation": evidence["revocation"],
            "signature_algorithm": opt_text,
            "digest_algorithm": opt_text,
            "warnings": {"type": "array", "items": text},
        },
    }


def _evidence(indication: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    return {
        "timestamps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["signature", "content", "document", "archive"]},
                    "time": _dt(),
                    "indication": indication,
                    "sub_indication": sub,
                    "tsa": opt_text,
                    "token_sha256": {
                        "type": ["string", "null"],
                        "description": "SHA-256 of the DER timestamp token (archive timestamps)",
                    },
                },
            },
        },
        "certificate_chain": {
            "type": "array",
            "description": "end entity first",
            "items": {
                "type": "object",
                "properties": {
                    "subject": text,
                    "issuer": text,
                    "serial": text,
                    "fingerprint_sha256": text,
                    "not_before": _dt(False),
                    "not_after": _dt(False),
                },
            },
        },
        "revocation": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["OCSP", "CRL"]},
                    "source": {"type": "string", "enum": ["local", "document", "configured"]},
                    "issuer": text,
                    "certificate_serial": opt_text,
                    "status": opt_text,
                    "produced_at": _dt(),
                    "this_update": _dt(),
                    "next_update": _dt(),
                },
            },
        },
    }


def _coverage() -> dict[str, Any]:
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    return {
        "type": "object",
        "properties": {
            "kind": {
                "type": "string",
                "enum": ["pdf-byte-range", "xml-references", "cms-attached", "cms-detached"],
            },
            "byte_ranges": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            },
            "level": opt_text,
            "modification_level": opt_text,
            "references": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"uri": text, "type": opt_text, "target": text, "digest_algorithm": text},
                },
            },
            "detached_parts": {"type": "array", "items": text},
            "content_sha256": opt_text,
        },
    }
