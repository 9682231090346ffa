"""Hosts as Linux network namespaces: a namespace per host, joined to the root namespace by a veth
pair (a /30 each), and a socat relay on the root side's address to a server that listens on
127.0.0.1 only (PostgreSQL). Needs root; used by the two-host fault test
(tests/config/test_two_hosts.py) and the scale benchmark (bench/scale_bench.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@dataclass(frozen=True)
class Namespace:
    """``name``: the namespace; ``veth``: the root side of the pair (the other end is ``veth`` + "p",
    moved into the namespace); ``outer``/``inner``: the two addresses of the /30."""

    name: str
    veth: str
    outer: str
    inner: str

    @property
    def exec_prefix(self) -> tuple[str, ...]:
        """Run a command inside: ``[*ns.exec_prefix, "sekap-trust", "serve"]``."""
        return ("ip", "netns", "exec", self.name)

    def create(self) -> None:
        """Made from scratch (whatever an earlier, interrupted run left is removed first)."""
        self.remove()
        peer = f"{self.veth}p"
        sh("ip", "netns", "add", self.name)
        sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name", peer)
        sh("ip", "link", "set", peer, "netns", self.name)
        sh("ip", "addr", "add", f"{self.outer}/30", "dev", self.veth)
        sh("ip", "link", "set", self.veth, "up")
        sh(*self.exec_prefix, "ip", "addr", "add", f"{self.inner}/30", "dev", peer)
        sh(*self.exec_prefix, "ip", "link", "set", peer, "up")
        sh(*self.exec_prefix, "ip", "link", "set", "lo", "up")

    def remove(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.veth], capture_output=True, check=False)

    def relay(self, port: int, target: str, log: Path) -> subprocess.Popen[bytes]:
        """socat on ``outer:port`` forwarding each connection to ``target`` (``host:port``), so the
        namespace reaches a server of the root namespace that listens on loopback only."""
        with log.open("ab") as handle:
            return subprocess.Popen(
                ["socat", f"TCP-LISTEN:{port},bind={self.outer},reuseaddr,fork", f"TCP:{target}"],
                stdout=handle, stderr=handle, start_new_session=True,
            )  # fmt: skip


def stop_relay(relay: subprocess.Popen[bytes]) -> None:
    """Stop a relay and the children it forked for open connections (its process group)."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(relay.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            relay.wait(timeout=5)


def unavailable_reason(probe: str) -> str | None:
    """Why namespaces cannot be made here (not root, no ``ip`` or ``socat``, ``ip netns add``
    refused), or None. ``probe``: a namespace name to try and remove again."""
    for tool in ("ip", "socat"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (Debian packages iproute2, socat)"
    added = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if added.returncode != 0:
        return f"`ip netns add` is not permitted here: {added.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None
