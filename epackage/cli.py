"""``sekap-package``: pack, sign, add-signature, counter-sign, inspect and verify e-packages
without a server.

Secrets never come from the command line (they would show in ``ps`` and shell history): the
PIN is read from a file descriptor (``--pin-fd``) or asked at a prompt; an API token for
``verify --server`` from ``--token-fd`` or the ``SEKAP_TOKEN`` environment variable.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from epackage.api import inspect, sign_package
from epackage.countersign import counter_sign_package
from epackage.errors import EPackageError, ServerError, UsageError
from epackage.pack import pack
from epackage.signer import Signer, from_pkcs11, from_pkcs12
from epackage.timestamp import HTTPTimestamper
from epackage.verify import verify_offline
from verifier.report import ValidationReport

ASIC_E = "application/vnd.etsi.asic-e+zip"
EXIT_FAILED = 1
EXIT_USAGE = 2


def _read_secret_fd(fd: int) -> str:
    with os.fdopen(fd, "rb", closefd=True) as stream:
        return stream.read(4096).decode("utf-8").rstrip("\r\n")


def _pin(args: argparse.Namespace) -> str:
    if args.pin_fd is not None:
        return _read_secret_fd(args.pin_fd)
    return getpass.getpass("PIN: ")


def _signer(args: argparse.Namespace) -> Signer:
    if args.pkcs12:
        return from_pkcs12(Path(args.pkcs12).read_bytes(), _pin(args))
    if not (args.pkcs11_module and args.token_label and args.key_label and args.certificate):
        raise UsageError("give --pkcs12, or --pkcs11-module, --token-label, --key-label and --certificate")
    certificate = x509.load_pem_x509_certificate(Path(args.certificate).read_bytes())
    return from_pkcs11(args.pkcs11_module, args.token_label, _pin(args), args.key_label, certificate)


def _cmd_pack(args: argparse.Namespace) -> int:
    files = {Path(f).name: Path(f).read_bytes() for f in args.files}
    if len(files) != len(args.files):
        raise UsageError("two files have the same name")
    Path(args.output).write_bytes(pack(files))
    print(f"{args.output}: {len(files)} file(s) packed")
    return 0


def _cmd_sign(args: argparse.Namespace, *, additional: bool) -> int:
    container = Path(args.container).read_bytes()
    already = [e for e in inspect(container) if e.role == "signature"]
    if additional and not already:
        raise UsageError("the package has no signature yet: use 'sign'")
    if not additional and already:
        raise UsageError("the package is already signed: use 'add-signature'")
    if args.level == "B-T" and not args.tsa_url:
        raise UsageError("level B-T needs --tsa-url")
    timestamper = HTTPTimestamper(args.tsa_url) if args.level == "B-T" else None
    signed = sign_package(container, _signer(args), timestamper=timestamper)
    Path(args.output or args.container).write_bytes(signed)
    print(f"{args.output or args.container}: signed ({args.level})")
    return 0


def _cmd_counter_sign(args: argparse.Namespace) -> int:
    container = Path(args.container).read_bytes()
    signed = counter_sign_package(
        container, _signer(args), signature_file=args.signature_file, signature_id=args.signature_id
    )
    Path(args.output or args.container).write_bytes(signed)
    print(f"{args.output or args.container}: counter-signed")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    for entry in inspect(Path(args.container).read_bytes()):
        print(f"{entry.role:10} {entry.size:>10}  {entry.name}")
    return 0


def _server_report(container: bytes, server: str, token: str | None) -> dict[str, object]:
    headers = {"Content-Type": ASIC_E, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - the user names the server
        server.rstrip("/") + "/api/v1/verifications", data=container, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            result: dict[str, object] = json.loads(answer.read())
            return result
    except urllib.error.HTTPError as exc:
        raise ServerError(f"the server answered {exc.code}: {exc.read()[:500].decode(errors='replace')}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerError(f"the server cannot be reached: {exc}") from None


def _cmd_verify(args: argparse.Namespace) -> int:
    container = Path(args.container).read_bytes()
    if args.server:
        token = _read_secret_fd(args.token_fd) if args.token_fd is not None else os.environ.get("SEKAP_TOKEN")
        result = _server_report(container, args.server, token)
    else:
        if not args.trust_anchor:
            raise UsageError("offline verification needs at least one --trust-anchor (or use --server)")
        report: ValidationReport = verify_offline(
            container,
            [Path(p).read_bytes() for p in args.trust_anchor],
            intermediates=[Path(p).read_bytes() for p in args.intermediate],
            crls=[Path(p).read_bytes() for p in args.crl],
            revocation_mode=args.revocation,
        )
        result = report.to_dict()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("indication") == "TOTAL_PASSED" else EXIT_FAILED


def _key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container")
    parser.add_argument("-o", "--output", help="write here instead of replacing the package")
    parser.add_argument("--pkcs12", help="PKCS#12 file with the key and certificate")
    parser.add_argument("--pkcs11-module", help="PKCS#11 library (e.g. SoftHSM2's)")
    parser.add_argument("--token-label")
    parser.add_argument("--key-label")
    parser.add_argument("--certificate", help="PEM certificate of the token key")
    parser.add_argument("--pin-fd", type=int, help="read the PIN from this file descriptor (else a prompt)")


def _signing_options(parser: argparse.ArgumentParser) -> None:
    _key_options(parser)
    parser.add_argument("--level", choices=("B-B", "B-T"), default="B-B")
    parser.add_argument("--tsa-url", help="RFC 3161 time-stamping URL (our /tsa or any other) for B-T")


def parser() -> argparse.ArgumentParser:
    # No abbreviations: "--pin 1234" must not be taken for "--pin-fd 1234".
    root = argparse.ArgumentParser(
        prog="sekap-package", description="E-packages (ASiC-E with XAdES)", allow_abbrev=False
    )
    commands = root.add_subparsers(dest="command", required=True)
    pack_cmd = commands.add_parser("pack", help="pack files into an ASiC-E e-package", allow_abbrev=False)
    pack_cmd.add_argument("output")
    pack_cmd.add_argument("files", nargs="+")
    _signing_options(commands.add_parser("sign", help="sign the package (first signature)", allow_abbrev=False))
    _signing_options(commands.add_parser("add-signature", help="add another signer's signature", allow_abbrev=False))
    counter = commands.add_parser(
        "counter-sign", help="counter-sign a signature already in the package", allow_abbrev=False
    )
    _key_options(counter)
    counter.add_argument("--signature-file", help="META-INF/… signature file (when the package holds several)")
    counter.add_argument("--signature-id", help="XAdES Id or cms-N (when the file holds several signatures)")
    inspect_cmd = commands.add_parser("inspect", help="list what the package holds", allow_abbrev=False)
    inspect_cmd.add_argument("container")
    verify_cmd = commands.add_parser(
        "verify", help="verify offline (trust anchors) or through the server", allow_abbrev=False
    )
    verify_cmd.add_argument("container")
    verify_cmd.add_argument("--trust-anchor", action="append", default=[], help="PEM/DER root certificate(s)")
    verify_cmd.add_argument("--intermediate", action="append", default=[], help="PEM/DER CA certificate(s)")
    verify_cmd.add_argument("--crl", action="append", default=[], help="PEM/DER CRL(s)")
    verify_cmd.add_argument("--revocation", choices=("soft-fail", "offline"), default="soft-fail")
    verify_cmd.add_argument("--server", help="sekap-trust base URL: POST the package to /api/v1/verifications")
    verify_cmd.add_argument("--token-fd", type=int, help="read the API token from this file descriptor")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "pack":
            return _cmd_pack(args)
        if args.command in ("sign", "add-signature"):
            return _cmd_sign(args, additional=args.command == "add-signature")
        if args.command == "counter-sign":
            return _cmd_counter_sign(args)
        if args.command == "inspect":
            return _cmd_inspect(args)
        return _cmd_verify(args)
    except (EPackageError, OSError, ValueError) as exc:
        print(f"sekap-package: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
