"""The served OpenAPI document is the contract (issue 12, item 3): schemathesis runs every check
of every documented operation against the real app on a real HTTP server, as a portal client and
as an officer, and must find nothing.

A bounded run for CI (a few minutes in all; the seed is fixed so a failure reproduces); the long
run and its result are in docs/api.md. The CLI is used rather than schemathesis' pytest plugin,
which does not work with pytest 9."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.config.contract_app import ContractApp, build

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 10
MAX_SECONDS = 75  # per run; two runs


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ContractApp]]:
    contract = build(tmp_path_factory.mktemp("contract"))
    # One thread: the app keeps a pooled connection per thread (config.middleware).
    server: WSGIServer = make_server("127.0.0.1", 0, contract.app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", contract
    server.shutdown()
    server.server_close()


def _schemathesis(url: str, token: str, reports: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.config.schemathesis_hooks", "NO_COLOR": "1"}
    return subprocess.run(
        [
            str(ST),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--max-time",
            str(MAX_SECONDS),
            "--seed",
            "20261204",
            "--header",
            f"Authorization: Bearer {token}",
            "--report",
            "junit",
            "--report-dir",
            str(reports),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parents[1],
        timeout=MAX_SECONDS * 3,
        check=False,
    )


@pytest.mark.parametrize("who", ["portal", "officer"])
def test_schemathesis_finds_nothing(who: str, served: tuple[str, ContractApp], tmp_path: Path) -> None:
    url, contract = served
    if who == "portal":
        result = _schemathesis(url, contract.portal_token, tmp_path)
    else:
        # Logging out would end the session the rest of the run uses (the portal run covers it).
        result = _schemathesis(
            url, contract.officer_token, tmp_path, "--exclude-name", "DELETE /api/v1/sessions/current"
        )
    summary = result.stdout[result.stdout.rfind("SUMMARY") :] if "SUMMARY" in result.stdout else result.stdout
    assert result.returncode == 0, f"{result.stdout[-30000:]}\n{result.stderr[-2000:]}"
    assert "Tested:" in summary and "Failures:" not in summary and "Errors:" not in summary, summary
