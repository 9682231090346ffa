"""Mount enrollment's REST API and provide its jobs."""

from __future__ import annotations

from config.runtime import Runtime, WSGIApp
from config.wiring.ca import certificate_authority
from enrollment import jobs
from enrollment.resources import Services, routes


def services_for(runtime: Runtime) -> Services:
    return Services(runtime.settings.enrollment, certificate_authority(runtime), runtime.clock)


def mount(app: WSGIApp, runtime: Runtime) -> None:
    for route, resource in routes(services_for(runtime)):
        app.add_route(route, resource)


def expire_applications_job(runtime: Runtime) -> str:
    return jobs.expire_applications(runtime.settings.enrollment, runtime.clock)


def expiry_reminders_job(runtime: Runtime) -> str:
    return jobs.expiry_reminders(runtime.settings.enrollment, certificate_authority(runtime), runtime.clock)


def send_mail_job(runtime: Runtime) -> str:
    return jobs.send_mail(runtime.settings.enrollment, runtime.clock)


def housekeeping_job(runtime: Runtime) -> str:
    return jobs.housekeeping(runtime.settings.enrollment, certificate_authority(runtime), runtime.clock)
