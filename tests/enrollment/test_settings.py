"""[enrollment] settings: defaults, validation naming the key, the SMTP password as a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import load_settings
from core.errors import ConfigurationError
from enrollment.settings import EnrollmentSettings, SMTPSettings


def test_defaults_match_reference() -> None:
    s = load_settings(env={}).enrollment
    assert s.application_ttl_days == 14  # REFERENCE.md: confirmed in person within 14 days
    assert s.evidence_retention_years == 20  # REFERENCE.md: identity records 20 years
    assert s.max_remote_renewals == 1 and s.renewal_window_days == 30
    assert s.reminder_days == (30, 7)
    assert s.code_max_attempts == 5 and s.code_window_minutes == 15
    assert s == EnrollmentSettings()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("application_ttl_days", "0"),
        ("pkcs12_kdf_rounds", "10"),
        ("point_key_algorithm", '"dsa-1024"'),
        ("reminder_days", "[7, 7]"),
        ("login_max_failures", "0"),
    ],
)
def test_invalid_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(env={f"SEKAP_TRUST__ENROLLMENT__{key.upper()}": value})
    assert info.value.key == f"enrollment.{key}"


def test_smtp_password_from_environment_or_file(tmp_path: Path) -> None:
    assert load_settings(env={}).enrollment.smtp.password is None
    s = load_settings(env={"SEKAP_TRUST_SMTP_PASSWORD": "from-env"})
    assert s.enrollment.smtp.password == "from-env"
    secret = tmp_path / "smtp"
    secret.write_text("from-file\n")
    s = load_settings(env={"SEKAP_TRUST_SMTP_PASSWORD_FILE": str(secret)})
    assert s.enrollment.smtp.password == "from-file"
    assert "from-file" not in repr(s.enrollment.smtp)


def test_smtp_password_refused_in_toml(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[enrollment.smtp]\npassword = "plain"\n')
    with pytest.raises(ConfigurationError) as info:
        load_settings(config, env={})
    assert info.value.key == "enrollment.smtp.password"


def test_smtp_password_file_in_toml(tmp_path: Path) -> None:
    secret = tmp_path / "smtp"
    secret.write_text("file-secret")
    config = tmp_path / "s.toml"
    config.write_text(f'[enrollment.smtp]\npassword_file = "{secret}"\nstarttls = true\nusername = "relay"\n')
    s = load_settings(config, env={}).enrollment.smtp
    assert s.password == "file-secret" and s.starttls and s.username == "relay"


def test_smtp_validation() -> None:
    with pytest.raises(ConfigurationError) as info:
        SMTPSettings(port=0)
    assert info.value.key == "enrollment.smtp.port"
