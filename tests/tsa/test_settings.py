"""[tsa] settings are validated at start-up with errors naming the key."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from tsa.settings import TSASettings


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"policy_oid": "not-an-oid"}, "tsa.policy_oid"),
        ({"policy_oid": "3.1"}, "tsa.policy_oid"),
        ({"accepted_policies": ("1.2", "1..2")}, "tsa.accepted_policies[1]"),
        ({"accuracy_ms": 0}, "tsa.accuracy_ms"),
        ({"gen_time_precision": 7}, "tsa.gen_time_precision"),
        ({"max_request_bytes": 10}, "tsa.max_request_bytes"),
        ({"max_clock_error_ms": -1}, "tsa.max_clock_error_ms"),
        ({"host_id": "h" * 101}, "tsa.host_id"),
        ({"signer_refresh_seconds": 0}, "tsa.signer_refresh_seconds"),
    ],
)
def test_invalid_settings_name_the_key(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        TSASettings(**kwargs)  # type: ignore[arg-type]
    assert caught.value.key == key


def test_policies_and_clock_error_limit() -> None:
    settings = TSASettings(policy_oid="1.2.3", accepted_policies=("1.2.4", "1.2.3"), accuracy_ms=500)
    assert settings.policies == ("1.2.3", "1.2.4")
    assert settings.clock_error_limit_us == 500_000
    assert TSASettings(max_clock_error_ms=100).clock_error_limit_us == 100_000


def test_loaded_from_toml_defaults() -> None:
    from config.settings import load_settings

    tsa = load_settings(env={"SEKAP_TRUST__TSA__GEN_TIME_PRECISION": "3"}).tsa
    assert tsa.gen_time_precision == 3
    assert tsa.policy_oid == "2.999.1.2.1"
    assert tsa.accept_sha1 is False
