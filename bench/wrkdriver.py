"""Drive ``wrk`` with a generated Lua script that rotates through pre-signed raw requests."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from typing import Any

from loadgen import require_loopback

_MARKER = "IAMD_BENCH_WRK "

_LUA_TEMPLATE = """
local reqs = {
%(requests)s
}
local n = #reqs
local counter = 0
local threads_seen = 0

function setup(thread)
  thread:set("thread_index", threads_seen)
  threads_seen = threads_seen + 1
end

function init(args)
  local t = thread_index or 0
  counter = (t * 7919) %% n
end

function request()
  counter = counter + 1
  if counter > n then counter = 1 end
  return reqs[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"connect_errors":%%d,"read_errors":%%d,"write_errors":%%d,"status_errors":%%d,' ..
    '"timeouts":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"mean_us":%%.1f,"max_us":%%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


def wrk_path(install: bool) -> str | None:
    """Path of ``wrk``; when missing and ``install`` and root, ``apt-get install -y wrk``."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    print("wrk not found: installing the Debian package (apt-get install -y wrk)...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    quiet: dict[str, Any] = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update"], check=False, **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
    return shutil.which("wrk")


def wrk_version(path: str) -> str:
    proc = subprocess.run([path, "--version"], check=False, capture_output=True, text=True)
    text = proc.stdout or proc.stderr
    return text.splitlines()[0].strip() if text else ""


def lua_quote(data: bytes) -> str:
    """A Lua double-quoted string literal holding exactly ``data`` (long brackets would
    normalise CRLF, so every non-printable byte is written as a decimal escape)."""
    out = ['"']
    for byte in data:
        if byte in (0x22, 0x5C):  # " and backslash
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


def write_script(requests: Sequence[bytes], directory: str) -> str:
    body = ",\n".join("  " + lua_quote(raw) for raw in requests)
    script = _LUA_TEMPLATE % {"requests": body, "marker": _MARKER}
    fd, path = tempfile.mkstemp(prefix="wrk-", suffix=".lua", dir=directory)
    with os.fdopen(fd, "w") as handle:
        handle.write(script)
    return path


def run_wrk(
    wrk: str,
    host: str,
    port: int,
    script: str,
    *,
    connections: int,
    threads: int,
    seconds: float,
    timeout_s: int = 30,
) -> dict[str, Any]:
    """Run wrk once and return the ``done()`` summary (latencies in microseconds)."""
    require_loopback(host)
    duration = max(1, math.ceil(seconds))
    cmd = [
        wrk,
        "-t",
        str(max(1, min(threads, connections))),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        f"{timeout_s}s",
        "--latency",
        "-s",
        script,
        f"http://{host}:{port}/",
    ]
    proc = subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=duration + timeout_s + 30
    )
    for line in proc.stdout.splitlines():
        if line.startswith(_MARKER):
            parsed: dict[str, Any] = json.loads(line[len(_MARKER) :])
            parsed["stdout"] = proc.stdout
            return parsed
    raise RuntimeError(f"wrk failed (exit {proc.returncode}): {proc.stdout}\n{proc.stderr}")


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """wrk's numbers in the same shape as ``loadgen.LoadResult.summary()``."""
    duration_s = raw["duration_us"] / 1e6
    transport = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return {
        "units": raw["requests"],
        "requests": raw["requests"],
        "duration_s": round(duration_s, 3),
        "rate": round(raw["requests"] / duration_s, 1) if duration_s else 0.0,
        "p50_ms": raw["p50_us"] / 1000.0,
        "p90_ms": raw["p90_us"] / 1000.0,
        "p99_ms": raw["p99_us"] / 1000.0,
        "max_ms": raw["max_us"] / 1000.0,
        "mean_ms": round(raw["mean_us"] / 1000.0, 3),
        "non_2xx": raw["status_errors"],
        "transport_errors": transport,
        "bad_responses": 0,
    }
