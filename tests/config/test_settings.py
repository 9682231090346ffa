from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import load_settings
from core.errors import ConfigurationError


def test_defaults_load_and_are_frozen() -> None:
    s = load_settings(env={})
    assert s.database.url.startswith("sqlite:///")
    assert s.ca.root.algorithm == "ec-p384"
    with pytest.raises(AttributeError):
        s.server.port = 1  # type: ignore[misc]


def test_file_merges_over_defaults(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[server]\nport = 9000\n[ca.root]\ncommon_name = "Other Root"\n')
    s = load_settings(f, env={})
    assert s.server.port == 9000 and s.ca.root.common_name == "Other Root" and s.ca.root.name == "root"
    assert load_settings(env={"SEKAP_TRUST_CONFIG": str(f)}).server.port == 9000


def test_environment_overrides_single_keys() -> None:
    s = load_settings(
        env={
            "SEKAP_TRUST__DATABASE__URL": "postgresql://u@h/db",
            "SEKAP_TRUST__SERVER__WORKERS": "5",
            "SEKAP_TRUST__LOGGING__JSON": "false",
        }
    )
    assert s.database.url == "postgresql://u@h/db" and s.server.workers == 5 and s.logging.json is False


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[server]\nprot = 1\n", "server.prot"),
        ("[server]\nport = 'x'\n", "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[database]\nurl = 'mysql://x'\n", "database.url"),
        ("[ca.root]\nalgorithm = 'dsa'\n", "ca.root.algorithm"),
        ("[ca]\npolicy_oid = 'not.an.oid'\n", "ca.policy_oid"),
        ("[ca.ocsp_signer]\nvalidity_days = 400\n", "ca.ocsp_signer.validity_days"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[server\n", "config"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "out-of-range",
        "bad-url",
        "bad-algorithm",
        "bad-oid",
        "bad-signer",
        "unknown-section",
        "bad-toml",
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    f = tmp_path / "s.toml"
    f.write_text(toml)
    with pytest.raises(ConfigurationError) as info:
        load_settings(f, env={})
    assert info.value.key.startswith(key), info.value


def test_secrets_are_refused_in_toml(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[keystore]\npin = "1234"\n')
    with pytest.raises(ConfigurationError) as info:
        load_settings(f, env={})
    assert info.value.key == "keystore.pin"


def test_secret_from_environment_or_file(tmp_path: Path) -> None:
    assert load_settings(env={"SEKAP_TRUST_KEYSTORE_PIN": "s3cret"}).keystore.pin == "s3cret"
    secret = tmp_path / "pin"
    secret.write_text("from-file\n")
    assert load_settings(env={"SEKAP_TRUST_KEYSTORE_PIN_FILE": str(secret)}).keystore.pin == "from-file"
    with pytest.raises(ConfigurationError):
        load_settings(env={"SEKAP_TRUST_KEYSTORE_PIN_FILE": str(tmp_path / "missing")})


def test_secret_never_appears_in_repr() -> None:
    s = load_settings(env={"SEKAP_TRUST_KEYSTORE_PIN": "s3cret-value"})
    assert "s3cret-value" not in repr(s)
