"""The OpenAPI 3.1 document served at ``GET /openapi.json``.

Each package with REST routes provides ``<pkg>/openapi.py`` with ``paths()`` and ``schemas()``;
this module merges them (a path or schema defined twice differently is an error) and adds the
routes config itself mounts. ``tests/config/test_openapi.py`` checks every route of the full app
has a path entry.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Any

import falcon

PACKAGES = ("ca", "ocsp", "tsa", "enrollment", "verifier", "receipts")
OPENAPI_VERSION = "3.1.0"


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "request_id": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "one entry per invalid field (422)",
                "items": {
                    "type": "object",
                    "required": ["field", "message", "code"],
                    "properties": {
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                        "code": {"type": "string"},
                    },
                },
            },
        },
    }


def _config_paths() -> dict[str, Any]:
    def probe(summary: str, op: str) -> dict[str, Any]:
        return {
            "get": {
                "tags": ["operations"],
                "summary": summary,
                "operationId": op,
                "security": [],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "503": {
                        "description": "not ready",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        }

    return {
        "/healthz": probe("Liveness probe", "healthz"),
        "/readyz": probe("Readiness probe (database, key store, audit seal age; lists stale periodic jobs)", "readyz"),
        "/metrics": {
            "get": {
                "tags": ["operations"],
                "summary": "Prometheus metrics (text exposition format; keep it internal)",
                "operationId": "metrics",
                "security": [],
                "responses": {
                    "200": {
                        "description": "metrics of every worker of this host and database gauges",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["operations"],
                "summary": "This OpenAPI 3.1 document",
                "operationId": "openapi",
                "security": [],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
                },
            }
        },
    }


def fragment_modules() -> list[Any]:
    modules = []
    for package in PACKAGES:
        name = f"{package}.openapi"
        try:
            found = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # the package itself is absent
            found = None
        if found is not None:
            modules.append(importlib.import_module(name))
    return modules


def _merge(target: dict[str, Any], extra: dict[str, Any], what: str, source: str) -> None:
    for key, value in extra.items():
        if key in target and target[key] != value:
            raise ValueError(f"OpenAPI {what} {key!r} from {source} conflicts with an earlier definition")
        target[key] = value


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": _problem_schema()}
    responses: dict[str, Any] = {
        "Problem": {
            "description": "RFC 9457 problem details",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    }
    bearer = {"type": "http", "scheme": "bearer"}
    security_schemes: dict[str, Any] = {
        "bearer": {
            **bearer,
            "description": "Portal-client token (stp_...) or officer session token (sts_..., POST /api/v1/sessions)",
        },
        "portalToken": {**bearer, "description": "Portal-client token (stp_...) with the scope the operation names"},
    }
    responses["Unavailable"] = {
        "description": "The database or key store is not available now; nothing was changed. Retry after the "
        "Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    responses["Unauthenticated"] = {
        "description": "A bearer token was sent but is unknown, expired or disabled (or the operation needs one)",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    responses["InternalError"] = {
        "description": "The server's own fault: a generic problem (code internal_error) without internal "
        "details; the request_id finds the log line",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    _merge(paths, _config_paths(), "path", "config")
    for module in fragment_modules():
        _merge(paths, module.paths(), "path", module.__name__)
        _merge(schemas, module.schemas(), "schema", module.__name__)
        # Optional extras a fragment may provide.
        if hasattr(module, "responses"):
            _merge(responses, module.responses(), "response", module.__name__)
        if hasattr(module, "security_schemes"):
            _merge(security_schemes, module.security_schemes(), "security scheme", module.__name__)
    _document_edge_answers(paths)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "sekap-trust",
            "version": "1",
            "description": "CA and trust services modelled on CC SEKAP: enrollment, certificate status (OCSP, CRL), "
            "time-stamping, signature verification. Errors are RFC 9457 problem+json (schema Problem), except "
            "on protocol endpoints, which answer in their own protocol.",
        },
        "servers": [{"url": "/"}],
        "components": {"schemas": schemas, "responses": responses, "securitySchemes": security_schemes},
        "paths": dict(sorted(paths.items())),
    }


# Routes that need the database answer 503 + Retry-After while it is away (config.http_errors).
_NEEDS_DATABASE = ("/api/", "/certs/", "/crl/")


# Served by config.protocol_lane straight from WSGI: no authentication middleware.
_LANE = {("/ocsp", "post"), ("/tsa", "post")}


def _document_edge_answers(paths: dict[str, Any]) -> None:
    """What the edge may answer on any route: 503 while the database is away, 401 when a bearer
    token is sent but unknown, expired or disabled (public routes included), and the generic 500."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if path.startswith(_NEEDS_DATABASE):
                operation["responses"].setdefault("503", {"$ref": "#/components/responses/Unavailable"})
            if (path, method) not in _LANE:
                operation["responses"].setdefault("401", {"$ref": "#/components/responses/Unauthenticated"})
                operation["responses"].setdefault("500", {"$ref": "#/components/responses/InternalError"})


class OpenAPIResource:
    """Built once per process on first request (fragments are static)."""

    def __init__(self) -> None:
        self._document: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._lock:
            if self._document is None:
                self._document = build_document()
        resp.media = self._document
        resp.cache_control = ["public", "max-age=300"]
