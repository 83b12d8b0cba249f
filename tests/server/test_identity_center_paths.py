"""SSO portal and SSO OIDC calls get the JSON error their clients parse, not IAM's XML.

iamd does not serve IAM Identity Center yet; boto3's `sso` and `sso-oidc` clients must
see a clear NotImplemented error (HTTP 501) rather than a MissingAuthenticationToken.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer

_NO_RETRIES = Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"})


def _client(server: RunningServer, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name="us-east-1", config=_NO_RETRIES
    )


def _assert_not_implemented(error: ClientError) -> None:
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error.response["Error"]["Code"] == "NotImplemented"
    assert "IAM Identity Center" in error.response["Error"]["Message"]


def test_the_sso_portal_answers_json_not_implemented(server: RunningServer) -> None:
    sso = _client(server, "sso")
    with pytest.raises(ClientError) as failure:
        sso.get_role_credentials(
            roleName="Developers", accountId="123456789012", accessToken="token"
        )
    _assert_not_implemented(failure.value)
    with pytest.raises(ClientError) as failure:
        sso.list_accounts(accessToken="token")
    _assert_not_implemented(failure.value)


def test_sso_oidc_answers_json_not_implemented(server: RunningServer) -> None:
    oidc = _client(server, "sso-oidc")
    with pytest.raises(ClientError) as failure:
        oidc.register_client(clientName="cli", clientType="public")
    _assert_not_implemented(failure.value)
    with pytest.raises(ClientError) as failure:
        oidc.create_token(
            clientId="c",
            clientSecret="s",
            grantType="urn:ietf:params:oauth:grant-type:device_code",
            deviceCode="d",
        )
    _assert_not_implemented(failure.value)


def test_the_browser_authorize_page_is_json_too(server: RunningServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(f"{server.endpoint}/authorize?response_type=code", timeout=10)  # noqa: S310
    assert failure.value.code == 501
    assert failure.value.headers["Content-Type"] == "application/json"
    assert "message" in json.loads(failure.value.read())


def test_iam_still_answers_on_its_own_path(server: RunningServer) -> None:
    assert server.client("iam").get_user()["User"]["UserName"] == "admin"
