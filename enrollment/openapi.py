"""OpenAPI 3.1 fragments for enrollment's REST API (merged by config/openapi.py)."""

from __future__ import annotations

from typing import Any

from enrollment.authorization import MATRIX, Rule
from enrollment.lifecycle import CITIZEN_REASONS, OFFICER_REASONS
from enrollment.models import APPLICATION_STATES
from enrollment.queue import MAX_ID, MAX_OFFSET, MAX_PAGE

# A character Python's str.strip() keeps: ECMA-262's \S (what JSON Schema patterns use) still
# matches U+001C-U+001F and U+0085, which Python counts as white space.
NON_BLANK = "[^\\s\\u001c-\\u001f\\u0085]"

P = "/api/v1"
REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF + name}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


PROBLEM = {"application/problem+json": {"schema": _ref("Problem")}}

_PARAMS = {
    "reference": {
        "name": "reference",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^SK-[A-Z0-9]{10}$"},
    },
    "serial": {
        "name": "serial",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^0*[1-9A-Fa-f][0-9A-Fa-f]*$", "maxLength": 40},
        "description": "certificate serial number, hex (positive)",
    },
}
# The portal names the citizen it authenticated by exactly one of the two headers: the PESEL, or
# for a citizen without one the ID card / passport number. OpenAPI cannot say "one of two
# headers", so both are optional here and the 422 for neither (or an invalid PESEL) is documented.
_CITIZEN_HEADERS = [
    {
        "name": "X-Citizen-Pesel",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]{11}$"},
        "description": "PESEL of the citizen the portal authenticated; required unless X-Citizen-Document is sent "
        "(neither, or a PESEL with a wrong check digit or date → 422 with field X-Citizen-Pesel)",
    },
    {
        "name": "X-Citizen-Document",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},  # its form is checked only when it is used (no PESEL)
        "description": "ID card (AAA999999) or passport (AA9999999) number, spaces ignored, only for a citizen "
        "without PESEL (ignored when X-Citizen-Pesel is sent); another form → 422",
    },
]

