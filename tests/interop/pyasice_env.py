"""Build the isolated environment pyasice runs in for the interop tests (``make interop-env``).

pyasice 1.2.0 pins ``lxml<5`` (pyHanko needs ``lxml>=5.4``), so it cannot share the project's
virtualenv: it gets ``.venv-pyasice`` of its own and the tests drive it through a subprocess.

Its dependency oscrypto 1.3.0 (the last PyPI release) cannot read a three-part OpenSSL version with
a two-digit component: its pattern ``\\d\\.\\d\\.\\d[a-z]*`` followed by a word boundary finds no
match in "OpenSSL 3.0.19", and import fails with "Error detecting the version of libcrypto"
(wbond/oscrypto#75, fixed on oscrypto's master, never released). The fix upstream accepts
multi-digit components; this script applies exactly that change to the two backend modules of the
pinned release, refusing to touch anything that does not look as expected, and then proves that
the version check still runs and agrees with the version Python's ssl module reports.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = ROOT / ".venv-pyasice"
PINS = ["pyasice==1.2.0", "oscrypto==1.3.0", "lxml>=4,<5"]
OLD = "version_match = re.search('\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b', version_string)"
NEW = "version_match = re.search('\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b', version_string)"
MODULES = ("_libcrypto_ctypes.py", "_libcrypto_cffi.py")


def python() -> Path:
    return ENV / "bin" / "python"


def build() -> None:
    if not python().exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(ENV)
    subprocess.run([str(python()), "-m", "pip", "install", "--quiet", *PINS], check=True)
    site = subprocess.run(
        [str(python()), "-c", "import oscrypto, os; print(os.path.dirname(oscrypto.__file__))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for name in MODULES:
        path = Path(site) / "_openssl" / name
        text = path.read_text(encoding="utf-8")
        if NEW in text:
            continue
        if text.count(OLD) != 1:
            sys.exit(f"{path}: the oscrypto version pattern is not the one this fix expects; refusing to patch")
        path.write_text(text.replace(OLD, NEW), encoding="utf-8")
    check()


def check() -> None:
    """The patched release must still detect the version, and find the one ssl reports."""
    probe = (
        "from oscrypto._openssl._libcrypto import libcrypto_version; "
        "import oscrypto.asymmetric; print(libcrypto_version)"
    )
    found = subprocess.run([str(python()), "-c", probe], check=True, capture_output=True, text=True).stdout.strip()
    expected = re.search(r"\d+\.\d+\.\d+", ssl.OPENSSL_VERSION)
    if expected is None or found != expected.group(0):
        sys.exit(f"oscrypto detected libcrypto {found!r}, ssl reports {ssl.OPENSSL_VERSION!r}")
    print(f"{ENV}: pyasice ready, oscrypto sees libcrypto {found}")


if __name__ == "__main__":
    build()
