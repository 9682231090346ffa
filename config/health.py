"""Liveness and readiness probes."""

from __future__ import annotations

import logging

import falcon

from config.job_schedule import SCHEDULE
from config.runtime import Runtime
from config.wiring.audit import seal_staleness
from core import job_runs
from core.db import database
from core.errors import SekapError

logger = logging.getLogger(__name__)


class HealthResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class ReadinessResource:
    """503 unless the database answers, the key store can be used and the audit trail is anchored.

    ``stale_jobs`` lists the periodic jobs without a successful run (on any host) for two of
    their intervals. It does not make the host unready: a stuck jobs loop or an unreachable SMTP
    server is not this host's inability to serve, and taking every host out of the load balancer
    would not mend it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks: dict[str, str] = {}
        try:
            database.execute_sql("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # any driver error means "not ready", never a 500
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            self.runtime.key_store.check()
            checks["key_store"] = "ok"
        except SekapError as exc:
            checks["key_store"] = f"unavailable: {exc.code}"
        except Exception as exc:
            checks["key_store"] = f"unavailable: {type(exc).__name__}"
        try:
            checks["audit_seal"] = seal_staleness(self.runtime, self.runtime.clock.now()) or "ok"
        except Exception as exc:  # a database error is reported by the database check
            checks["audit_seal"] = f"unavailable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "not ready", "checks": checks}
        if checks["database"] == "ok":
            resp.media["stale_jobs"] = self._stale_jobs()

    def _stale_jobs(self) -> list[str]:
        try:
            return job_runs.stale_jobs(SCHEDULE, self.runtime.clock.now())
        except Exception:  # the database went away since its check; that check speaks for it
            logger.warning("could not read the job runs for /readyz", exc_info=True)
            return []
