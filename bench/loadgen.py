"""The two kinds of client the protocol benchmarks drive, with their numbers parsed.

- one connection per request: ``ab`` (apache2-utils) — HTTP/1.0 without keep-alive, like
  `openssl ocsp`, NSS, GnuTLS and Java's timestamp clients;
- kept connections: ``wrk`` — HTTP/1.1 keep-alive, like a relying party's connection pool.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # failed, non-2xx and socket errors together


def per_connection(url: str, seconds: int, concurrency: int, body: Path | None, content_type: str) -> Load:
    """``ab -c N -t S``: a new TCP connection for every request."""
    command = ["ab", "-q", "-r", "-l", "-c", str(concurrency), "-t", str(seconds), "-n", "10000000"]
    if body is not None:
        command += ["-p", str(body), "-T", content_type]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    found = re.search(r"Requests per second:\s+([\d.]+)", out)
    if not found:  # no request completed (ab prints no rate then)
        return Load(0.0, float("nan"), float("nan"), 0, 1)

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+(\d+)", out, re.M)
        return float(match.group(1)) if match else float("nan")

    errors = sum(
        int(m.group(1))
        for pattern in (r"Failed requests:\s+(\d+)", r"Non-2xx responses:\s+(\d+)", r"Exceptions:\s+(\d+)")
        if (m := re.search(pattern, out))
    )
    requests = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    return Load(float(found.group(1)), percentile("50"), percentile("99"), requests, errors)


WRK_POST = """wrk.method = "POST"
wrk.headers["Content-Type"] = "{content_type}"
wrk.headers["Connection"] = "keep-alive"
local f = io.open("{path}", "rb")
wrk.body = f:read("*all")
f:close()
"""


def kept(url: str, seconds: int, connections: int, body: Path | None, content_type: str, scratch: Path) -> Load:
    """``wrk -t1 -c N -d S``: keep-alive connections (explicitly asked: `openssl ocsp` answers
    HTTP/1.0 and keeps the connection only when asked)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if body is not None:
        script = scratch / f"{body.stem}.lua"
        script.write_text(WRK_POST.format(content_type=content_type, path=body))
        command += ["-s", str(script)]
    else:
        command += ["-H", "Connection: keep-alive"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    errors = 0
    socket_errors = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", socket_errors):
        match = re.search(pattern, out)
        if match:
            errors += sum(int(g) for g in match.groups())
    return Load(rps, percentile("50"), percentile("99"), requests, errors)
