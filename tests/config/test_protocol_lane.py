"""The direct path for protocol POST endpoints (config.protocol_lane): same answers, same request
id, access line and connection handling as the falcon path; everything unusual goes to falcon."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import falcon
import pytest
from falcon import testing

from config import middleware
from config.logging_setup import ACCESS_LOG
from config.middleware import DatabaseMiddleware, RequestIdMiddleware
from config.protocol_lane import App
from core.db import database
from core.request_context import request_id

pytestmark = pytest.mark.usefixtures("db")  # the proxy the lane returns connections to


class _Echo:
    """A protocol endpoint that reports what it was given."""

    response_type = "application/x-echo"

    def __init__(self, query_db: bool = False, fail: bool = False) -> None:
        self.query_db = query_db
        self.fail = fail
        self.calls: list[tuple[str | None, int | None, bytes, str | None]] = []

    def answer_post(
        self, content_type: str | None, content_length: int | None, read: Callable[[int], bytes]
    ) -> tuple[int, bytes]:
        if self.query_db:
            database.execute_sql("SELECT 1").fetchone()
        if self.fail:
            raise RuntimeError("boom")
        body = read(1000)
        self.calls.append((content_type, content_length, body, request_id.get()))
        return 200, b"echo:" + body

    def failure(self) -> tuple[int, bytes]:
        return 503, b"failure"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = b"falcon-get"


def _client(endpoint: _Echo) -> testing.TestClient:
    app = App(middleware=[RequestIdMiddleware(), DatabaseMiddleware()])
    app.add_route("/echo", endpoint)
    app.add_post_endpoint("/echo", endpoint)
    return testing.TestClient(app)


def _call(app: object, environ: dict[str, object]) -> bytes:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        return None

    assert callable(app)
    return b"".join(app(environ, start_response))


def test_post_goes_straight_to_the_endpoint_with_the_usual_headers() -> None:
    endpoint = _Echo()
    result = _client(endpoint).simulate_post(
        "/echo", body=b"hello", headers={"Content-Type": "application/x-q", "X-Request-ID": "rid-42"}
    )
    assert result.status_code == 200 and result.content == b"echo:hello"
    assert result.headers["Content-Type"] == "application/x-echo"
    assert result.headers["Cache-Control"] == "no-store"
    assert result.headers["Content-Length"] == "10"
    assert result.headers["X-Request-ID"] == "rid-42"
    # The endpoint ran under the request id; it is reset afterwards.
    assert endpoint.calls == [("application/x-q", 5, b"hello", "rid-42")]
    assert request_id.get() is None


def test_unsafe_request_ids_are_replaced() -> None:
    result = _client(_Echo()).simulate_post("/echo", body=b"x", headers={"X-Request-ID": "a b\nc"})
    assert result.headers["X-Request-ID"] != "a b\nc" and len(result.headers["X-Request-ID"]) == 32


def test_the_body_is_bounded_by_content_length() -> None:
    endpoint = _Echo()
    app = _client(endpoint).app
    environ = testing.create_environ(method="POST", path="/echo", body=b"abcdef")
    environ["CONTENT_LENGTH"] = "3"  # the stream holds more than the header announces
    _call(app, environ)
    assert endpoint.calls[0][1:3] == (3, b"abc")


def test_without_content_length_there_is_no_body_like_falcon() -> None:
    endpoint = _Echo()
    app = _client(endpoint).app
    environ = testing.create_environ(method="POST", path="/echo", body=b"abcdef")
    del environ["CONTENT_LENGTH"]
    _call(app, environ)
    assert endpoint.calls[0][1:3] == (None, b"")


@pytest.mark.parametrize("length", ["abc", "-1", "²"])
def test_a_bad_content_length_is_read_as_no_body_and_answered_by_the_endpoint(length: str) -> None:
    """The protocol answers it in its own terms (an empty query), never falcon's problem+json."""
    endpoint = _Echo()
    app = _client(endpoint).app
    environ = testing.create_environ(method="POST", path="/echo", body=b"abc")
    environ["CONTENT_LENGTH"] = length
    body = _call(app, environ)
    assert endpoint.calls[0][1:3] == (None, b"") and body == b"echo:"


def test_other_methods_and_paths_go_through_falcon_a_trailing_slash_does_not() -> None:
    client = _client(_Echo())
    assert client.simulate_get("/echo").content == b"falcon-get"
    assert client.simulate_put("/echo").status_code == 405
    assert client.simulate_post("/echo/", body=b"z").content == b"echo:z"  # the trailing slash, as falcon
    assert client.simulate_post("/other").status_code == 404


def test_an_escaped_exception_becomes_the_protocol_failure(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="config.protocol_lane"):
        result = _client(_Echo(fail=True)).simulate_post("/echo", body=b"x")
    assert result.status_code == 503 and result.content == b"failure"
    assert "protocol endpoint failed" in caplog.text


def test_the_thread_keeps_its_connection_between_requests() -> None:
    database.close()
    client = _client(_Echo(query_db=True))
    assert client.simulate_post("/echo", body=b"x").status_code == 200
    kept = database.connection()
    assert client.simulate_post("/echo", body=b"y").status_code == 200
    assert database.connection() is kept


def test_the_connection_goes_back_to_the_pool_after_a_failure() -> None:
    database.close()
    client = _client(_Echo(query_db=True))
    client.simulate_post("/echo", body=b"x")
    assert not database.is_closed()
    endpoint = _Echo(query_db=True, fail=True)
    assert _client(endpoint).simulate_post("/echo", body=b"x").status_code == 503
    assert database.is_closed()


def test_a_kept_connection_is_returned_after_keep_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    database.close()
    client = _client(_Echo(query_db=True))
    client.simulate_post("/echo", body=b"x")
    monkeypatch.setattr(middleware, "KEEP_SECONDS", 0.0)
    client.simulate_post("/echo", body=b"y")
    assert database.is_closed()


def test_the_access_line_is_written_once_as_json() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    ACCESS_LOG.write_direct_to(handler)
    try:
        _client(_Echo()).simulate_post("/echo", body=b"x", headers={"X-Request-ID": "rid-7"})
        ACCESS_LOG.flush()
    finally:
        ACCESS_LOG.write_direct_to(None)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "POST /echo 200 OK" and entry["request_id"] == "rid-7"
    assert entry["logger"] == "sekap_trust.access" and entry["status"] == "200 OK"
    assert isinstance(entry["duration_ms"], float) and entry["time"].endswith("+00:00")
