"""GET /openapi.json: a valid OpenAPI 3.1 document with a path entry for every REST route of the
full app (falcon.inspect.inspect_app)."""

from __future__ import annotations

import re
from typing import Any

from falcon import inspect
from openapi_spec_validator import validate

from config.wiring import MOUNTS
from tests.conftest import make_client
from web.middleware import is_page


def _template(path: str) -> str:
    # falcon field converters ({serial:int}) are plain parameters in OpenAPI.
    return re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)


def test_every_route_of_the_full_app_is_documented(settings: Any, db: Any, clock: Any, key_store: Any) -> None:
    client = make_client(settings, sorted(MOUNTS), db, clock, key_store)
    response = client.simulate_get("/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    validate(document)
    info = inspect.inspect_app(client.app)
    missing = []
    for route in info.routes:
        if is_page(route.path):
            continue  # the Polish HTML pages (web/) are not part of the REST contract
        entry = document["paths"].get(_template(route.path))
        for method in route.methods:
            if method.internal or method.method == "OPTIONS":
                continue
            if entry is None or method.method.lower() not in entry:
                missing.append(f"{method.method} {route.path}")
    assert not missing, missing
    assert len(info.routes) >= 30


def test_openapi_is_public_and_cacheable(settings: Any, db: Any, clock: Any, key_store: Any) -> None:
    client = make_client(settings, ["ca"], db, clock, key_store)
    response = client.simulate_get("/openapi.json")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    assert "Problem" in response.json["components"]["schemas"]
