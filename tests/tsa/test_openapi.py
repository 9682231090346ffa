"""Every route the TSA mounts is documented in tsa.openapi (binary media types, RFC 3161 §3.4)."""

from __future__ import annotations

from falcon import inspect as falcon_inspect
from falcon import testing

from tsa import openapi


def test_routes_are_documented(client: testing.TestClient) -> None:
    routes = falcon_inspect.inspect_routes(client.app)
    documented = openapi.paths()
    ours = [route for route in routes if route.class_name == "TimeStampResource"]
    assert [route.path for route in ours] == ["/tsa"]
    for route in ours:
        assert route.path in documented
        methods = {m.method.lower() for m in route.methods if m.internal is False}
        assert methods <= set(documented[route.path])
    # POST /tsa is served by the direct protocol path, which falcon's inspection does not list.
    assert client.app.post_endpoint_paths() == ["/tsa"]
    assert type(client.app.post_endpoint("/tsa")).__name__ == "TimeStampResource"
    assert client.app.post_endpoint("/tsa/") is None  # exact paths only; the lane strips the slash
    post = documented["/tsa"]["post"]
    assert "application/timestamp-query" in post["requestBody"]["content"]
    assert "application/timestamp-reply" in post["responses"]["200"]["content"]
    assert openapi.schemas() == {}
