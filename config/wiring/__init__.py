"""Which services ``create_app`` can mount. Each entry names the module that mounts one package's
resources; it is imported only when that service is mounted, so a process that mounts only the
verifier or only OCSP never loads enrollment (tests/access/test_access.py checks ``sys.modules``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from access.principals import OfficerPoints, no_points
from config.runtime import Runtime, WSGIApp

Mount = Callable[[WSGIApp, Runtime], None]


MODULES: Mapping[str, str] = {
    "ca": "config.wiring.ca",
    "enrollment": "config.wiring.enrollment",
    "ocsp": "config.wiring.ocsp",
    "tsa": "config.wiring.tsa",
    "verifier": "config.wiring.verifier",
    "receipts": "config.wiring.receipts",
    "web": "config.wiring.web",
}


class _Mounts(Mapping[str, Mount]):
    """name → mount function, importing the wiring module on first use."""

    def __getitem__(self, name: str) -> Mount:
        module: Any = importlib.import_module(MODULES[name])
        mount: Mount = module.mount
        return mount

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)


MOUNTS: Mapping[str, Mount] = _Mounts()


def officer_points(names: list[str]) -> OfficerPoints:
    """How officers' principals get their certification points: enrollment's lookup when
    enrollment is mounted, none otherwise (no other service looks at points)."""
    if "enrollment" not in names:
        return no_points
    from enrollment.auth import officer_points as lookup

    return lookup