# (route, method) → (summary, request schema or None, success status, response schema, extra errors, extra params)
_OPS: dict[
    tuple[str, str], tuple[str, dict[str, Any] | None, str, dict[str, Any], tuple[str, ...], list[dict[str, Any]]]
] = {
    (f"{P}/sessions", "POST"): (
        "Officer login: a short-lived session token",
        _ref("LoginRequest"),
        "201",
        _ref("Session"),
        ("400", "401", "422", "429"),
        [],
    ),
    (f"{P}/sessions/current", "DELETE"): ("Officer logout", None, "204", {}, (), []),
    (f"{P}/points", "GET"): ("Certification points", None, "200", _ref("PointList"), (), []),
    (f"{P}/agreements", "POST"): (
        "Publish a new agreement version",
        _ref("AgreementText"),
        "201",
        _ref("AgreementVersion"),
        ("422",),
        [],
    ),
    (f"{P}/agreements/current", "GET"): ("The current agreement text", None, "200", _ref("Agreement"), ("404",), []),
    (f"{P}/applications", "POST"): (
        "Submit an application for a portal-authenticated citizen (idempotent with Idempotency-Key)",
        _ref("ApplicationRequest"),
        "201",
        _ref("ApplicationCreated"),
        ("400", "409", "422"),
        [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 100},
                "description": "same key + same body → same answer (200); same key + different body → 409",
            }
        ],
    ),
    (f"{P}/applications/{{reference}}", "GET"): (
        "Application status (the submitting portal)",
        None,
        "200",
        _ref("ApplicationView"),
        ("404",),
        [],
    ),
    (f"{P}/applications/{{reference}}/status", "GET"): (
        "Application status with the tracking code",
        None,
        "200",
        _ref("ApplicationStatus"),
        ("404", "422", "429"),
        [
            {
                "name": "X-Tracking-Code",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "pattern": NON_BLANK},
            }
        ],
    ),
    (f"{P}/officer/applications", "GET"): (
        "The queue of the officer's points: soonest deadline first, filtered and paged",
        None,
        "200",
        _ref("ApplicationPage"),
        ("422",),
        [
            {"name": "state", "in": "query", "required": False, "schema": {"enum": list(APPLICATION_STATES)}},
            {
                "name": "point_id",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            },
            {
                "name": "expiring_within_days",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "maximum": 365},
                "description": "only applications still waiting whose deadline falls within this many days",
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 20},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ],
    ),
    (f"{P}/officer/applications/search", "POST"): (
        "Find applications of the officer's points",
        _ref("SearchRequest"),
        "200",
        _ref("ApplicationList"),
        ("422",),
        [],
    ),
    (f"{P}/officer/applications/{{reference}}", "GET"): (
        "An application with identity data",
        None,
        "200",
        _ref("ApplicationView"),
        ("404",),
        [],
    ),
    (f"{P}/officer/applications/{{reference}}/evidence", "GET"): (
        "Identity-check evidence",
        None,
        "200",
        _ref("Evidence"),
        ("404",),
        [],
    ),
    (f"{P}/officer/applications/{{reference}}/identity-check", "POST"): (
        "Record the in-person identity check",
        _ref("IdentityCheckRequest"),
        "201",
        _ref("IdentityCheckResult"),
        ("404", "409", "422"),
        [],
    ),
    (f"{P}/officer/applications/{{reference}}/approval", "POST"): (
        "Dual control: a second officer approves",
        None,
        "201",
        _ref("ApprovalResult"),
        ("404", "409"),
        [],
    ),
    (f"{P}/officer/applications/{{reference}}/issue", "POST"): (
        "Issue the certificate (revocation code shown once; PKCS#12 for keys made at the point)",
        _ref("IssueRequest"),
        "201",
        _ref("IssueResult"),
        ("404", "409", "422"),
        [],
    ),
    (f"{P}/officer/certificates/{{serial}}/suspend", "POST"): (
        "Suspend (certificateHold)",
        None,
        "200",
        _ref("CertificateStatus"),
        ("404", "409"),
        [],
    ),
    (f"{P}/officer/certificates/{{serial}}/resume", "POST"): (
        "Lift a suspension",
        None,
        "200",
        _ref("CertificateStatus"),
        ("404", "409"),
        [],
    ),
    (f"{P}/officer/certificates/{{serial}}/revoke", "POST"): (
        "Revoke with a reason",
        _ref("OfficerRevokeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("404", "409", "422"),
        [],
    ),
    (f"{P}/citizen/certificates", "GET"): (
        "The identified citizen's certificates",
        None,
        "200",
        {"type": "object", "properties": {"certificates": {"type": "array", "items": _ref("CertificateStatus")}}},
        ("422",),
        _CITIZEN_HEADERS,
    ),
    (f"{P}/citizen/certificates/{{serial}}", "GET"): (
        "Status of the citizen's certificate",
        None,
        "200",
        _ref("CertificateStatus"),
        ("404",),
        _CITIZEN_HEADERS,
    ),
    (f"{P}/citizen/certificates/{{serial}}/suspend", "POST"): (
        "Suspend for the citizen",
        None,
        "200",
        _ref("CertificateStatus"),
        ("404", "409"),
        _CITIZEN_HEADERS,
    ),
    (f"{P}/citizen/certificates/{{serial}}/resume", "POST"): (
        "Lift the citizen's suspension (needs the revocation code too: 422 without it, 403 if wrong)",
        _ref("ResumeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("403", "404", "409", "422", "429"),
        _CITIZEN_HEADERS,
    ),
    (f"{P}/citizen/certificates/{{serial}}/revoke", "POST"): (
        "Revoke for the citizen",
        _ref("RevokeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("404", "409", "422"),
        _CITIZEN_HEADERS,
    ),
    (f"{P}/self-service/status", "POST"): (
        "Status with the revocation code",
        _ref("CodeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("403", "422", "429"),
        [],
    ),
    (f"{P}/self-service/suspend", "POST"): (
        "Suspend with the revocation code",
        _ref("CodeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("403", "409", "422", "429"),
        [],
    ),
    (f"{P}/self-service/resume", "POST"): (
        "Lift a suspension with the revocation code",
        _ref("CodeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("403", "409", "422", "429"),
        [],
    ),
    (f"{P}/self-service/revoke", "POST"): (
        "Revoke with the revocation code",
        _ref("CodeRequest"),
        "200",
        _ref("CertificateStatus"),
        ("403", "409", "422", "429"),
        [],
    ),
    (f"{P}/renewals", "POST"): (
        "Renew without a visit: CSR for a new key + signature by the current key",
        _ref("RenewalRequest"),
        "201",
        _ref("RenewalResult"),
        ("404", "409", "422"),
        [],
    ),
}

_STATUS_TEXT = {
    "400": "malformed request",
    "401": "authentication required",
    "403": "not allowed",
    "404": "not found",
    "409": "conflicts with the current state",
    "422": "invalid fields (one entry each)",
    "429": "too many attempts (Retry-After)",
}


def _security(rule: Rule) -> list[dict[str, list[str]]]:
    if "public" in rule.grants:
        return [{}, {"bearer": []}]
    return [{"bearer": []}]


def paths() -> dict[str, Any]:
    result: dict[str, Any] = {}
    for (route, method), (summary, request, status, response, errors, extra) in _OPS.items():
        rule = MATRIX[(route, method)]
        params = [_PARAMS[name] for name in ("reference", "serial") if "{" + name + "}" in route] + extra
        op: dict[str, Any] = {
            "tags": ["enrollment"],
            "summary": summary,
            "description": f"Who may call: {', '.join(sorted(rule.grants))}. {rule.note}",
            "operationId": method.lower()
            + "".join(part.strip("{}").title().replace("-", "") for part in route.split("/")[3:]),
            "security": _security(rule),
            "responses": {
                status: {"description": "success", **({"content": _json(response)} if status != "204" else {})},
                **{code: {"description": _STATUS_TEXT[code], "content": PROBLEM} for code in errors},
            },
        }
        if "public" not in rule.grants:
            op["responses"].setdefault("401", {"description": _STATUS_TEXT["401"], "content": PROBLEM})
            op["responses"].setdefault("403", {"description": _STATUS_TEXT["403"], "content": PROBLEM})
        if request is not None:  # a body that is not JSON at all
            op["responses"].setdefault("400", {"description": _STATUS_TEXT["400"], "content": PROBLEM})
        if extra is _CITIZEN_HEADERS:
            op["responses"].setdefault("422", {"description": _STATUS_TEXT["422"], "content": PROBLEM})
        if params:
            op["parameters"] = params
        if request is not None:
            op["requestBody"] = {"required": True, "content": _json(request)}
        result.setdefault(route, {})[method.lower()] = op
    # A repeated submission (same Idempotency-Key, same body) answers the first one again, with 200.
    result[f"{P}/applications"]["post"]["responses"]["200"] = {
        "description": "the earlier submission with this Idempotency-Key and body, answered again",
        "content": _json(_ref("ApplicationCreated")),
    }
    result[f"{P}/officer/applications/{{reference}}/pkcs12"] = {
        "get": {
            "tags": ["enrollment"],
            "summary": "Download the PIN-protected PKCS#12 once (issuing officer only); deleted afterwards",
            "operationId": "getOfficerApplicationsPkcs12",
            "security": [{"bearer": []}],
            "parameters": [_PARAMS["reference"]],
            "responses": {
                "200": {
                    "description": "PKCS#12 (PBES2, PBKDF2-SHA256, AES-256-CBC, chain included)",
                    "content": {"application/x-pkcs12": {"schema": {"type": "string", "format": "binary"}}},
                },
                **{code: {"description": _STATUS_TEXT[code], "content": PROBLEM} for code in ("401", "403", "404")},
            },
        }
    }
    return result


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_S = {"type": "string"}
# Text the server strips before use: something besides white space (a blank value is refused).
_NE = {"type": "string", "minLength": 1, "pattern": NON_BLANK}
_SERIAL = {
    "type": "string",
    "pattern": "^0*[1-9A-Fa-f][0-9A-Fa-f]*$",
    "maxLength": 40,
    "description": "certificate serial number, hex (positive)",
}
_DT = {"type": "string", "format": "date-time"}
# A citizen's keyCompromise claim (RFC 8555 §7.6: signed with the certificate's own key).
_PROOF: dict[str, Any] = {
    "proof": {
        "type": "string",
        "contentEncoding": "base64",
        "description": "keyCompromise only (required for it): a signature by the certificate's key "
        "(RSA PKCS#1 v1.5 or ECDSA, hash as for the key's size) over the ASCII text "
        "'sekap-trust revocation\\nserial=<SERIAL>\\nreason=keyCompromise\\nat=<proof_time as "
        "YYYY-MM-DDTHH:MM:SSZ>\\n' (serial in upper-case hex)",
    },
    "proof_time": {
        "type": "string",
        "format": "date-time",
        "description": "keyCompromise only: when the proof was signed; must be within 5 minutes of the server's time",
    },
}


def schemas() -> dict[str, Any]:
    address = _obj(
        ["street", "postal_code", "city"],
        street=_NE,
        postal_code={"type": "string", "pattern": r"^\d{2}-\d{3}$"},
        city=_NE,
    )
    document = _obj(["type", "number"], type={"enum": ["id_card", "passport"]}, number=_NE)
    cert_status = _obj(
        ["issuer", "serial", "status"],
        issuer=_S,
        serial=_S,
        status={"enum": ["valid", "suspended", "revoked", "expired", "not_yet_valid", "unknown"]},
        not_before=_DT,
        not_after=_DT,
        revoked_at={"type": ["string", "null"], "format": "date-time"},
        revocation_reason={"type": ["string", "null"]},
        remote_renewals={"type": "integer"},
        renewed={"type": "boolean"},
    )
    app_view = _obj(
        ["reference", "state"],
        reference=_S,
        state={"enum": ["submitted", "verified", "approved", "issuing", "issued", "expired"]},
        key_generation={"enum": ["csr", "point"]},
        point_id={"type": "integer"},
        created_at=_DT,
        expires_at=_DT,
        verified_at={"type": ["string", "null"], "format": "date-time"},
        issued_at={"type": ["string", "null"], "format": "date-time"},
        certificates={
            "type": "array",
            "items": _obj(["issuer", "serial", "not_after"], issuer=_S, serial=_S, not_after=_DT),
        },
    )
    return {
        "IdentityCheckResult": _obj(
            ["reference", "check_id", "state", "checked_at"],
            reference=_S,
            check_id={"type": "integer"},
            state={"const": "verified"},
            checked_at=_DT,
        ),
        "ApprovalResult": _obj(
            ["reference", "state", "approved_at"], reference=_S, state={"const": "approved"}, approved_at=_DT
        ),
        "LoginRequest": _obj(
            ["username", "password"],
            username=_NE,
            password={"type": "string", "format": "password", "minLength": 1},
            totp_code={
                "type": "string",
                "description": "The current RFC 6238 code (6 digits); required for officers with a confirmed "
                "TOTP factor, else 401 invalid_totp_code and no session. Wrong codes: 5 per 15 minutes, then 429.",
            },
        ),
        "Session": _obj(
            ["token", "expires_at"],
            token=_S,
            officer_id={"type": "integer"},
            expires_at=_DT,
            roles={"type": "array", "items": _S},
            points={"type": "array", "items": {"type": "integer"}},
        ),
        "PointList": _obj(
            ["points"],
            points={
                "type": "array",
                "items": _obj(
                    ["id", "name"],
                    id={"type": "integer"},
                    name=_S,
                    street=_S,
                    postal_code=_S,
                    city=_S,
                    teryt=_S,
                    dual_control={"type": "boolean"},
                ),
            },
        ),
        "AgreementText": _obj(["text"], text=_NE),
        "AgreementVersion": _obj(["version", "sha256"], version={"type": "integer"}, sha256=_S),
        "Agreement": _obj(["version", "text"], version={"type": "integer"}, text=_S, sha256=_S, created_at=_DT),
        "ApplicationRequest": {
            **_obj(
                ["given_names", "surname", "email", "phone", "address", "point_id", "key_generation"],
                given_names=_NE,
                surname=_NE,
                pesel={"type": "string", "pattern": r"^\d{11}$"},
                identity_document=document,
                email={"type": "string", "format": "email"},
                phone=_NE,
                address=address,
                point_id={"type": "integer"},
                key_generation={"enum": ["csr", "point"]},
                csr={"type": "string", "minLength": 1, "description": "PEM PKCS#10"},
            ),
            "description": "Either pesel or identity_document; csr when key_generation is 'csr'.",
        },
        "ApplicationCreated": _obj(
            ["reference", "tracking_code", "state", "expires_at"],
            reference=_S,
            tracking_code=_S,
            state=_S,
            expires_at=_DT,
        ),
        "ApplicationView": app_view,
        "ApplicationStatus": _obj(["reference", "state"], reference=_S, state=_S, expires_at=_DT),
        "ApplicationList": _obj(["applications"], applications={"type": "array", "items": app_view}),
        "ApplicationPage": _obj(
            ["applications", "total", "limit", "offset"],
            applications={"type": "array", "items": app_view},
            total={"type": "integer", "minimum": 0},
            limit={"type": "integer", "minimum": 1},
            offset={"type": "integer", "minimum": 0},
        ),
        "SearchRequest": {
            "type": "object",
            # An empty value counts as not given (the server ignores it).
            "properties": {
                "reference": _S,
                "tracking_code": _S,
                "pesel": _S,
                "document_number": _S,
                "surname": _S,
                "given_names": _S,
            },
            "description": "one of reference, tracking_code, pesel, document_number (as applied for or as "
            "checked at the desk), surname (with given_names optionally)",
        },
        "Evidence": _obj(["identity_checks"], identity_checks={"type": "array", "items": {"type": "object"}}),
        "IdentityCheckRequest": _obj(
            ["document_type", "document_number", "document_expiry", "data_match", "agreement_version"],
            document_type={"enum": ["id_card", "passport"]},
            document_number=_NE,
            document_expiry={"type": "string", "format": "date"},
            birth_date={
                "type": "string",
                "format": "date",
                "description": "date of birth from the document: required without a PESEL (the citizen must be 18+)",
            },
            data_match={"const": True},
            agreement_version={"type": "integer"},
        ),
        "IssueRequest": {
            "type": "object",
            "properties": {
                "pin": {
                    "type": "string",
                    "minLength": 6,
                    "maxLength": 64,
                    "description": "PKCS#12 PIN, only for keys generated at the point",
                }
            },
        },
        "IssueResult": _obj(
            ["serial", "certificate", "chain", "revocation_code"],
            reference=_S,
            issuer=_S,
            serial=_S,
            not_before=_DT,
            not_after=_DT,
            certificate=_S,
            chain=_S,
            revocation_code={
                "type": "string",
                "description": "shown once; the citizen sends it back as revocation_code to /self-service",
            },
            pkcs12_url={"type": ["string", "null"]},
        ),
        "RevokeRequest": {
            "type": "object",
            "description": "A citizen's revocation (RFC 5280 §5.3.1 reasons a holder may give; default unspecified).",
            "properties": {"reason": {"enum": list(CITIZEN_REASONS)}, **_PROOF},
        },
        "ResumeRequest": _obj(
            ["revocation_code"],
            revocation_code={
                "type": "string",
                "minLength": 1,
                "pattern": NON_BLANK,
                "description": "the certificate's revocation code: the portal's word alone does not resume",
            },
        ),
        "OfficerRevokeRequest": {
            "type": "object",
            "description": "An officer's revocation (default unspecified); cACompromise and aACompromise need the "
            "ca_admin role, any other officer gets 422 for them.",
            "properties": {"reason": {"enum": [*OFFICER_REASONS, "cACompromise", "aACompromise"]}},
        },
        "CodeRequest": {
            **_obj(
                ["serial", "revocation_code"],
                serial=_SERIAL,
                revocation_code={
                    "type": "string",
                    "minLength": 1,
                    "pattern": NON_BLANK,
                    "description": "the revocation_code handed over at issuance",
                },
                code={
                    "type": "string",
                    "minLength": 1,
                    "pattern": NON_BLANK,
                    "deprecated": True,
                    "description": "former name of revocation_code, still read when revocation_code is absent",
                },
                reason={"enum": list(CITIZEN_REASONS), "description": "revoke only; default unspecified"},
                **_PROOF,
            ),
        },
        "CertificateStatus": cert_status,
        "RenewalRequest": _obj(
            ["serial", "csr", "signature"],
            serial=_SERIAL,
            csr={"type": "string", "minLength": 1, "description": "PEM PKCS#10"},
            signature={
                "type": "string",
                "minLength": 1,
                "contentEncoding": "base64",
                "description": "signature over the CSR's DER by the current certificate's key",
            },
        ),
        "RenewalResult": _obj(
            ["serial", "certificate"], issuer=_S, serial=_S, not_before=_DT, not_after=_DT, certificate=_S, chain=_S
        ),
    }
