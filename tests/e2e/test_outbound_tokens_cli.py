"""The real AWS CLI against iamd as an OIDC issuer: enable the feature, get a token, and
verify it with PyJWT against the keys the discovery document points to."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import jwt
import pytest
from tests.server.iam_helpers import ACCOUNT
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow


def test_aws_cli_gets_a_token_a_verifier_accepts(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    aws = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    refused = aws.run("iam", "get-outbound-web-identity-federation-info", check=False)
    assert refused.returncode != 0
    assert "FeatureDisabled" in refused.stderr
    issuer = aws.run("iam", "enable-outbound-web-identity-federation").json()["IssuerIdentifier"]
    info = aws.run("iam", "get-outbound-web-identity-federation-info").json()
    assert info == {"IssuerIdentifier": issuer, "JwtVendingEnabled": True}
    response = aws.run(
        "sts",
        "get-web-identity-token",
        "--audience",
        "https://api.example.com",
        "https://second.example.com",
        "--signing-algorithm",
        "RS256",
        "--duration-seconds",
        "600",
    ).json()
    token = response["WebIdentityToken"]
    with urllib.request.urlopen(  # noqa: S310 - our own server
        issuer + "/.well-known/openid-configuration", timeout=10
    ) as answer:
        configuration = json.loads(answer.read())
    key = jwt.PyJWKClient(configuration["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, key, algorithms=["RS256"], audience="https://second.example.com", issuer=issuer
    )
    assert claims["aud"] == ["https://api.example.com", "https://second.example.com"]
    assert claims["exp"] - claims["iat"] == 600
    # The bootstrap administrator is an IAM user of the account.
    assert claims["sub"].startswith(f"arn:aws:iam::{ACCOUNT}:user/")
    aws.run("iam", "disable-outbound-web-identity-federation")
    refused = aws.run(
        "sts",
        "get-web-identity-token",
        # AWS CLI v1 fetches a lone http(s):// parameter value as a file (its
        # cli_follow_urlparam); a URN audience is sent as it is.
        "--audience",
        "urn:example:api",
        "--signing-algorithm",
        "ES384",
        check=False,
    )
    assert "OutboundWebIdentityFederationDisabledException" in refused.stderr
