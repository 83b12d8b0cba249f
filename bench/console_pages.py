"""How long the console's pages take on the server for an account of 5,000 users.

Starts `iamd serve` on a loopback port with a throwaway data directory, creates
`--users` users (one of them `jdoe`, with the guide's combined self-service policy and a
password; the bootstrap `admin` gets a password too), signs both in through the
console's own forms, then fetches each page `--rounds` times over one keep-alive
connection and reads the page's own server time from its `Server-Timing` header (the
time from the request reaching the console to its answer, every operation it runs as
the user included). Prints the median and the 90th percentile of each page.

    .venv/bin/python -m bench.console_pages [--users 5000] [--rounds 50] [--audit-trail]

A probe, not a test: it asserts nothing, and its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import subprocess
import tempfile
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import boto3
from bench.iamd_process import free_port, start_iamd

KEY_ID = "AKIAIAMDBENCHCONSOLE"
SECRET = "iamdBenchConsoleSecretKey0000000000000000"
ACCOUNT = "123456789012"
PASSWORD = "Bench-Console-Passw0rd!"
OWN = "arn:aws:iam::*:user/${aws:username}"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "iam:GetAccessKeyLastUsed",
                "iam:ListAccessKeys",
                "iam:UpdateAccessKey",
                "iam:UploadSSHPublicKey",
                "iam:DeleteSSHPublicKey",
                "iam:GetSSHPublicKey",
                "iam:ListSSHPublicKeys",
                "iam:UpdateSSHPublicKey",
            ],
            "Resource": OWN,
        },
        {
            "Effect": "Allow",
            "Action": [
                "iam:GetAccountSummary",
                "iam:ListAccountAliases",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
            ],
            "Resource": "*",
        },
    ],
}


class Browser:
    """One keep-alive connection with a cookie jar of the console's two cookies."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self._cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self._conn.request(method, path, body, headers)
            response = self._conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection (while another
            # browser's pages were measured): open a new one and ask again.
            self._conn.close()
            self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)
            self._conn.request(method, path, body, headers)
            response = self._conn.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self._cookies[key] = rest.split(";", 1)[0]
        timing = response.getheader("server-timing") or "page;dur=nan"
        return response.status, text, float(timing.rsplit("=", 1)[1])

    def sign_in(self, user: str) -> None:
        _, page, _ = self.request("GET", "/console")
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        form = {"csrf": found.group(1), "account": ACCOUNT, "username": user, "password": PASSWORD}
        status, _, _ = self.request("POST", "/console/signin", form)
        if status != 303:
            raise RuntimeError(f"sign-in of {user} answered {status}")


def _seed(port: int, users: int) -> None:
    iam = boto3.client(
        "iam",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    # The account holds `users` in all: the bootstrap admin, jdoe and the rest (5,000 is
    # IAM's UsersPerAccount quota).
    names = [f"user-{n:05d}" for n in range(users - 2)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: iam.create_user(UserName=name), names))
    iam.create_user(UserName="jdoe")
    iam.put_user_policy(UserName="jdoe", PolicyName="SelfManage", PolicyDocument=json.dumps(POLICY))
    iam.create_access_key(UserName="jdoe")
    for name in ("jdoe", "admin"):
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    # What the administrator's group and role pages show.
    iam.create_group(GroupName="team")
    iam.add_user_to_group(GroupName="team", UserName="jdoe")
    iam.attach_group_policy(GroupName="team", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="ci", PolicyName="ci", PolicyDocument=json.dumps(POLICY))


def _summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"{name:<40} median {statistics.median(times):6.1f} ms   p90 {p90:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--audit-trail", action="store_true", help="serve with the audit trail on")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="iamd-bench-console-") as data:
        server = start_iamd(
            port,
            data,
            KEY_ID,
            SECRET,
            [
                "--no-git-ssh",
                "--no-access-log",
                "--test-fast-password-hashing",
                *(["--audit-trail"] if args.audit_trail else []),
            ],
        )
        try:
            _seed(port, args.users)
            jdoe, admin = Browser(port), Browser(port)
            jdoe.sign_in("jdoe")
            admin.sign_in("admin")
            pages = [
                ("jdoe: /console/security-credentials", jdoe, "/console/security-credentials"),
                ("admin: /console/users (first 50)", admin, "/console/users"),
                (
                    "admin: /console/users?search=user-0499",
                    admin,
                    "/console/users?search=user-0499",
                ),
                ("admin: /console/user?name=jdoe", admin, "/console/user?name=jdoe"),
                ("admin: /console/group?name=team", admin, "/console/group?name=team"),
                (
                    "admin: /console/group?name=team&attach=1",
                    admin,
                    "/console/group?name=team&attach=1",
                ),
                ("admin: /console/role?name=ci", admin, "/console/role?name=ci"),
                ("admin: /console/groups", admin, "/console/groups"),
                ("admin: /console/roles", admin, "/console/roles"),
                ("jdoe: /console/sessions", jdoe, "/console/sessions"),
            ]
            print(f"{args.users} users, {args.rounds} rounds per page")
            for name, browser, path in pages:
                times = []
                rows = 0
                for _ in range(args.rounds):
                    status, text, elapsed = browser.request("GET", path)
                    if status != 200:
                        raise RuntimeError(f"{path} answered {status}")
                    rows = text.count("<tr id=")
                    times.append(elapsed)
                print(f"{_summary(name, times)}   ({rows} table rows)")
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
