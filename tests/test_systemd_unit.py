"""packaging/iamd.service: systemd accepts it, its hardening holds, its command line runs.

`systemd-analyze verify` checks every directive (as systemd would on daemon-reload),
`systemd-analyze security --offline` rates the sandbox, and the unit's own ExecStart
is started (paths moved into a temporary directory, loopback and free ports) and must
answer over HTTPS.
"""

from __future__ import annotations

import re
import shlex
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.tls import openssl_certificate

UNIT = Path(__file__).resolve().parent.parent / "packaging" / "iamd.service"
IAMD = Path(sys.executable).parent / "iamd"

pytestmark = pytest.mark.slow


def _directives() -> dict[str, list[str]]:
    text = UNIT.read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z]+)=(.*)", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2).strip())
    return found


def _local_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "iamd.service"
    copy.write_text(UNIT.read_text().replace("/opt/iamd/bin/iamd", str(IAMD)))
    return copy


def test_systemd_accepts_the_unit_and_rates_it_well_hardened(tmp_path: Path) -> None:
    copy = _local_copy(tmp_path)
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == ""
    rated = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rated.returncode == 0, rated.stdout
    assert "Overall exposure level" in rated.stdout

    unit = _directives()
    assert unit["User"] == ["iamd"]
    for directive in (
        "NoNewPrivileges",
        "PrivateTmp",
        "ProtectHome",
        "PrivateDevices",
        "RestrictSUIDSGID",
    ):
        assert unit[directive] == ["yes"], directive
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/var/lib/iamd"]
    assert unit["StateDirectory"] == ["iamd"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert int(unit["TimeoutStopSec"][0]) > 40  # two 20 s drains fit


def test_the_units_command_line_serves_https(tmp_path: Path) -> None:
    (command,) = _directives()["ExecStart"]
    args = shlex.split(command)
    assert args[0] == "/opt/iamd/bin/iamd"
    assert args[1] == "serve"
    tls = tmp_path / "tls"
    tls.mkdir()
    openssl_certificate(tls / "iamd.crt", tls / "iamd.key")
    port = free_port()
    local = [
        arg.replace("/var/lib/iamd", str(tmp_path / "state"))
        .replace("/etc/iamd/tls", str(tls))
        .replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - replaced, not bound
        for arg in args[1:]
    ]
    process = subprocess.Popen(
        [str(IAMD), *local, "--port", str(port), "--ssh-port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        context = ssl.create_default_context(cafile=str(tls / "iamd.crt"))
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"https://127.0.0.1:{port}/_iamd/health", context=context, timeout=1
                ) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.1)
        assert status == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    first = output.decode().splitlines()[0]
    assert first.startswith("{")  # --log-format json
