"""Play portal, officer and citizen end to end against a running sekap-trust instance.

    .venv/bin/python examples/walkthrough.py --base-url http://127.0.0.1:8080 --out /tmp/walkthrough

Credentials (a certification point, two officers, a portal client, an agreement text) are created
with the project's CLI (``.venv/bin/sekap-trust``), which must operate on the same instance (same
settings: run it from the repository, or export SEKAP_TRUST_CONFIG as for the server).

Leaves in OUT: chain.pem (issuing CA then root), citizen-csr.pem and citizen-csr.key (the citizen's
own request and key), citizen-keygen.p12 and citizen-keygen.pin (key generated at the point),
revoked.pem (revoked with keyCompromise), suspended.pem (left suspended), the e-package the second
citizen packed and signed (paczka.asice, XAdES B-T with our TSA), its official receipt (upo.xml,
upo.pdf) and summary.json (each step with its HTTP status). The server must mount tsa, verifier
and receipts besides ca and enrollment.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]


class Walkthrough:
    def __init__(self, base_url: str, out: Path, cli: str) -> None:
        self.base = base_url.rstrip("/")
        self.out = out
        self.cli = cli
        self.http = requests.Session()
        self.steps: list[dict[str, Any]] = []

    # -- plumbing ---------------------------------------------------------------------------
    def sekap(self, *args: str) -> dict[str, Any]:
        result = subprocess.run([self.cli, *args, "--json"], check=True, capture_output=True, text=True)
        self.steps.append({"step": f"cli: {' '.join(args[:2])}", "exit_code": result.returncode})
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    def call(self, step: str, method: str, path: str, expect: int, token: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        self.steps.append({"step": step, "method": method, "path": path, "status": response.status_code})
        if response.status_code != expect:
            raise SystemExit(f"{step}: expected HTTP {expect}, got {response.status_code}: {response.text[:500]}")
        return response

    def write(self, name: str, data: bytes | str, *, private: bool = False) -> None:
        path = self.out / name
        if private:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode() if isinstance(data, str) else data)
        else:
            path.write_bytes(data.encode() if isinstance(data, str) else data)

    # -- the story ----------------------------------------------------------------------------
    def run(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        suffix = secrets.token_hex(3)
        password = f"Walk-{secrets.token_urlsafe(12)}-9a"
        with tempfile.TemporaryDirectory() as tmp:
            secret = Path(tmp) / "password"
            secret.write_text(password)
            agreement = Path(tmp) / "umowa.txt"
            agreement.write_text("Umowa o świadczenie usług certyfikacyjnych SEKAP Trust (przykład).", encoding="utf-8")
            point = self.sekap(
                "point",
                "add",
                "--name",
                f"Punkt przykładowy {suffix}",
                "--street",
                "ul. Młyńska 4",
                "--postal-code",
                "40-098",
                "--city",
                "Katowice",
                "--teryt",
                "2469011",
            )
            for name in (f"urzednik-{suffix}", f"kontrola-{suffix}"):
                self.sekap(
                    "officer",
                    "add",
                    "--username",
                    name,
                    "--role",
                    "ra_officer",
                    "--point",
                    str(point["id"]),
                    "--password-file",
                    str(secret),
                )
            portal = self.sekap(
                "portal-client",
                "add",
                "--name",
                f"portal-{suffix}",
                "--scopes",
                "applications",
                "citizens",
                "verify",
                "receipts",
            )
            version = self.sekap("agreement", "add", "--file", str(agreement))["version"]
        portal_token = portal["token"]

        # Portal: two applications for two citizens.
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jan Kowalski")]))
            .sign(key, hashes.SHA256())
        )
        csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
        self.write("citizen-csr.pem", csr_pem)
        self.write(
            "citizen-csr.key",
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            private=True,
        )
        address = {"street": "ul. Mariacka 1", "postal_code": "40-014", "city": "Katowice"}
        common = {
            "email": "jan.kowalski@example.pl",
            "phone": "+48600100200",
            "address": address,
            "point_id": point["id"],
        }
        first = self.call(
            "portal: application with a CSR",
            "POST",
            "/api/v1/applications",
            201,
            portal_token,
            headers={"Idempotency-Key": f"walk-{suffix}-1"},
            json={
                "given_names": "Jan",
                "surname": "Kowalski",
                "pesel": "44051401359",
                "key_generation": "csr",
                "csr": csr_pem,
                **common,
            },
        ).json()
        self.call(
            "portal: same request again (idempotent)",
            "POST",
            "/api/v1/applications",
            200,
            portal_token,
            headers={"Idempotency-Key": f"walk-{suffix}-1"},
            json={
                "given_names": "Jan",
                "surname": "Kowalski",
                "pesel": "44051401359",
                "key_generation": "csr",
                "csr": csr_pem,
                **common,
            },
        )
        second = self.call(
            "portal: application, key generated at the point",
            "POST",
            "/api/v1/applications",
            201,
            portal_token,
            json={
                "given_names": "Anna",
                "surname": "Nowak",
                "pesel": "02211307589",
                "key_generation": "point",
                **dict(common, email="anna.nowak@example.pl"),
            },
        ).json()
        self.call(
            "citizen: status with the tracking code",
            "GET",
            f"/api/v1/applications/{first['reference']}/status",
            200,
            headers={"X-Tracking-Code": first["tracking_code"]},
        )

        # Officer at the point.
        officer = self.call(
            "officer: login",
            "POST",
            "/api/v1/sessions",
            201,
            json={"username": f"urzednik-{suffix}", "password": password},
        ).json()["token"]
        self.call(
            "officer: find by PESEL",
            "POST",
            "/api/v1/officer/applications/search",
            200,
            officer,
            json={"pesel": "44051401359"},
        )
        for app, document in ((first, "ABS123456"), (second, "ABA300000")):
            self.call(
                "officer: identity check",
                "POST",
                f"/api/v1/officer/applications/{app['reference']}/identity-check",
                201,
                officer,
                json={
                    "document_type": "id_card",
                    "document_number": document,
                    "document_expiry": "2035-12-31",
                    "data_match": True,
                    "agreement_version": version,
                },
            )
        issued_csr = self.call(
            "officer: issue (CSR)",
            "POST",
            f"/api/v1/officer/applications/{first['reference']}/issue",
            201,
            officer,
            json={},
        ).json()
        pin = f"{secrets.randbelow(10**8):08d}"
        issued_p12 = self.call(
            "officer: issue (key at the point)",
            "POST",
            f"/api/v1/officer/applications/{second['reference']}/issue",
            201,
            officer,
            json={"pin": pin},
        ).json()
        p12 = self.call("officer: download PKCS#12", "GET", issued_p12["pkcs12_url"], 200, officer).content
        self.call("officer: second download refused", "GET", issued_p12["pkcs12_url"], 404, officer)
        self.write("citizen-keygen.p12", p12, private=True)
        self.write("citizen-keygen.pin", pin + "\n", private=True)
        self.write("chain.pem", issued_csr["chain"])

        upo = self.file_and_receipt(portal_token, pin)

        # Citizen: suspend with the code, resume through the portal (with the code), revoke with the code.
        code = issued_csr["revocation_code"]
        serial = issued_csr["serial"]
        self.call(
            "citizen: suspend with the revocation code",
            "POST",
            "/api/v1/self-service/suspend",
            200,
            json={"serial": serial, "revocation_code": code},
        )
        self.call(
            "citizen (portal): resume",
            "POST",
            f"/api/v1/citizen/certificates/{serial}/resume",
            200,
            portal_token,
            headers={"X-Citizen-Pesel": "44051401359"},
            json={"revocation_code": code},  # the portal's word alone does not resume
        )
        self.call(
            "citizen: revoke with the revocation code and a proof signed by the key (keyCompromise)",
            "POST",
            "/api/v1/self-service/revoke",
            200,
            json={
                "serial": serial,
                "revocation_code": code,
                "reason": "keyCompromise",
                **compromise_proof(serial, key),
            },
        )
        self.write("revoked.pem", issued_csr["certificate"])
        self.call(
            "citizen: suspend the second certificate",
            "POST",
            "/api/v1/self-service/suspend",
            200,
            json={"serial": issued_p12["serial"], "revocation_code": issued_p12["revocation_code"]},
        )
        self.write("suspended.pem", issued_p12["certificate"])
        self.call("officer: logout", "DELETE", "/api/v1/sessions/current", 204, officer)
        summary = {
            "base_url": self.base,
            "revoked": {"serial": serial, "reason": "keyCompromise"},
            "suspended": {"serial": issued_p12["serial"]},
            "receipt": upo,
            "steps": self.steps,
        }
        (self.out / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    def package_cli(self, *args: str, pin: str | None = None) -> None:
        """``sekap-package`` beside the sekap-trust CLI; the PIN goes through a pipe (--pin-fd)."""
        command = [str(Path(self.cli).parent / "sekap-package"), *args]
        fds: tuple[int, ...] = ()
        if pin is not None:
            read_end, write_end = os.pipe()
            os.write(write_end, pin.encode() + b"\n")
            os.close(write_end)
            command += ["--pin-fd", str(read_end)]
            fds = (read_end,)
        result = subprocess.run(command, capture_output=True, text=True, check=False, pass_fds=fds)
        for fd in fds:
            os.close(fd)
        self.steps.append({"step": f"sekap-package {args[0]}", "exit_code": result.returncode})
        if result.returncode != 0:
            raise SystemExit(f"sekap-package {args[0]} failed: {result.stderr[-1000:]}")

    def file_and_receipt(self, portal_token: str, pin: str) -> dict[str, Any]:
        """The second citizen packs two forms and signs them with the PKCS#12 from the point (B-T,
        our TSA); the portal verifies the e-package and asks for the UPO; the UPO is verified."""
        forms = self.out / "formularze"
        forms.mkdir(exist_ok=True)
        for number, title in ((1, "Wniosek o wydanie zaświadczenia"), (2, "Oświadczenie o stanie rodzinnym")):
            (forms / f"wniosek-{number}.xml").write_text(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<wniosek><tytul>{title}</tytul>'
                "<wnioskodawca>Anna Nowak</wnioskodawca></wniosek>\n",
                encoding="utf-8",
            )
        package_path = self.out / "paczka.asice"
        self.package_cli("pack", str(package_path), str(forms / "wniosek-1.xml"), str(forms / "wniosek-2.xml"))
        p12 = str(self.out / "citizen-keygen.p12")
        self.package_cli(
            "sign", str(package_path), "--pkcs12", p12, "--level", "B-T", "--tsa-url", f"{self.base}/tsa", pin=pin
        )
        package = package_path.read_bytes()
        report = self.call(
            "portal: verify the e-package",
            "POST",
            "/api/v1/verifications",
            200,
            portal_token,
            data=package,
            headers={"Content-Type": "application/vnd.etsi.asic-e+zip"},
        ).json()
        if report["indication"] != "TOTAL_PASSED":
            raise SystemExit(f"the e-package did not verify: {json.dumps(report)[:1000]}")
        receipt = self.call(
            "portal: official receipt (UPO)",
            "POST",
            "/api/v1/receipts",
            201,
            portal_token,
            headers={"Idempotency-Key": f"upo-{hashlib.sha256(package).hexdigest()[:16]}"},
            json={
                "recipient": {"name": "Urząd Gminy Przykładowo", "identifier": "192598184", "identifier_type": "REGON"},
                "sender": {"name": "Anna Nowak"},
                "submission_number": "WN/2026/0001",
                "subject": "Wniosek o wydanie zaświadczenia",
                "package_sha256": hashlib.sha256(package).hexdigest(),
                "package_size": len(package),
            },
        )
        self.write("upo.xml", receipt.content)
        location = urlparse(receipt.headers["Location"]).path
        self.write("upo.pdf", self.call("portal: UPO as PDF", "GET", location + "/pdf", 200, portal_token).content)
        checked = self.call(
            "citizen: verify the UPO",
            "POST",
            "/api/v1/verifications",
            200,
            portal_token,
            data=receipt.content,
            headers={"Content-Type": "application/xml"},
        ).json()
        if (
            checked["indication"] != "TOTAL_PASSED"
            or checked["receipt"]["document_sha256"] != hashlib.sha256(package).hexdigest()
        ):
            raise SystemExit(f"the UPO did not verify: {json.dumps(checked)[:1000]}")
        return {"number": receipt.headers["Receipt-Number"], "location": location}


def compromise_proof(serial: str, key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """keyCompromise needs a signature by the certificate's own key (RFC 8555 §7.6) over this text,
    made within 5 minutes of the server's clock (docs/api.md, "Self-service with proof")."""
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = f"sekap-trust revocation\nserial={serial.upper()}\nreason=keyCompromise\nat={at}\n"
    signature = key.sign(statement.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    return {"proof": base64.b64encode(signature).decode("ascii"), "proof_time": at}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--out", required=True, type=Path, help="directory for the results")
    parser.add_argument("--cli", default=str(REPO / ".venv" / "bin" / "sekap-trust"), help="the sekap-trust CLI to use")
    args = parser.parse_args(argv)
    Walkthrough(args.base_url, args.out, args.cli).run()
    print(f"walkthrough complete; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
