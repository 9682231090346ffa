"""Jinja2 rendering: autoescaped templates from ``web/templates``, times in Europe/Warsaw."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import falcon
import jinja2

WARSAW = ZoneInfo("Europe/Warsaw")

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("web", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_time(value: datetime | None) -> str:
    """A UTC datetime as a person in Poland reads it: ``2026-12-04, 16:05:09``."""
    if value is None:
        return "—"
    return value.astimezone(WARSAW).strftime("%Y-%m-%d, %H:%M:%S")


def local_time_iso(value: str | datetime | None) -> str:
    """A time from a view (a datetime, or ISO 8601 text from JSON), in Polish local time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if value else None
    return local_time(value)


def plural(n: int, one: str, few: str, many: str) -> str:
    """Polish plural forms: 1 wniosek, 2-4 (not 12-14) wnioski, otherwise wniosków."""
    if n == 1:
        return one
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return few
    return many


def file_size(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MiB".replace(".", ",")
    if value >= 1024:
        return f"{value / 1024:.1f} KiB".replace(".", ",")
    return f"{value} B"


_ENV.filters["czas"] = local_time
_ENV.filters["rozmiar"] = file_size
_ENV.filters["czas_iso"] = local_time_iso
_ENV.filters["wnioski"] = lambda n: f"{n} {plural(n, 'wniosek', 'wnioski', 'wniosków')}"


def render_page(resp: falcon.Response, template: str, status: int = 200, **context: Any) -> None:
    """Render ``template`` into ``resp`` as HTML; dynamic pages are never cached."""
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = "text/html; charset=utf-8"
    resp.cache_control = ["no-store"]
    resp.text = _ENV.get_template(template).render(**context)
