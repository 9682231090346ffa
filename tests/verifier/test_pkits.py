"""NIST PKITS (Public Key Interoperability Test Suite, 2nd edition), all 246 cases, through the
verifier's path validation (:func:`verifier.paths.validate_certificate_path`) with the
validation policy's RFC 5280 initial inputs (§6.1.1 c, e, f, g) taken from each case.

The vectors are the ones shipped in the pyhanko-certvalidator source distribution on PyPI
(tests/fixtures/nist_pkits: certificates, CRLs and pkits.json with the expected outcome of each
case), fetched with ``pip download --no-binary :all: --no-deps`` of the installed version; the
test fails loudly when that is not possible. Cases the project refuses by design (DSA signatures,
refused by the default cryptographic constraints) count as correct when the verifier gives
INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE for them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.settings import KeyUsageConstraints

from verifier.paths import validate_certificate_path
from verifier.policy import TrustStore, ValidationPolicy, build_contexts
from verifier.report import Indication, SubIndication

pytestmark = [pytest.mark.slow, pytest.mark.interop]

# The pyhanko-certvalidator suite validates PKITS at this date (its CRLs are current then).
MOMENT = datetime(2022, 5, 1, tzinfo=UTC)
# DSA: refused for new signatures by the default policy (verifier.min_dsa_bits = 0).
REFUSED_BY_DESIGN = {"DSACACert.crt"}
_ACCEPTED_FOR_ERROR = {
    "RevokedError": {SubIndication.REVOKED_NO_POE, SubIndication.REVOKED_CA_NO_POE, SubIndication.TRY_LATER},
    "InsufficientRevinfoError": {
        SubIndication.TRY_LATER,
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE,
    },
    "StaleRevinfoError": {SubIndication.TRY_LATER, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE},
}


@pytest.fixture(scope="session")
def pkits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    version = metadata.version("pyhanko-certvalidator")
    target = tmp_path_factory.mktemp("pkits")
    command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--quiet"]
    command += [f"pyhanko-certvalidator=={version}", "-d", str(target)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    archives = list(target.glob("*.tar.gz"))
    assert done.returncode == 0 and archives, f"cannot fetch the PKITS vectors (sdist): {done.stderr[-500:]}"
    with tarfile.open(archives[0]) as archive:
        members = [m for m in archive.getmembers() if "/tests/fixtures/nist_pkits/" in m.name and m.isfile()]
        assert len(members) > 500, "the sdist no longer ships tests/fixtures/nist_pkits"
        archive.extractall(target, members=members, filter="data")
    (root,) = target.glob("*/tests/fixtures/nist_pkits")
    return root


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    spec: dict[str, Any]


def _cases() -> list[str]:
    return [f"{n:03d}" for n in range(246)]


def _cert(root: Path, name: str) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load((root / "certs" / name).read_bytes())


def _policy(params: dict[str, Any]) -> ValidationPolicy:
    return ValidationPolicy(
        initial_policies=frozenset(params.get("user_initial_policy_set", ["any_policy"])),
        explicit_policy=bool(params.get("initial_explicit_policy", False)),
        inhibit_policy_mapping=bool(params.get("initial_policy_mapping_inhibit", False)),
        inhibit_any_policy=bool(params.get("initial_any_policy_inhibit", False)),
    )


def _run(root: Path, spec: dict[str, Any]) -> Any:
    crls = [asn1_crl.CertificateList.load((root / "crls" / "TrustAnchorRootCRL.crl").read_bytes())]
    crls += [asn1_crl.CertificateList.load((root / "crls" / name).read_bytes()) for name in spec.get("crls", [])]
    trust = TrustStore(
        roots=(_cert(root, "TrustAnchorRootCertificate.crt"),),
        intermediates=tuple(_cert(root, name) for name in spec.get("other_certs", [])),
        tsa_roots=(),
        crls=tuple(crls),
        policy=_policy(spec.get("params", {})),
    )
    mode = "offline" if spec.get("revocation", True) else "soft-fail"
    contexts = build_contexts(trust, mode=mode, moment=MOMENT, source=None)
    cert = _cert(root, spec["cert"])
    outcome = asyncio.run(
        validate_certificate_path(cert, contexts.signer, trust, MOMENT, key_usage=KeyUsageConstraints())
    )
    return outcome.verdict


def _expected_ok(spec: dict[str, Any], verdict: Any) -> bool:
    error = spec.get("error")
    refused = bool(REFUSED_BY_DESIGN & {spec["cert"], *spec.get("other_certs", [])})
    if error is None:
        if refused:
            return verdict.sub_indication is SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        return verdict.indication is Indication.TOTAL_PASSED
    if verdict.indication is Indication.TOTAL_PASSED:
        return False
    accepted = _ACCEPTED_FOR_ERROR.get(error["class"])
    return accepted is None or verdict.sub_indication in accepted


def test_all_246_pkits_cases(pkits: Path, db: object) -> None:
    """NIST PKITS §4.1–§4.16: every case gives the expected outcome (246/246). (The database
    holds no CA here: the CA registry source finds nothing, the configured CRLs decide.)"""
    specs = json.loads((pkits / "pkits.json").read_text("utf-8"))
    assert len(specs) == 246
    wrong = []
    for spec in specs:
        verdict = _run(pkits, spec)
        if not _expected_ok(spec, verdict):
            outcome = f"{verdict.indication}/{verdict.sub_indication} ({verdict.reason})"
            wrong.append(f"{spec['id']} {spec['name']}: {outcome}")
    assert not wrong, f"{len(wrong)} of 246 wrong:\n" + "\n".join(wrong)
