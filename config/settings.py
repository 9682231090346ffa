"""Load settings once: packaged defaults ← TOML file ← environment ← secrets.

- File: ``--config PATH`` or ``SEKAP_TRUST_CONFIG``; merged over ``config/default.toml``.
- Overrides: ``SEKAP_TRUST__SECTION__KEY=value`` (value parsed as a TOML value, else a string),
  e.g. ``SEKAP_TRUST__DATABASE__URL=postgresql://...``.
- Secrets never come from TOML: ``SEKAP_TRUST_KEYSTORE_PIN`` or ``SEKAP_TRUST_KEYSTORE_PIN_FILE``,
  or the file named by ``keystore.pin_file``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ca.settings import CASettings
from config.settings_loader import build, deep_merge
from core.errors import ConfigurationError
from enrollment.settings import EnrollmentSettings
from hsm.settings import KeyStoreSettings
from ocsp.settings import OCSPSettings
from receipts.settings import ReceiptsSettings
from tsa.settings import TSASettings
from verifier.settings import VerifierSettings
from web.settings import WebSettings

DEFAULT_FILE = Path(__file__).with_name("default.toml")
LOCAL_INSTANCE_FILE = Path("var/sekap-trust.toml")
ENV_PREFIX = "SEKAP_TRUST__"
SECRET_KEYS = {"keystore": ("pin",), "audit": ("chain_key",)}


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 4
    threads: int = 4
    timeout_seconds: int = 30
    max_body_bytes: int = 25 * 1024 * 1024
    # Services mounted by create_app when none are named explicitly.
    services: tuple[str, ...] = ("ca", "ocsp", "tsa", "enrollment", "verifier", "receipts", "web")
    # Run the periodic jobs loop beside the workers (one per host; jobs are multi-host safe).
    run_jobs: bool = True
    # The HTTP server `sekap-trust serve` (and so `make run`) runs: "granian" (Rust, several
    # times gunicorn's rate for the protocol endpoints, bench/protocol_bench.py) or "gunicorn".
    http_server: str = "granian"
    # How long stopping workers may finish their requests before they are killed (SIGTERM,
    # Ctrl-C, graceful restart). Short, so `make run` stops within 5 s of Ctrl-C.
    graceful_timeout_seconds: int = 3
    # granian's graceful restart (SIGHUP) starts a new worker, waits this long, then stops the old
    # one. It must exceed a worker's start-up (importing and building the app): measured, an old
    # worker stopped before its successor was up left connections refused for the gap.
    restart_interval_seconds: float = 5.0
    # Per-instance run files (granian's pid file, gunicorn's control socket), named by port.
    run_dir: str = "var/run"

    def __post_init__(self) -> None:
        if self.http_server not in ("granian", "gunicorn"):
            raise ConfigurationError("server.http_server", 'must be "granian" or "gunicorn"')
        if not 0 < self.restart_interval_seconds <= 600:
            raise ConfigurationError("server.restart_interval_seconds", "must be above 0 and at most 600")
        if not 1 <= self.graceful_timeout_seconds <= 600:
            raise ConfigurationError("server.graceful_timeout_seconds", "must be between 1 and 600")
        if not 1 <= self.port <= 65535:
            raise ConfigurationError("server.port", "must be between 1 and 65535")
        if not 1 <= self.workers <= 64:
            raise ConfigurationError("server.workers", "must be between 1 and 64")
        if not 1 <= self.threads <= 256:
            raise ConfigurationError("server.threads", "must be between 1 and 256")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/sekap-trust.db"
    # A read replica for read-only processes (OCSP responders); defaults to url.
    replica_url: str | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("sqlite:", "postgres://", "postgresql://")):
            raise ConfigurationError("database.url", "must be a sqlite:/// or postgresql:// URL")


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"
    json: bool = True

    def __post_init__(self) -> None:
        if self.level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigurationError("logging.level", "must be DEBUG, INFO, WARNING or ERROR")


@dataclass(frozen=True)
class AuditSettings:
    """The anchored audit trail: how often the chain head is sealed (signed by the audit key and
    timestamped by our TSA), and the secret chain key (environment or file, never TOML)."""

    seal_interval_seconds: int = 600
    chain_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 60 <= self.seal_interval_seconds <= 86400:
            raise ConfigurationError("audit.seal_interval_seconds", "must be between 60 and 86400")
        if self.chain_key is not None and len(self.chain_key) < 32:
            raise ConfigurationError("audit.chain_key_file", "the chain key must be at least 32 characters")


@dataclass(frozen=True)
class ApprovalSettings:
    """Dual control (bulk revocation, profile changes, administrator role grants): how many other
    administrators must approve, and how long a request stays open."""

    required: int = 1
    ttl_hours: int = 24

    def __post_init__(self) -> None:
        if not 1 <= self.required <= 10:
            raise ConfigurationError("approvals.required", "must be between 1 and 10")
        if not 1 <= self.ttl_hours <= 168:
            raise ConfigurationError("approvals.ttl_hours", "must be between 1 and 168")


@dataclass(frozen=True)
class JobsSettings:
    """The periodic jobs' run records (``job_run``): how long they are kept."""

    run_retention_days: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.run_retention_days <= 3650:
            raise ConfigurationError("jobs.run_retention_days", "must be between 1 and 3650")


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    keystore: KeyStoreSettings = field(default_factory=KeyStoreSettings)
    ca: CASettings = field(default_factory=CASettings)
    ocsp: OCSPSettings = field(default_factory=OCSPSettings)
    tsa: TSASettings = field(default_factory=TSASettings)
    enrollment: EnrollmentSettings = field(default_factory=EnrollmentSettings)
    verifier: VerifierSettings = field(default_factory=VerifierSettings)
    receipts: ReceiptsSettings = field(default_factory=ReceiptsSettings)
    web: WebSettings = field(default_factory=WebSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    approvals: ApprovalSettings = field(default_factory=ApprovalSettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)
    # Where the file was read from (for messages); not a setting.
    source: str = "defaults"


def load_settings(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load and validate settings. ``env=None`` means the real process: its environment, and the
    local demo instance file ``var/sekap-trust.toml`` (written by ``make run``) when no other
    file is chosen, so the CLI run from the repository operates on that instance."""
    real_process = env is None
    env = os.environ if env is None else env
    data = _read_toml(DEFAULT_FILE)
    chosen = path or env.get("SEKAP_TRUST_CONFIG")
    if not chosen and real_process and LOCAL_INSTANCE_FILE.is_file():
        chosen = str(LOCAL_INSTANCE_FILE)
    if chosen:
        data = deep_merge(data, _read_toml(Path(chosen)))
    data = deep_merge(data, _env_overrides(env))
    for section, keys in SECRET_KEYS.items():
        for key in keys:
            if key in data.get(section, {}):
                raise ConfigurationError(
                    f"{section}.{key}", "is a secret: set it in the environment or a secret file, not TOML"
                )
    keystore = dict(data.get("keystore", {}))
    pin_file = keystore.pop("pin_file", None)
    data["keystore"] = keystore
    smtp_password_file = _pop_smtp_secret(data)
    audit_section = dict(data.get("audit", {}))
    chain_key_file = audit_section.pop("chain_key_file", None)
    data["audit"] = audit_section
    data["source"] = str(chosen) if chosen else "defaults"
    settings = build(Settings, data, "")
    pin = _secret(env, "SEKAP_TRUST_KEYSTORE_PIN", pin_file, "keystore.pin_file")
    smtp_password = _secret(env, "SEKAP_TRUST_SMTP_PASSWORD", smtp_password_file, "enrollment.smtp.password_file")
    enrollment = replace(settings.enrollment, smtp=replace(settings.enrollment.smtp, password=smtp_password))
    chain_key = _secret(env, "SEKAP_TRUST_AUDIT_CHAIN_KEY", chain_key_file, "audit.chain_key_file")
    return replace(
        settings,
        keystore=replace(settings.keystore, pin=pin),
        enrollment=enrollment,
        audit=replace(settings.audit, chain_key=chain_key),
    )


def _pop_smtp_secret(data: dict[str, Any]) -> str | None:
    """The SMTP password is a secret (environment or file), like the key-store PIN."""
    smtp = dict(data.get("enrollment", {}).get("smtp", {}))
    if "password" in smtp:
        raise ConfigurationError(
            "enrollment.smtp.password", "is a secret: set SEKAP_TRUST_SMTP_PASSWORD(_FILE), not TOML"
        )
    password_file: str | None = smtp.pop("password_file", None)
    if "smtp" in data.get("enrollment", {}):
        data["enrollment"] = {**data["enrollment"], "smtp": smtp}
    return password_file


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError("config", f"settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError("config", f"{path}: {exc}") from exc


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _parse_value(raw)
    return result


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _secret(env: Mapping[str, str], name: str, file_from_toml: str | None, toml_key: str) -> str | None:
    if env.get(name):
        return env[name]
    file_name = env.get(f"{name}_FILE") or file_from_toml
    if not file_name:
        return None
    try:
        value = Path(file_name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if env.get(f"{name}_FILE"):
            raise ConfigurationError(f"{name}_FILE", f"secret file {file_name} does not exist") from None
        # A missing default secret file only matters to commands that open the key store; they
        # fail then with a message naming the setting.
        return None
    if not value:
        raise ConfigurationError(toml_key, f"secret file {file_name} is empty")
    return value
