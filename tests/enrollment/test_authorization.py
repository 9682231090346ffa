"""The authorisation matrix (docs/authorisation.md): every route × every principal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from falcon import inspect

from core.auth import ANONYMOUS, Principal
from enrollment.admin import Administration
from enrollment.authorization import MATRIX, ROLES_IN_ORDER, SCOPES_IN_ORDER, allowed, render_markdown
from tests.enrollment.helpers import API, PASSWORD, approved_grant, remember

DOC = Path(__file__).resolve().parents[2] / "docs" / "authorisation.md"
PRINCIPALS = ["anonymous", *(f"portal:{s}" for s in SCOPES_IN_ORDER), *(f"officer:{r}" for r in ROLES_IN_ORDER)]


def _principal(who: str) -> Principal:
    if who == "anonymous":
        return ANONYMOUS
    kind, _, name = who.partition(":")
    if kind == "portal":
        return Principal("portal", "1", scopes=frozenset({name}))
    return Principal("officer", "1", roles=frozenset({name}), points=frozenset({1}))


@pytest.fixture
def tokens(api: API, settings: Any, clock: Any) -> dict[str, str]:
    admin = Administration(settings.enrollment, clock)
    result = {}
    for scope in SCOPES_IN_ORDER:
        result[f"portal:{scope}"] = remember(
            admin.add_portal_client(name=f"only-{scope}", scopes=[scope], actor="test").token
        )
    for role in ROLES_IN_ORDER:
        grant = approved_grant(clock, f"only-{role}", [role])
        admin.add_officer(
            username=f"only-{role}", password=PASSWORD, roles=[role], points=[1], actor="test", approval_id=grant
        )
        result[f"officer:{role}"] = api.login(f"only-{role}")
    return result


def test_matrix_documented() -> None:
    """docs/authorisation.md is the rendering of MATRIX (regenerate with render_markdown())."""
    assert DOC.read_text(encoding="utf-8") == render_markdown()


def test_every_enrollment_route_is_in_the_matrix(client: Any) -> None:
    info = inspect.inspect_app(client.app)
    mounted = {
        (route.path, method.method)
        for route in info.routes
        if route.path.startswith("/api/v1/")
        for method in route.methods
        if not method.internal and method.method != "OPTIONS"
    }
    enrollment_routes = {
        (route.path, method.method)
        for route in info.routes
        if route.class_name.endswith("Resource") and "enrollment.resources" in route.source_info.replace("/", ".")
        for method in route.methods
        if not method.internal
    }
    assert enrollment_routes == set(MATRIX)
    assert set(MATRIX) <= mounted


@pytest.mark.parametrize("who", PRINCIPALS)
def test_every_route_as_principal(api: API, tokens: dict[str, str], who: str) -> None:
    """Each (route, method) of MATRIX called as ``who``: allowed ⇒ never refused by the matrix;
    not allowed ⇒ 401 for anonymous callers, 403 for others (problem+json)."""
    wrong = []
    # Logging out ends the session the other calls use: do it last.
    for route, method in sorted(MATRIX, key=lambda key: key[1] == "DELETE"):
        path = route.replace("{reference}", "SK-AAAAAAAAAA").replace("{serial}", "0A0B0C")
        headers = {} if who == "anonymous" else {"Authorization": f"Bearer {tokens[who]}"}
        response = api.call(method, path, headers, json={} if method in ("POST", "DELETE") else None)
        expected = allowed(_principal(who), MATRIX[(route, method)])
        body = response.json if response.headers.get("content-type", "").endswith("json") else {}
        refused = response.status_code in (401, 403) and body.get("code") in ("unauthenticated", "forbidden")
        if expected and refused:
            wrong.append(f"{method} {route}: refused ({response.status_code})")
        if not expected and (not refused or response.status_code != (401 if who == "anonymous" else 403)):
            wrong.append(f"{method} {route}: not refused ({response.status_code} {body.get('code')})")
    assert not wrong, wrong


def test_bad_tokens_are_401(api: API) -> None:
    for header in ("Bearer stp_nonsense", "Bearer sts_nonsense", "Bearer whatever", "Basic dXNlcjpwYXNz"):
        r = api.call("GET", "/api/v1/points", {"Authorization": header})
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
