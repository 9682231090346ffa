"""Mount enrollment's REST API and provide its jobs."""

from __future__ import annotations

from datetime import timedelta

from config.runtime import Runtime, WSGIApp
from config.wiring.ca import certificate_authority
from core import job_runs
from core.job_runs import JobResult
from enrollment import jobs
from enrollment.resources import Services, routes


def services_for(runtime: Runtime) -> Services:
    return Services(runtime.settings.enrollment, certificate_authority(runtime), runtime.clock)


def mount(app: WSGIApp, runtime: Runtime) -> None:
    for route, resource in routes(services_for(runtime)):
        app.add_route(route, resource)


def expire_applications_job(runtime: Runtime) -> JobResult:
    return jobs.expire_applications(runtime.settings.enrollment, runtime.clock)


def expiry_reminders_job(runtime: Runtime) -> JobResult:
    return jobs.expiry_reminders(runtime.settings.enrollment, certificate_authority(runtime), runtime.clock)


def send_mail_job(runtime: Runtime) -> JobResult:
    return jobs.send_mail(runtime.settings.enrollment, runtime.clock)


def housekeeping_job(runtime: Runtime) -> JobResult:
    """Enrollment's purges, then the job runs older than ``jobs.run_retention_days``."""
    done = jobs.housekeeping(runtime.settings.enrollment, certificate_authority(runtime), runtime.clock)
    before = runtime.clock.now() - timedelta(days=runtime.settings.jobs.run_retention_days)
    runs = job_runs.purge(before)
    return JobResult(f"{done.summary}, {runs} old job run(s) removed", {**done.counts, "job_runs_removed": runs})
