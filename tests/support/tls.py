"""Certificates for tests, made with the real `openssl` as an operator would."""

from __future__ import annotations

import subprocess
from pathlib import Path


def openssl_certificate(cert: Path, key: Path) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for localhost and 127.0.0.1, valid two days."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key
