"""Relying parties that require a certificate policy accept citizen chains (RFC 5280 §6.1 with
an explicit-policy input): OpenSSL `verify -policy … -explicit_policy` and NSS `vfychain -o`.
The issuing CA asserts the policies of the certificates it issues; the root is the trust anchor.
These tools are required: the tests fail if they are missing (Debian openssl, libnss3-tools)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ca.issuance import IssuancePipeline
from ca.profiles import ETSI_LCP
from ca.settings import CASettings
from core.clock import FrozenClock
from tests.ca.conftest import PUBLIC, citizen_request
from tests.pki import TestPKI

pytestmark = pytest.mark.interop
ANY_POLICY = "2.5.29.32.0"


@pytest.fixture
def clock() -> FrozenClock:
    # vfychain validates at the real time (its -b has minute precision): run the CA at it.
    return FrozenClock(datetime.now(UTC))


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required (Debian: openssl, libnss3-tools)"
    return path


def _chain(pipeline: IssuancePipeline, ca_pki: TestPKI, tmp_path: Path) -> dict[str, Path]:
    citizen = pipeline.issue(citizen_request(), actor="t")
    files = {name: tmp_path / f"{name}.pem" for name in ("root", "issuing", "leaf")}
    files["root"].write_bytes(ca_pki.root.public_bytes(Encoding.PEM))
    files["issuing"].write_bytes(ca_pki.issuing.public_bytes(Encoding.PEM))
    files["leaf"].write_bytes(citizen.pem)
    return files


def _openssl(files: dict[str, Path], policy: str) -> subprocess.CompletedProcess[str]:
    command = [_tool("openssl"), "verify", "-policy", policy, "-explicit_policy", "-policy_check"]
    command += ["-CAfile", str(files["root"]), "-untrusted", str(files["issuing"]), str(files["leaf"])]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _vfychain(files: dict[str, Path], policy: str) -> subprocess.CompletedProcess[str]:
    # -pp: libpkix (CERT_PKIXVerifyCert), which applies the policy input; -u 4: e-mail signer
    # (digitalSignature / nonRepudiation); -t: the root is the explicitly trusted anchor.
    command = [_tool("vfychain"), "-pp", "-u", "4", "-o", f"OID.{policy}"]
    command += ["-a", str(files["leaf"]), "-a", str(files["issuing"]), "-t", "-a", str(files["root"])]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _policies(cert: x509.Certificate) -> list[str]:
    value = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return [p.policy_identifier.dotted_string for p in value]


def test_issuing_ca_asserts_the_citizen_policies(ca_pki: TestPKI) -> None:
    """The issuing CA lists the CA policy (with the CPS from ca.public_base_url) and ETSI LCP."""
    assert _policies(ca_pki.issuing) == [PUBLIC.policy_oid, ETSI_LCP]


@pytest.mark.parametrize("policy", [ETSI_LCP, PUBLIC.policy_oid])
def test_openssl_explicit_policy_accepts(
    pipeline: IssuancePipeline, ca_pki: TestPKI, tmp_path: Path, policy: str
) -> None:
    """`openssl verify -policy 0.4.0.2042.1.3 -explicit_policy` (was error 43, no explicit policy)."""
    result = _openssl(_chain(pipeline, ca_pki, tmp_path), policy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": OK" in result.stdout


def test_openssl_explicit_policy_refuses_another_policy(
    pipeline: IssuancePipeline, ca_pki: TestPKI, tmp_path: Path
) -> None:
    """The check is real: a policy nobody asserts gives OpenSSL's error 43 (no explicit policy)."""
    result = _openssl(_chain(pipeline, ca_pki, tmp_path), "1.2.3.4.5")
    assert result.returncode != 0
    assert "no explicit policy" in result.stdout + result.stderr


@pytest.mark.parametrize("policy", [ETSI_LCP, PUBLIC.policy_oid])
def test_nss_vfychain_with_policy_accepts(
    pipeline: IssuancePipeline, ca_pki: TestPKI, tmp_path: Path, policy: str
) -> None:
    """NSS libpkix with the policy (was -8032, chain fails policy validation)."""
    result = _vfychain(_chain(pipeline, ca_pki, tmp_path), policy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Chain is good!" in result.stdout + result.stderr


def test_nss_vfychain_refuses_another_policy(pipeline: IssuancePipeline, ca_pki: TestPKI, tmp_path: Path) -> None:
    result = _vfychain(_chain(pipeline, ca_pki, tmp_path), "1.2.3.4.5")
    assert result.returncode != 0
    assert "-8032" in result.stdout + result.stderr or "POLICY" in (result.stdout + result.stderr).upper()


@pytest.fixture
def any_policy_settings() -> CASettings:
    profiles = dict(PUBLIC.profiles)
    profiles["issuing-ca"] = dataclasses.replace(profiles["issuing-ca"], any_policy=True)
    return dataclasses.replace(PUBLIC, profiles=profiles)


@pytest.mark.parametrize("tool", ["openssl", "vfychain"])
def test_any_policy_profile_accepted(
    db: object, clock: FrozenClock, key_store: object, any_policy_settings: CASettings, tmp_path: Path, tool: str
) -> None:
    """With ``any_policy = true`` the issuing CA asserts anyPolicy (RFC 5280 §4.2.1.4), which
    matches every policy of the citizen certificate as long as anyPolicy is not inhibited."""
    from tests.pki import build_pki

    pki = build_pki(clock, key_store, any_policy_settings)  # type: ignore[arg-type]
    assert _policies(pki.issuing) == [ANY_POLICY]
    files = _chain(IssuancePipeline(pki.settings, pki.key_store, pki.clock), pki, tmp_path)
    result = (_openssl if tool == "openssl" else _vfychain)(files, ETSI_LCP)
    assert result.returncode == 0, result.stdout + result.stderr
