"""``sekap-trust point add``, ``officer add|disable|reset-password``, ``portal-client add``, ``agreement add``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from access.models import Officer, PortalClient
from access.secrets import token_hash
from config.cli import build_parser, main
from config.runtime import Runtime
from enrollment.models import Agreement, CertificationPoint
from tests.enrollment.helpers import PASSWORD


def run(settings: Any, clock: Any, key_store: Any, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, runtime=Runtime(settings, clock, key_store))
    return code, out.getvalue()


@pytest.fixture
def cli(db: Any, settings: Any, clock: Any, key_store: Any) -> Any:
    return lambda *argv: run(settings, clock, key_store, *argv)


def test_point_officer_portal_client(cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(
        "point",
        "add",
        "--name",
        "UM Katowice",
        "--street",
        "ul. Młyńska 4",
        "--postal-code",
        "40-098",
        "--city",
        "Katowice",
        "--teryt",
        "2469011",
        "--dual-control",
        "--json",
    )
    assert code == 0
    point_id = json.loads(out)["id"]
    assert CertificationPoint.get_by_id(point_id).dual_control
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    code, out = cli(
        "officer",
        "add",
        "--username",
        "anna",
        "--role",
        "ra_officer",
        "--role",
        "auditor",
        "--point",
        str(point_id),
        "--password-file",
        str(password_file),
        "--json",
    )
    assert code == 0 and json.loads(out)["roles"] == ["auditor", "ra_officer"]
    officer = Officer.get(Officer.username == "anna")
    assert officer.password_hash.startswith("$argon2id$") and PASSWORD not in out
    code, out = cli("portal-client", "add", "--name", "ePUAP", "--scopes", "applications", "citizens", "--json")
    token = json.loads(out)["token"]
    assert PortalClient.get(PortalClient.name == "ePUAP").token_hash == token_hash(token)
    code, out = cli("portal-client", "add", "--name", "verifier-portal", "--scopes", "verify")
    assert code == 0 and "shown only now" in out and "stp_" in out
    code, _ = cli("officer", "disable", "--username", "anna")
    assert code == 0 and Officer.get(Officer.username == "anna").disabled
    agreement = tmp_path / "umowa.txt"
    agreement.write_text("Umowa, wersja 1", encoding="utf-8")
    code, out = cli("agreement", "add", "--file", str(agreement), "--json")
    assert code == 0 and json.loads(out)["version"] == 1 and Agreement.select().count() == 1


def test_password_is_never_a_plain_argument() -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["officer", "add", "--username", "x", "--role", "ra_officer", "--password", PASSWORD])


def test_password_prompt_and_policy(
    cli: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["weak", "weak"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _ = cli("officer", "add", "--username", "bob", "--role", "ra_officer")
    assert code == 1 and "at least 8 characters" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    code, _ = cli("officer", "add", "--username", "bob", "--role", "ra_officer")
    assert code == 0
    answers = iter(["Nowe-Haslo-99", "Inne-Haslo-99"])
    code, _ = cli("officer", "reset-password", "--username", "bob")
    assert code == 1 and "differ" in capsys.readouterr().err
    answers = iter(["Nowe-Haslo-99", "Nowe-Haslo-99"])
    assert cli("officer", "reset-password", "--username", "bob")[0] == 0


def test_bad_point_data(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = cli(
        "point", "add", "--name", "X", "--street", "S", "--postal-code", "40098", "--city", "C", "--teryt", "3201016"
    )
    assert code == 1
    assert CertificationPoint.select().count() == 0
