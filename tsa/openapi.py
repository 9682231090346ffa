"""OpenAPI 3.1 fragments for the TSA's HTTP endpoint."""

from __future__ import annotations

from typing import Any


def paths() -> dict[str, Any]:
    reply = {"application/timestamp-reply": {"schema": {"type": "string", "format": "binary"}}}
    return {
        "/tsa": {
            "post": {
                "tags": ["tsa"],
                "summary": "Time-stamp a hash (RFC 3161 §3.4, RFC 5816)",
                "description": (
                    "Body: a DER TimeStampReq. The answer is always a DER TimeStampResp: status granted with the "
                    "token, or rejection with failInfo badAlg, badRequest, badDataFormat, unacceptedPolicy, "
                    "unacceptedExtension, timeNotAvailable or systemFailure (the last with HTTP 503)."
                ),
                "operationId": "tsaTimestamp",
                "requestBody": {
                    # Not required for an answer: a missing body is answered in RFC 3161 (rejection).
                    "required": False,
                    "content": {"application/timestamp-query": {"schema": {"type": "string", "format": "binary"}}},
                },
                "responses": {
                    "200": {"description": "TimeStampResp (granted or rejection)", "content": reply},
                    "503": {
                        "description": "TimeStampResp with failInfo systemFailure (key, clock source or database "
                        "away); nothing was issued",
                        "content": reply,
                        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
                    },
                },
            }
        }
    }


def schemas() -> dict[str, Any]:
    return {}
