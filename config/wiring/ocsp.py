"""Mount the OCSP responder (``services={"ocsp"}``) and build its pre-signing job.

An OCSP-only process needs only the delegated signers' keys (``{ca}-ocsp``), never a CA key.
When ``database.replica_url`` is set, the responder reads certificate status, pre-signed
responses and CA rows from that replica (each worker thread keeps one connection open); the
pre-signing job always writes to the primary. Replication lag then delays what the responder
sees by that lag — keep the replica synchronous, or leave replica_url unset, if a revocation
must show in the very next response.
"""

from __future__ import annotations

import peewee as pw

from config.runtime import Runtime, WSGIApp
from core.db import open_database
from core.job_runs import JobResult
from ocsp.directory import IssuerDirectory
from ocsp.jobs import presign
from ocsp.resources import OCSPGetResource, OCSPPostResource
from ocsp.service import OCSPService


def _reader(runtime: Runtime) -> pw.Database | None:
    url = runtime.settings.database.replica_url
    return open_database(url) if url else None


def mount(app: WSGIApp, runtime: Runtime) -> None:
    settings = runtime.settings.ocsp
    reader = _reader(runtime)
    # The key store opens lazily, on the first signature, in the worker that signs.
    directory = IssuerDirectory(
        lambda label: runtime.key_store.find(label),  # noqa: PLW0108 - late binding: no key store at mount
        refresh_seconds=settings.refresh_seconds,
        reader=reader,
    )
    service = OCSPService(settings, runtime.clock, directory, reader)
    post = OCSPPostResource(service, settings)
    app.add_route("/ocsp", post)
    app.add_post_endpoint("/ocsp", post)
    app.add_route("/ocsp/{encoded:path}", OCSPGetResource(service, settings, runtime.clock))


def presign_job(runtime: Runtime) -> JobResult:
    """``ocsp.presign``: sign due responses on the primary database (see ocsp.jobs)."""
    directory = IssuerDirectory(runtime.key_store.find, refresh_seconds=0)
    done = presign(runtime.settings.ocsp, runtime.clock, directory)
    return JobResult(done.summary(), {"signed": done.total})
