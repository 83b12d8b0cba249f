"""OpenID Connect providers through boto3 against a real server: create, get, list,
client ids, thumbprints, tags, AWS's errors, and the account summary."""

from __future__ import annotations

from typing import Any

from tests.server.iam_helpers import ACCOUNT, error_of

PRINT = "a" * 40


def test_provider_lifecycle(iam: Any, unique: str) -> None:
    url = f"https://{unique}.example.com/issuer"
    arn = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[PRINT]
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{unique}.example.com/issuer"
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == f"{unique}.example.com/issuer"
    assert got["ClientIDList"] == ["sts.amazonaws.com"]
    assert got["ThumbprintList"] == [PRINT]
    listed = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert arn in listed
    assert error_of(iam.create_open_id_connect_provider, Url=url) == (
        409,
        "EntityAlreadyExists",
        f"Provider with url {url} already exists.",
    )
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="b")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="b")
    iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com"
    )
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="x")
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=["B" * 40]
    )
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["b"], ["b" * 40])
    iam.tag_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, Tags=[{"Key": "team", "Value": "ci"}]
    )
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "ci"}]
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == []
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_of(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn) == (
        404,
        "NoSuchEntity",
        f"OpenIDConnect Provider not found for arn {arn}",
    )


def test_bad_input(iam: Any, unique: str) -> None:
    bad_url = (400, "InvalidInput", "Invalid Open ID Connect Provider URL")
    for url in ("http://x.example.com", "https://", "https://x.example.com/?a=b", "x.example.com"):
        assert error_of(iam.create_open_id_connect_provider, Url=url) == bad_url
    url = f"https://{unique}.example.com"
    assert error_of(iam.create_open_id_connect_provider, Url=url, ThumbprintList=["g" * 40]) == (
        400,
        "InvalidInput",
        "Thumbprint must be a 40 character hexadecimal string.",
    )
    prints = [f"{n:040x}" for n in range(6)]
    assert error_of(iam.create_open_id_connect_provider, Url=url, ThumbprintList=prints) == (
        400,
        "InvalidInput",
        "Thumbprint list must contain fewer than 5 entries.",
    )
    clients = [f"c{n}" for n in range(101)]
    assert error_of(iam.create_open_id_connect_provider, Url=url, ClientIDList=clients) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100",
    )
    other = f"arn:aws:iam::999999999999:oidc-provider/{unique}.example.com"
    # Another account's resource is refused by the authorizer, as for every IAM entity.
    assert error_of(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=other)[:2] == (
        403,
        "AccessDenied",
    )


def test_summary_counts_providers(fresh_server: Any) -> None:
    iam = fresh_server.client()
    assert iam.get_account_summary()["SummaryMap"]["Providers"] == 0
    iam.create_open_id_connect_provider(Url="https://one.example.com")
    assert iam.get_account_summary()["SummaryMap"]["Providers"] == 1
