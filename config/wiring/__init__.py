"""Which services ``create_app`` can mount. Each entry mounts one package's resources."""

from __future__ import annotations

from collections.abc import Callable

import falcon

from config.runtime import Runtime
from config.wiring import ca

Mount = Callable[[falcon.App, Runtime], None]

MOUNTS: dict[str, Mount] = {
    "ca": ca.mount,
}
