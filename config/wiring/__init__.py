"""Which services ``create_app`` can mount. Each entry mounts one package's resources."""

from __future__ import annotations

from collections.abc import Callable

from config.runtime import Runtime, WSGIApp
from config.wiring import ca
from config.wiring import enrollment as enrollment_wiring
from config.wiring import ocsp as ocsp_wiring
from config.wiring import tsa as tsa_wiring
from config.wiring import verifier as verifier_wiring

Mount = Callable[[WSGIApp, Runtime], None]

MOUNTS: dict[str, Mount] = {
    "ca": ca.mount,
    "enrollment": enrollment_wiring.mount,
    "ocsp": ocsp_wiring.mount,
    "tsa": tsa_wiring.mount,
    "verifier": verifier_wiring.mount,
}
