"""WSGI apps the TSA benchmark compares against, served by the same gunicorn configuration.

- ``ceiling()``: a trivial falcon endpoint (reads the query, answers fixed bytes): the HTTP ceiling.
- ``certomancer()``: certomancer's ``TimeStamper`` behind an equally trivial falcon endpoint, with
  the same TSA certificate and key (paths in BENCH_TSA_CERT / BENCH_TSA_KEY).
- ``tsa_bare()`` and ``tsa_record_variant(kind)``: diagnostics only (``--diagnostic``), never
  production figures; they show where a token's cost goes.
"""

from __future__ import annotations

import os

import falcon

REPLY = "application/timestamp-reply"
# About the size of one of our tokens with the TSA certificate.
FIXED_REPLY = b"\x30\x82\x04\x00" + b"\x00" * 1024


class _Ceiling:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.bounded_stream.read(4097)
        resp.content_type = REPLY
        resp.data = FIXED_REPLY


def ceiling() -> falcon.App:
    app = falcon.App()
    app.add_route("/tsa", _Ceiling())
    return app


class _Certomancer:
    def __init__(self) -> None:
        from asn1crypto import keys, pem, x509
        from certomancer.services import TimeStamper

        with open(os.environ["BENCH_TSA_CERT"], "rb") as handle:
            cert = x509.Certificate.load(pem.unarmor(handle.read())[2])
        with open(os.environ["BENCH_TSA_KEY"], "rb") as handle:
            key = keys.PrivateKeyInfo.load(pem.unarmor(handle.read())[2])
        self.stamper = TimeStamper(tsa_cert=cert, tsa_key=key, certs_to_embed=[cert])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        from asn1crypto import tsp

        query = tsp.TimeStampReq.load(req.bounded_stream.read(4097))
        resp.content_type = REPLY
        resp.data = self.stamper.request_tsa_response(query).dump()


def certomancer() -> falcon.App:
    app = falcon.App()
    app.add_route("/tsa", _Certomancer())
    return app


def tsa_bare() -> falcon.App:
    """Diagnostic only: the same TSA resource and service, in a falcon app without the shared
    middleware (request id, access log, per-request database connection). Shows what the TSA
    itself costs; the production figure is the ``config.wsgi`` run."""
    from config.protocol_lane import App
    from config.runtime import Runtime
    from config.settings import load_settings
    from core import db as core_db
    from tsa.resources import TimeStampResource
    from tsa.service import TimeStampService

    settings = load_settings()
    core_db.bind(core_db.open_database(settings.database.url))
    runtime = Runtime(settings)
    service = TimeStampService(settings.tsa, settings.ca.tsa.name, lambda: runtime.key_store, runtime.clock)
    app = App()  # without middleware; POST /tsa goes straight to the resource
    app.add_post_endpoint("/tsa", TimeStampResource(service))
    return app


def tsa_record_variant(kind: str) -> falcon.App:
    """Diagnostic only: the production app (``config.wsgi``) with the token record replaced.

    - ``"none"``: no record at all (the token is returned unrecorded);
    - ``"no-fsync"``: the same group commit into SQLite, but ``synchronous=NORMAL`` (the commit is
      not fsynced: it survives a crash of the process, not of the machine);
    - ``"file-fsync"``: the cheapest durable record there is: one line appended to a per-process
      file and ``fdatasync`` before the token is returned (threads of a worker share a sync when
      they overlap). Nothing reaches ``tsa_token``.

    They bound what any recording design could gain on this machine: the gap between ``none`` and
    ``file-fsync`` is the price of durability itself, not of SQLite or of the group commit.
    """
    import json
    import tempfile
    import threading
    from datetime import datetime
    from typing import Any

    from config.wsgi import application
    from tsa.resources import TimeStampResource

    app = application()
    endpoint = app.post_endpoint("/tsa")
    assert isinstance(endpoint, TimeStampResource)
    recorder = endpoint.service.recorder
    if kind == "none":
        recorder.record = lambda row: None  # type: ignore[method-assign]
    elif kind == "no-fsync":
        import tsa.recorder

        tsa.recorder.SQLITE_PRAGMAS = tuple(
            (name, "normal" if name == "synchronous" else value) for name, value in tsa.recorder.SQLITE_PRAGMAS
        )
    elif kind == "file-fsync":
        state: dict[str, Any] = {"fd": None, "pid": None, "written": 0, "synced": 0, "syncing": False}
        cond = threading.Condition()
        # The bench's temporary directory, removed with it after the run.
        directory = tempfile.mkdtemp(prefix="tsa-journal-", dir=os.environ.get("BENCH_TMP"))

        def default(value: object) -> str:
            return value.isoformat() if isinstance(value, datetime) else str(value)

        def record(row: dict[str, Any]) -> None:
            line = json.dumps(row, default=default).encode() + b"\n"
            with cond:
                if state["pid"] != os.getpid():  # opened after the fork, one file per worker
                    path = f"{directory}/{os.getpid()}.jsonl"
                    state["fd"] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    state["pid"] = os.getpid()
                os.write(state["fd"], line)
                state["written"] += 1
                mine = state["written"]
            while True:
                with cond:
                    if state["synced"] >= mine:
                        return
                    if state["syncing"]:
                        cond.wait()
                        continue
                    state["syncing"], target = True, state["written"]
                os.fdatasync(state["fd"])
                with cond:
                    state["synced"], state["syncing"] = max(state["synced"], target), False
                    cond.notify_all()

        recorder.record = record  # type: ignore[method-assign]
    else:
        raise ValueError(f"unknown record variant {kind!r}")
    return app


def tsa_no_record() -> falcon.App:
    """``tsa_record_variant("none")`` as a factory without arguments (granian's ``--factory``)."""
    return tsa_record_variant("none")
