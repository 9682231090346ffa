"""Check a response against the served OpenAPI 3.1 document: the status must be documented for
the operation, and a JSON body must match the documented schema (JSON Schema 2020-12, $refs into
the document resolved). Used by the flow tests through ``tests.enrollment.helpers.API``."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from config.openapi import build_document

_JSON_TYPES = ("application/json", "application/problem+json")


@lru_cache(maxsize=1)
def _document() -> str:
    return json.dumps(build_document())


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, Any], Registry, list[tuple[re.Pattern[str], str]]]:
    document = json.loads(_document())
    registry: Registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    templates = [
        (re.compile("^" + re.sub(r"\\\{[a-z_]+(?::path)?\\\}", "[^/]+", re.escape(path)) + "$"), path)
        for path in document["paths"]
    ]
    return document, registry, templates


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_response(method: str, path: str, status: int, content_type: str | None, body: bytes) -> None:
    """Raise AssertionError when the answer disagrees with the served document."""
    document, registry, templates = _compiled()
    path = path.split("?", 1)[0]
    matches = [template for pattern, template in templates if pattern.match(path)]
    if not matches:  # not an API route: the only right answer is "no such resource"
        assert status in (404, 405), f"{method} {path}: undocumented path answered {status}"
        return
    # The most specific template (fewest parameters) wins, as in routing.
    template = min(matches, key=lambda t: t.count("{"))
    operation = document["paths"][template].get(method.lower())
    if operation is None:
        assert status == 405, f"{method} {template}: undocumented method answered {status}"
        return
    responses = operation["responses"]
    documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    assert documented is not None, f"{method} {template}: status {status} not documented ({sorted(responses)})"
    documented = _resolve(document, documented)
    media = (content_type or "").split(";")[0].strip()
    content = documented.get("content") or {}
    if not body or status in (204, 304):
        return
    assert media in content, f"{method} {template} {status}: {media!r} not documented ({sorted(content)})"
    if media not in _JSON_TYPES or "schema" not in content[media]:
        return
    schema = (
        {"$ref": "urn:openapi#/" + _pointer(content[media]["schema"])}
        if "$ref" in content[media]["schema"]
        else {
            **content[media]["schema"],
        }
    )
    validator = Draft202012Validator(_rebase(schema), registry=registry)
    errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.path))
    assert not errors, f"{method} {template} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '(body)'}: {e.message[:200]}" for e in errors[:5]
    )


def _pointer(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).lstrip("#/")


def _rebase(node: Any) -> Any:
    """Inline schemas may hold "#/components/..." references: point them into the document."""
    if isinstance(node, dict):
        return {
            k: ("urn:openapi" + v if k == "$ref" and isinstance(v, str) and v.startswith("#/") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node
