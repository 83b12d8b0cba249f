"""Throughput of requests signed with STS session credentials against long-term keys.

Starts `iamd serve` on a loopback port with a throwaway data directory, asks for a
GetSessionToken session, and replays pre-signed GetCallerIdentity requests (STS) signed
with the long-term key, then with the session (ASIA key + X-Amz-Security-Token), over
keep-alive connections. Prints requests/s and latency percentiles for both.

    .venv/bin/python -m bench.sts_sessions [--seconds 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.serialize
import botocore.session
from bench.iamd_process import free_port, start_iamd
from bench.loadgen import replay, run_async

KEY_ID = "AKIAIAMDBENCHSTS0001"
SECRET = "iamdBenchStsSecretKey000000000000000000"


def _signed_caller_identity(port: int, key: str, secret: str, token: str | None) -> bytes:
    model = botocore.session.get_session().get_service_model("sts")
    serializer = botocore.serialize.create_serializer("query", include_validation=True)
    endpoint = f"http://127.0.0.1:{port}"
    request_dict = serializer.serialize_to_request({}, model.operation_model("GetCallerIdentity"))
    botocore.awsrequest.prepare_request_dict(request_dict, endpoint_url=endpoint)
    request = botocore.awsrequest.create_request_object(request_dict)
    credentials = botocore.credentials.Credentials(key, secret, token)
    botocore.auth.SigV4Auth(credentials, "sts", "us-east-1").add_auth(request)
    prepared = request.prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in prepared.headers.items()]
    if "Content-Length" not in prepared.headers:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = start_iamd(port, data, KEY_ID, SECRET, ["--no-access-log", "--no-git-ssh"])
        try:
            sts = boto3.client(
                "sts",
                endpoint_url=f"http://127.0.0.1:{port}",
                region_name="us-east-1",
                aws_access_key_id=KEY_ID,
                aws_secret_access_key=SECRET,
            )
            session = sts.get_session_token()["Credentials"]
            cases = {
                "long-term key": _signed_caller_identity(port, KEY_ID, SECRET, None),
                "session (ASIA + token)": _signed_caller_identity(
                    port,
                    session["AccessKeyId"],
                    session["SecretAccessKey"],
                    session["SessionToken"],
                ),
            }
            for name, raw in cases.items():
                result = run_async(
                    replay(
                        "127.0.0.1",
                        port,
                        [raw],
                        connections=args.connections,
                        duration=args.seconds,
                        warmup=1.0,
                    )
                )
                print(name, json.dumps(result.summary()))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
