"""Real ``sekap-trust serve`` processes for the fault tests (issue 15 item 9).

An instance is prepared in the test process on the bound test database (the key ceremony into a
software key store, a certification point, a portal client); then one or more servers are
started on it as separate process groups, optionally inside a network namespace
(``tests/netns.py``), and stopped with SIGTERM or killed with SIGKILL like a crashed host.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, TypeVar

from access.clients import add_portal_client
from config.serve import run_file
from config.settings import load_settings
from core.clock import Clock
from enrollment.settings import EnrollmentSettings
from tests.enrollment.helpers import create_parties
from tests.pki import TestPKI, build_pki, software_store

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "test-passphrase"  # tests.pki.software_store
T = TypeVar("T")


class Results(list[T], Generic[T]):
    """What client threads got, appended as it comes; ``errors``: what made a thread stop."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[BaseException] = []

    def check(self) -> None:
        if self.errors:
            raise self.errors[0]


@contextlib.contextmanager
def load_threads(send: Callable[[int], T], count: int) -> Iterator[Results[T]]:
    """``count`` client threads calling ``send(n)`` (n = 0, 1, 2, ... per thread, offset by the
    thread's number) until the block ends. An exception in ``send`` (a failed assertion) stops
    every thread and is raised when the block ends; loops inside it call ``results.check()``."""
    results: Results[T] = Results()
    stop = threading.Event()

    def drive(offset: int) -> None:
        for n in itertools.count(offset, count):
            if stop.is_set():
                return
            try:
                results.append(send(n))
            except Exception as exc:
                results.errors.append(exc)
                stop.set()

    threads = [threading.Thread(target=drive, args=(n,), name=f"load-{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield results
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    results.check()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Instance:
    """What a server process needs besides its address: the environment selecting the instance."""

    directory: Path
    env: dict[str, str]
    pki: TestPKI
    point_id: int
    agreement_version: int
    portal_token: str = field(repr=False)


def prepare_instance(directory: Path, database_url: str, clock: Clock, services: list[str]) -> Instance:
    """The hierarchy and the enrollment parties (tests.enrollment.helpers) in the bound database,
    with a portal client that may also verify; the environment for ``sekap-trust serve`` on
    ``database_url`` with ``services``."""
    pki = build_pki(clock, software_store(directory / "keys"))
    cheap = replace(EnrollmentSettings(), password_hash_time_cost=1, password_hash_memory_kib=1024)
    parties = create_parties(cheap, clock)
    portal = add_portal_client(clock, name="portal-verify", scopes=["applications", "verify"], actor="test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKAP_TRUST")}
    env.update(
        {
            "SEKAP_TRUST__DATABASE__URL": database_url,
            "SEKAP_TRUST__KEYSTORE__BACKEND": "software",
            "SEKAP_TRUST__KEYSTORE__PATH": str(directory / "keys"),
            "SEKAP_TRUST__KEYSTORE__PIN_FILE": "",
            "SEKAP_TRUST_KEYSTORE_PIN": PASSPHRASE,
            "SEKAP_TRUST__AUDIT__CHAIN_KEY_FILE": "",
            "SEKAP_TRUST__SERVER__SERVICES": "[" + ", ".join(f'"{s}"' for s in services) + "]",
            "SEKAP_TRUST__SERVER__WORKERS": "2",
            "SEKAP_TRUST__SERVER__RUN_JOBS": "false",
            "SEKAP_TRUST__ENROLLMENT__POINT_KEY_ALGORITHM": "ec-p256",
            "PYTHONPATH": str(ROOT),
        }
    )
    return Instance(directory, env, pki, parties.point_id, parties.agreement_version, portal.token)


class ServerProcess:
    """``sekap-trust serve`` in a process group of its own (``prefix``: e.g. ``ip netns exec``)."""

    def __init__(self, env: dict[str, str], log: Path, *, host: str = "127.0.0.1", port: int = 0,
                 prefix: tuple[str, ...] = (), name: str = "server", cwd: Path = ROOT) -> None:  # fmt: skip
        self.port = port or free_port()
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.name = name
        self.env = {
            **env,
            "SEKAP_TRUST__SERVER__HOST": host,
            "SEKAP_TRUST__SERVER__PORT": str(self.port),
            "SEKAP_TRUST__SERVER__RUN_DIR": str(log.parent / f"run-{name}"),
        }
        self.log = log
        self.prefix = prefix
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process; :meth:`wait_ready` waits for it to answer."""
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [*self.prefix, str(BIN / "sekap-trust"), "serve"],
                env=self.env, cwd=self.cwd, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 90) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the server and its workers: the host crashed. ``sekap-trust serve`` runs
        granian's master in a session of its own (config.serve._supervise), found by its pid file."""
        pid_file = run_file(load_settings(env=self.env).server, "pid")
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.killpg(int(pid_file.read_text().strip()), signal.SIGKILL)
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, signum: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Workers of a killed master may hold the port a moment longer: wait until it is free.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.listening():
            time.sleep(0.05)
        self.process = None

    def listening(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex((self.host, self.port)) == 0
