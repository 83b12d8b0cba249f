"""The built wheel alone makes a working server: data files and migrations included.

The wheel is built from a copy of the sources (`pip wheel --no-deps`), installed into a
fresh virtual environment with its dependencies, and started from a directory outside
the repository, so nothing can be imported from the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from tests.support.servers import start_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=240,
    )


def test_the_wheel_serves_with_nothing_else(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    for name in ("pyproject.toml", "README.md"):
        sources.mkdir(exist_ok=True)
        shutil.copy(REPO / name, sources / name)
    shutil.copytree(
        REPO / "src", sources / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    dist = tmp_path / "dist"
    _pip("wheel", "--no-deps", "--wheel-dir", str(dist), str(sources), cwd=tmp_path)
    (wheel,) = dist.glob("iamd-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one: no pip of its own to set up.
    _pip("--python", str(python), "install", "--no-compile", str(wheel), cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import iamd; print(iamd.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv)), where

    server = start_server(elsewhere / "data", iamd=[str(venv / "bin" / "iamd")], cwd=elsewhere)
    try:
        iam = server.client("iam")
        # The migrations made the schema; bootstrap attached a managed policy from the
        # wheel's data files.
        assert iam.get_user()["User"]["UserName"] == "admin"
        attached = iam.list_attached_group_policies(GroupName="Administrators")
        assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["AdministratorAccess"]
        read_only = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        assert read_only["Policy"]["DefaultVersionId"]
        assert server.client("sts").get_caller_identity()["Account"] == "123456789012"
        # The console's templates and style sheet are package data of the wheel.
        for path, expected in (
            ("/console", "IAM user name"),
            ("/console/static/console.css", "body"),
        ):
            with urllib.request.urlopen(f"{server.endpoint}{path}", timeout=30) as answer:  # noqa: S310
                assert expected in answer.read().decode()
    finally:
        assert server.stop() == 0
