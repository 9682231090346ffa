"""[ocsp] settings and the OpenAPI fragments."""

from __future__ import annotations

import falcon.inspect
import pytest

from config.settings import load_settings
from core.errors import ConfigurationError
from ocsp import openapi
from ocsp.settings import OCSPSettings


def test_defaults_from_toml() -> None:
    settings = load_settings(env={"SEKAP_TRUST__KEYSTORE__PIN_FILE": ""})
    assert settings.ocsp == OCSPSettings()
    assert settings.ocsp.validity_hours == 24


@pytest.mark.parametrize("hours", [7, 241, 0])
def test_validity_bounds(hours: int) -> None:
    """CA/B BR §4.9.10: validity between 8 hours and 10 days."""
    with pytest.raises(ConfigurationError) as info:
        OCSPSettings(validity_hours=hours)
    assert info.value.key == "ocsp.validity_hours"


@pytest.mark.parametrize("hours", [8, 240])
def test_validity_edges_allowed(hours: int) -> None:
    assert OCSPSettings(validity_hours=hours).validity_hours == hours


def test_env_override_and_unknown_key() -> None:
    env = {"SEKAP_TRUST__KEYSTORE__PIN_FILE": "", "SEKAP_TRUST__OCSP__VALIDITY_HOURS": "48"}
    assert load_settings(env=env).ocsp.validity_hours == 48
    with pytest.raises(ConfigurationError):
        load_settings(env={"SEKAP_TRUST__KEYSTORE__PIN_FILE": "", "SEKAP_TRUST__OCSP__NO_SUCH": "1"})


def test_batch_and_budget() -> None:
    with pytest.raises(ConfigurationError):
        OCSPSettings(presign_batch_size=100, presign_max_per_run=10)


def test_openapi_covers_routes(client) -> None:  # type: ignore[no-untyped-def]
    routes = {route.path for route in falcon.inspect.inspect_routes(client.app)}
    documented = set(openapi.paths())
    assert {"/ocsp", "/ocsp/{encoded}"} <= documented
    assert {r.replace(":path", "") for r in routes if r.startswith("/ocsp")} <= documented
    assert set(openapi.schemas()) == {"OCSPRequestDER", "OCSPResponseDER"}
