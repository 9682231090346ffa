"""OpenAPI 3.1 fragments for the receipt service's routes (merged by config/openapi.py)."""

from __future__ import annotations

from typing import Any

from receipts.requests import IDENTIFIER_TYPES

_REF = "#/components/schemas/"
_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _xml_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "Location": {"schema": {"type": "string"}, "description": "GET URL of the stored receipt"},
            "Receipt-Number": {"schema": {"type": "string"}, "description": "IdentyfikatorPoswiadczenia"},
            "Receipt-Id": {"schema": {"type": "string"}},
        },
        "content": {"application/xml": {"schema": {"type": "string"}}},
    }


def _post(operation: str, summary: str, description: str, schema: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation,
            "summary": summary,
            "description": description,
            "security": [{"portalToken": ["receipts"]}],
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": "Repeat a request safely: the same key and body return the stored receipt (200).",
                }
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": _REF + schema}}}},
            "responses": {
                "201": _xml_answer("The sealed receipt (CRD pos:Dokument), stored and audited before this answer"),
                "200": _xml_answer("Replay of an earlier request with the same Idempotency-Key"),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "403": _PROBLEM,
                "409": _PROBLEM,
                "413": _PROBLEM,
                "422": _PROBLEM,
                "503": _PROBLEM,
            },
        }
    }


def _get(operation: str, summary: str, media_type: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "security": [{"portalToken": ["receipts"]}],
            "parameters": [{"name": "receipt_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": summary, "content": {media_type: {"schema": {"type": "string"}}}},
                "401": _PROBLEM,
                "403": _PROBLEM,
                "404": _PROBLEM,
            },
        }
    }


def paths() -> dict[str, Any]:
    return {
        "/api/v1/receipts": _post(
            "createReceipt",
            "Official receipt (UPO, pos:UPP) for a filing delivered to an office",
            "Give the delivered package inline (`package`, base64) or its `package_sha256` (and `package_size`). "
            "The answer is the CRD UPO (namespace http://crd.gov.pl/xml/schematy/UPO/2008/05/09/) with the "
            "delivery time, submission number, recipient, subject and the package's SHA-256, sealed with an "
            "enveloped XAdES B-T by the receipt-seal key (timestamp from our TSA). 503 when the seal or the TSA "
            "cannot be used; nothing is stored then.",
            "SubmissionReceiptRequest",
        ),
        "/api/v1/receipts/deliveries": _post(
            "createDeliveryConfirmation",
            "Delivery confirmation (UPD, pos:UPD) after the citizen signed the office's package",
            "`signed_package` is the office's ASiC-E e-package with the citizen's signature added "
            "(sekap-package add-signature). The verifier must find every file covered by a valid signature "
            "(else 422 with the indication); the UPD names the signer and is sealed and timestamped like a UPO.",
            "DeliveryConfirmationRequest",
        ),
        "/api/v1/receipts/{receipt_id}": _get("getReceipt", "The receipt as issued (XML)", "application/xml"),
        "/api/v1/receipts/{receipt_id}/html": _get("getReceiptHtml", "Polish rendering (HTML)", "text/html"),
        "/api/v1/receipts/{receipt_id}/pdf": _get("getReceiptPdf", "Polish rendering (PDF)", "application/pdf"),
    }


def schemas() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    party = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {**text, "maxLength": 300},
            "address": {"type": "string", "maxLength": 300},
            "identifier": {"type": "string", "maxLength": 50},
            "identifier_type": {"type": "string", "enum": list(IDENTIFIER_TYPES)},
        },
    }
    return {
        "ReceiptParty": party,
        "SubmissionReceiptRequest": {
            "type": "object",
            "required": ["recipient", "submission_number", "subject"],
            "properties": {
                "recipient": {"$ref": _REF + "ReceiptParty"},
                "sender": {"$ref": _REF + "ReceiptParty"},
                "submission_number": {**text, "maxLength": 100},
                "subject": {**text, "maxLength": 500},
                "package": {"type": "string", "contentEncoding": "base64"},
                "package_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "package_size": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807},
            },
        },
        "DeliveryConfirmationRequest": {
            "type": "object",
            "required": ["signed_package", "office", "recipient", "letter_id", "subject"],
            "properties": {
                "signed_package": {"type": "string", "contentEncoding": "base64"},
                "office": {"$ref": _REF + "ReceiptParty"},
                "recipient": {"$ref": _REF + "ReceiptParty"},
                "letter_id": {**text, "maxLength": 100},
                "subject": {**text, "maxLength": 500},
            },
        },
    }
