"""Every error declares its kind, and the edge maps each kind explicitly (issue 12, item 5).

Anything without a kind is a generic 500 whose text never reaches the client."""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import falcon
import pytest
from falcon import testing

from config import http_errors
from core import errors
from core.errors import SekapError, is_family, kinds_of

ROOT = Path(__file__).resolve().parents[2]


def _import_every_module() -> None:
    """Every module of every package the project type-checks (pyproject's list), so that
    every error class exists when the tree is walked."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["packages"]
    for name in packages:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if info.name.endswith(("gunicorn_conf", "wsgi", "__main__")):
                continue  # they read the environment at import (by design); no error classes
            importlib.import_module(info.name)


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    todo = [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def _error_classes() -> list[type[SekapError]]:
    _import_every_module()
    return sorted(
        (c for c in _all_subclasses(SekapError) if not c.__module__.startswith("tests.")),
        key=lambda c: f"{c.__module__}.{c.__qualname__}",
    )


ERROR_CLASSES = _error_classes()


def test_the_walk_sees_every_package() -> None:
    modules = {c.__module__.split(".")[0] for c in ERROR_CLASSES}
    assert {"core", "hsm", "ca", "ocsp", "tsa", "verifier", "access", "enrollment"} <= modules
    assert len(ERROR_CLASSES) > 50


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_declares_exactly_one_kind_mapped_by_the_edge(cls: type[SekapError]) -> None:
    kinds = kinds_of(cls)
    if is_family(cls):
        # A family root groups its package's errors and cannot be raised at all.
        assert kinds == (), f"{cls.__name__} is a family root and must not declare a kind"
        with pytest.raises(TypeError):
            cls.__new__(cls).__init__("x")  # type: ignore[misc]
        return
    assert len(kinds) == 1, f"{cls.__name__} declares {len(kinds)} kinds: {[k.__name__ for k in kinds]}"
    mapped = [status for kind, status in http_errors.STATUS_BY_KIND if kind is kinds[0]]
    assert len(mapped) == 1, f"the kind {kinds[0].__name__} of {cls.__name__} is not mapped exactly once"


def test_every_kind_is_mapped_once() -> None:
    assert [kind for kind, _ in http_errors.STATUS_BY_KIND] == list(errors.KINDS)


def test_the_root_cannot_be_raised() -> None:
    with pytest.raises(TypeError):
        SekapError("no kind")


class _Boom:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise self.exc


def _client(exc: BaseException) -> testing.TestClient:
    app = falcon.App()
    http_errors.install(app)
    app.add_route("/boom", _Boom(exc))
    return testing.TestClient(app)


class _KindlessError(SekapError):
    """A class that forgot its kind (defined here only, so the walk above does not see it)."""

    code = "kindless"


def _kindless() -> SekapError:
    # Instantiated around the family check the way a forgotten kind would slip through.
    exc = Exception.__new__(_KindlessError)
    Exception.__init__(exc, "secret internal detail /var/keys/root.pem")
    exc.message = "secret internal detail /var/keys/root.pem"
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(_kindless(), id="sekap-error-without-kind"),
        pytest.param(RuntimeError("secret internal detail /var/keys/root.pem"), id="library-exception"),
        pytest.param(
            __import__("hsm.errors", fromlist=["KeyStoreError"]).KeyStoreError(
                "cannot decrypt key 'secret internal detail /var/keys/root.pem': wrong passphrase"
            ),
            id="wrong-keystore-passphrase",
        ),
        pytest.param(
            __import__("core.audit", fromlist=["AuditError"]).AuditError("secret internal detail /var/keys/root.pem"),
            id="audit-error",
        ),
    ],
)
def test_internal_errors_are_a_generic_500_logged_with_the_request_id(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="config.http_errors"):
        result = _client(exc).simulate_get("/boom")
    assert result.status_code == 500
    assert result.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = result.json
    assert body["code"] == "internal_error" and body["detail"] == http_errors.GENERIC_DETAIL
    assert "secret" not in result.text and "passphrase" not in result.text
    assert any("failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_identifier_errors_are_invalid_input_with_a_field() -> None:
    from core.identifiers import IdentifierError

    result = _client(IdentifierError("PESEL has an invalid check digit", field="pesel")).simulate_get("/boom")
    assert result.status_code == 422
    assert json.loads(result.text)["errors"] == [
        {"field": "pesel", "message": "PESEL has an invalid check digit", "code": "invalid_identifier"}
    ]


def test_unavailable_kind_is_503_with_retry_after_and_no_internal_text() -> None:
    from hsm.errors import KeyStoreUnavailableError

    result = _client(KeyStoreUnavailableError("token 'citizens' lost its session")).simulate_get("/boom")
    assert result.status_code == 503
    assert result.headers["retry-after"] == str(http_errors.RETRY_AFTER_SECONDS)
    assert result.json["code"] == "unavailable" and "token" not in result.text


def _peewee_error(driver_error: BaseException) -> BaseException:
    import peewee as pw

    try:
        try:
            raise driver_error
        except BaseException as exc:
            raise pw.OperationalError(str(exc)) from exc
    except pw.OperationalError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    ("driver_error", "status"),
    [
        pytest.param(__import__("sqlite3").OperationalError("database is locked"), 503, id="sqlite-locked"),
        pytest.param(__import__("sqlite3").OperationalError("unable to open database file"), 503, id="sqlite-open"),
        pytest.param(__import__("psycopg2").OperationalError("server closed the connection"), 503, id="pg-gone"),
        pytest.param(__import__("psycopg2").InterfaceError("connection already closed"), 503, id="pg-closed"),
        pytest.param(__import__("sqlite3").OperationalError("no such table: ca_certificate"), 500, id="sqlite-bug"),
    ],
)
def test_database_unavailable_is_503_with_retry_after_and_a_bug_is_500(
    driver_error: BaseException, status: int
) -> None:
    result = _client(_peewee_error(driver_error)).simulate_get("/boom")
    assert result.status_code == status
    assert result.headers["content-type"] == "application/problem+json"
    assert ("retry-after" in result.headers) is (status == 503)
    assert "table" not in result.text and "connection" not in result.text


def test_an_exhausted_connection_pool_is_503() -> None:
    from playhouse.pool import MaxConnectionsExceeded

    result = _client(MaxConnectionsExceeded("Exceeded maximum connections.")).simulate_get("/boom")
    assert result.status_code == 503 and result.headers["retry-after"]
