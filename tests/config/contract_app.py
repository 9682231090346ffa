"""The whole app on a fresh SQLite database with a test PKI, a portal client (every scope) and
an officer session, for checking the served OpenAPI document against the server (schemathesis).

``python -m tests.config.contract_app DIR`` serves it on an ephemeral 127.0.0.1 port and prints
the URL and the two tokens, for a long schemathesis CLI run (see docs/api.md)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import peewee as pw
from falcon import testing

from access.models import SCOPES
from config.app import create_app
from config.migrations import all_migrations
from config.runtime import WSGIApp
from config.settings import load_settings
from config.wiring import MOUNTS
from core import db as core_db
from core.clock import SystemClock
from core.migrations import upgrade
from enrollment.admin import Administration
from tests.enrollment.helpers import API, create_parties, remember
from tests.pki import build_pki, software_store

SERVICES = sorted(MOUNTS)  # every service: the served document describes them all


@dataclass(frozen=True)
class ContractApp:
    app: WSGIApp
    database: pw.Database
    portal_token: str
    officer_token: str


def build(directory: Path) -> ContractApp:
    url = f"sqlite:///{directory}/contract.db"
    settings = load_settings(env={"SEKAP_TRUST__DATABASE__URL": url, "SEKAP_TRUST__KEYSTORE__PIN_FILE": ""})
    enrollment = replace(
        settings.enrollment,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        pkcs12_kdf_rounds=2048,
        point_key_algorithm="ec-p256",
    )
    settings = replace(settings, enrollment=enrollment)
    database = core_db.open_database(url)
    core_db.bind(database)
    clock = SystemClock()
    with core_db.connection():
        upgrade(all_migrations())
        key_store = software_store(directory / "keys")
        build_pki(clock, key_store)
        parties = create_parties(enrollment, clock)
        # One portal client holding every scope, so every portal operation is reachable.
        portal = Administration(enrollment, clock).add_portal_client(
            name="contract", scopes=sorted(SCOPES), actor="test"
        )
    app = create_app(settings, SERVICES, clock=clock, key_store=key_store, database=database)
    officer = API(testing.TestClient(app)).login("raadmin")
    database.close()
    _ = parties
    return ContractApp(app, database, remember(portal.token), officer)


def main() -> None:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    # One thread: the app keeps a pooled connection per thread (config.middleware), which a
    # server starting a new thread per request would leak until the pool is exhausted.
    contract = build(Path(sys.argv[1]))
    server = make_server("127.0.0.1", 0, contract.app, handler_class=Quiet)
    print(f"url=http://127.0.0.1:{server.server_port}", flush=True)
    print(f"portal={contract.portal_token}", flush=True)
    print(f"officer={contract.officer_token}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
