"""OpenAPI 3.1 schemas of the package part of a validation report (merged by verifier.openapi)."""

from __future__ import annotations

from typing import Any

from verifier.report import Indication, SubIndication

_REF = "#/components/schemas/"
ASIC_MEDIA_TYPES = ("application/vnd.etsi.asic-e+zip", "application/vnd.etsi.asic-s+zip", "application/zip")


TEXT = {"type": "string"}
OPT_TEXT = {"type": ["string", "null"]}
TEXTS = {"type": "array", "items": TEXT}


def schemas() -> dict[str, Any]:
    return {"PackageInfo": _package(), "ReceiptInfo": _receipt()}


def _package() -> dict[str, Any]:
    text, opt_text, texts = TEXT, OPT_TEXT, TEXTS
    return {
        "type": ["object", "null"],
        "description": (
            "ASiC containers only (ETSI EN 319 162-1). `container` is null when the ZIP could not be read "
            "safely (the report is then TOTAL_FAILED/FORMAT_FAILURE and `problems` says why)."
        ),
        "required": ["container", "mimetype", "files", "signature_files", "not_covered", "problems"],
        "properties": {
            "container": {"type": ["string", "null"], "enum": ["ASiC-E", "ASiC-S", None]},
            "mimetype": {
                "type": "object",
                "properties": {
                    "present": {"type": "boolean"},
                    "value": opt_text,
                    "first": {"type": "boolean"},
                    "stored": {"type": "boolean"},
                    "extra_field": {"type": "boolean"},
                    "problems": texts,
                },
            },
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "A data file; it passes only when at least one valid signature covers it.",
                    "properties": {
                        "name": text,
                        "size": {"type": "integer"},
                        "sha256": text,
                        "covered_by": texts,
                        "valid_signatures": texts,
                        "indication": {"type": "string", "enum": [i.value for i in Indication]},
                        "sub_indication": {
                            "type": ["string", "null"],
                            "enum": [*[s.value for s in SubIndication], None],
                        },
                        "reason": opt_text,
                    },
                },
            },
            "signature_files": _signature_files(),
            "not_covered": {**texts, "description": "data files no signature covers"},
            "problems": texts,
        },
    }


def _receipt() -> dict[str, Any]:
    text, opt_text = TEXT, OPT_TEXT
    party = {
        "type": ["object", "null"],
        "properties": {"name": opt_text, "address": opt_text, "identifier": opt_text, "identifier_type": opt_text},
    }
    return {
        "type": ["object", "null"],
        "description": (
            "CRD receipts only (pos:Dokument with pos:UPP or pos:UPD): the fields as the document states "
            "them; whether the seal over them holds is the report's indication."
        ),
        "properties": {
            "kind": {"type": "string", "enum": ["UPP", "UPD"]},
            "number": opt_text,
            "recipient": party,
            "sender": party,
            "delivered_at": {"type": ["string", "null"], "format": "date-time"},
            "generated_at": {"type": ["string", "null"], "format": "date-time"},
            "document_id": opt_text,
            "document_sha256": opt_text,
            "information": {
                "type": "array",
                "items": {"type": "object", "properties": {"type": opt_text, "value": text}},
            },
        },
    }


def _signature_files() -> dict[str, Any]:
    texts = TEXTS
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": TEXT,
                "format": {"type": "string", "enum": ["XAdES", "CAdES"]},
                "signature_ids": texts,
                "covers": texts,
                "manifest": OPT_TEXT,
                "counter_signatures": {
                    "type": "integer",
                    "description": (
                        "counter-signatures in this file (all depths); each is validated and reported under "
                        "its signature's `counter_signatures`; they do not count towards coverage"
                    ),
                },
                "problems": texts,
            },
        },
    }
