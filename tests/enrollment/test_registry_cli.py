"""``sekap-trust point|officer|portal-client|agreement list/show/disable`` (issue 14): what an
administrator needs to see and switch off, without printing any secret."""

from __future__ import annotations

import io
import json
from typing import Any

from config.cli import main
from config.runtime import Runtime
from tests.enrollment.helpers import API, Parties, application_body


def run(settings: Any, clock: Any, key_store: Any, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, runtime=Runtime(settings, clock, key_store))
    return code, out.getvalue()


def test_points_carry_hours_and_phone_and_can_be_closed(
    api: API, parties: Parties, settings: Any, clock: Any, key_store: Any
) -> None:
    code, out = run(
        settings, clock, key_store, "point", "add", "--name", "UM Chorzów", "--street", "ul. Rynek 1",
        "--postal-code", "41-500", "--city", "Chorzów", "--teryt", "2463011",
        "--opening-hours", "pon.-pt. 8:00-16:00", "--phone", "+48 32 111 22 33", "--json",
    )  # fmt: skip
    assert code == 0
    point_id = json.loads(out)["id"]
    code, out = run(settings, clock, key_store, "point", "show", "--id", str(point_id), "--json")
    [shown] = json.loads(out)
    assert shown["opening_hours"] == "pon.-pt. 8:00-16:00" and shown["phone"] == "+48 32 111 22 33"
    r = api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=application_body(point_id))
    assert r.status_code == 201
    from enrollment.models import OutgoingEmail

    body = OutgoingEmail.select().order_by(OutgoingEmail.id.desc()).get().body
    assert "czynny: pon.-pt. 8:00-16:00" in body and "tel. +48 32 111 22 33" in body
    assert run(settings, clock, key_store, "point", "disable", "--id", str(point_id))[0] == 0
    closed = api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=application_body(point_id))
    assert closed.status_code == 422
    assert "DISABLED" in run(settings, clock, key_store, "point", "list")[1]


def test_officer_list_and_show_without_secrets(parties: Parties, settings: Any, clock: Any, key_store: Any) -> None:
    code, out = run(settings, clock, key_store, "officer", "list", "--json")
    officers = {o["username"]: o for o in json.loads(out)}
    assert officers["officer2"]["points"] == sorted([parties.point_id, parties.dual_point_id])
    assert officers["officer1"]["totp"] is False and "password_hash" not in officers["officer1"]
    assert "argon2" not in out
    code, out = run(settings, clock, key_store, "officer", "show", "--username", "auditor")
    assert code == 0 and "roles=['auditor']" in out
    assert run(settings, clock, key_store, "officer", "show", "--username", "nikt")[0] == 1


def test_disabling_a_portal_client_revokes_its_token(
    api: API, parties: Parties, settings: Any, clock: Any, key_store: Any
) -> None:
    _code, out = run(settings, clock, key_store, "portal-client", "list", "--json")
    assert {c["name"] for c in json.loads(out)} == {"portal", "portal-2"}
    assert parties.portal_token not in out
    body = application_body(parties.point_id)
    assert api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=body).status_code == 201
    assert run(settings, clock, key_store, "portal-client", "disable", "--name", "portal")[0] == 0
    refused = api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=body)
    assert refused.status_code == 401
    _, out = run(settings, clock, key_store, "portal-client", "show", "--name", "portal", "--json")
    assert json.loads(out)[0]["disabled"] is True


def test_agreement_list_and_show(parties: Parties, settings: Any, clock: Any, key_store: Any) -> None:
    code, out = run(settings, clock, key_store, "agreement", "list", "--json")
    [row] = json.loads(out)
    assert row["version"] == parties.agreement_version
    code, out = run(settings, clock, key_store, "agreement", "show", "--version", str(row["version"]))
    assert code == 0 and "Umowa o świadczenie usług certyfikacyjnych" in out
    assert run(settings, clock, key_store, "agreement", "show", "--version", "99")[0] == 1


def test_migration_3_adds_the_point_columns_to_an_older_database(db: Any) -> None:
    """A database made before step 3 (no hours, phone, disabled) gets the columns, rows intact."""
    from config.migrations import all_migrations
    from core.migrations import SchemaMigration, upgrade

    for column in ("opening_hours", "phone", "disabled"):
        db.execute_sql(f"ALTER TABLE enrollment_point DROP COLUMN {column}")
    SchemaMigration.delete().where((SchemaMigration.package == "enrollment") & (SchemaMigration.version == 3)).execute()
    ran = upgrade(all_migrations())
    assert [(m.package, m.version) for m in ran] == [("enrollment", 3)]
    assert {"opening_hours", "phone", "disabled"} <= {c.name for c in db.get_columns("enrollment_point")}
