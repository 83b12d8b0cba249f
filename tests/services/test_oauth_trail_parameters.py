"""The OAuth calls' requestParameters (services/identity_center_trail.py): the model's
members only, each secret HIDDEN whatever a client put there, other values only when
they are strings or lists of strings."""

from __future__ import annotations

from datetime import UTC, datetime

from iamd.services.identity_center_trail import (
    HIDDEN,
    PortalUser,
    RequestFacts,
    oauth_event,
    oauth_request_parameters,
)

_FACTS = RequestFacts(
    when=datetime(2026, 12, 4, 12, 0, tzinfo=UTC),
    source_ip="192.0.2.1",
    user_agent="aws-cli/2.38.5",
    request_id="req-1",
    region="us-east-1",
    tls_host=None,
    tls=None,
)


def test_secrets_are_hidden_and_odd_values_left_out() -> None:
    body = {
        "clientId": "client-1",
        "clientSecret": {"not": "a string"},
        "grantType": "authorization_code",
        "code": "the-code",
        "codeVerifier": "v" * 64,
        "redirectUri": "http://127.0.0.1:4321/oauth/callback",
        "scope": ["sso:account:access", 7],
        "deviceCode": None,
        "unmodeled": "kept out",
    }
    assert oauth_request_parameters("CreateToken", body) == {
        "clientId": "client-1",
        "clientSecret": HIDDEN,
        "grantType": "authorization_code",
        "code": HIDDEN,
        "codeVerifier": HIDDEN,
        "redirectUri": "http://127.0.0.1:4321/oauth/callback",
    }
    assert oauth_request_parameters("StartDeviceAuthorization", {"startUrl": "x" * 5000}) is None
    assert oauth_request_parameters("RegisterClient", {"clientSecret": "s", "scopes": []}) == {
        "scopes": []
    }


def test_an_event_names_the_user_once_known() -> None:
    user = PortalUser("111122223333", "d-0123456789", "user-1", "jdoe", "")
    named = oauth_event(
        "111122223333", "d-0123456789", user, _FACTS, "CreateToken", None, None, None
    )
    assert named.identity is not None
    assert named.identity["type"] == "IdentityCenterUser"
    assert "credentialId" not in named.identity  # no token family yet: none made up
    assert named.username == "jdoe"
    assert named.event_source == "sso.amazonaws.com"
    anonymous = oauth_event(
        "111122223333",
        "d-0123456789",
        None,
        _FACTS,
        "StartDeviceAuthorization",
        None,
        None,
        ("InvalidClientException", "Invalid client"),
    )
    assert anonymous.identity == {
        "type": "Unknown",
        "principalId": "111122223333",
        "arn": "",
        "accountId": "111122223333",
        "accessKeyId": "",
    }
    assert anonymous.event_source == "sso-oauth.amazonaws.com"
    assert (anonymous.error_code, anonymous.read_only) == ("InvalidClientException", False)
    assert anonymous.resources == (
        {"accountId": "111122223333", "type": "IdentityStoreId", "ARN": "d-0123456789"},
    )
