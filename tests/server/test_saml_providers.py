"""SAML providers (CreateSAMLProvider and its family) through boto3 against a real
server, with the metadata of a real pysaml2 IdP: shapes, tags, errors, the quota."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from tests.server.iam_helpers import assert_recent_utc, error_of
from tests.support.saml_idp import SamlIdp
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> SamlIdp:
    return SamlIdp(tmp_path_factory.mktemp("saml-providers-idp"))


@pytest.fixture(scope="module")
def other_idp(tmp_path_factory: pytest.TempPathFactory) -> SamlIdp:
    return SamlIdp(tmp_path_factory.mktemp("saml-other-idp"), "https://other.example.test/idp")


def _account(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def test_create_get_list_update_delete(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp, other_idp: SamlIdp
) -> None:
    name = f"{unique}-corp"
    created = iam.create_saml_provider(
        Name=name, SAMLMetadataDocument=idp.metadata, Tags=[{"Key": "team", "Value": "sso"}]
    )
    arn = created["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{_account(server)}:saml-provider/{name}"
    assert created["Tags"] == [{"Key": "team", "Value": "sso"}]

    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == idp.metadata
    assert UUID.fullmatch(got["SAMLProviderUUID"])
    assert_recent_utc(got["CreateDate"])
    # No validUntil in the metadata: AWS reports 100 years on.
    assert got["ValidUntil"] - got["CreateDate"] > timedelta(days=365 * 99)
    assert got["Tags"] == [{"Key": "team", "Value": "sso"}]

    listed = [p for p in iam.list_saml_providers()["SAMLProviderList"] if p["Arn"] == arn]
    assert listed == [
        {"Arn": arn, "ValidUntil": got["ValidUntil"], "CreateDate": got["CreateDate"]}
    ]

    assert (
        iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=other_idp.metadata)[
            "SAMLProviderArn"
        ]
        == arn
    )
    again = iam.get_saml_provider(SAMLProviderArn=arn)
    assert again["SAMLMetadataDocument"] == other_idp.metadata
    assert again["SAMLProviderUUID"] == got["SAMLProviderUUID"]

    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "prod"}
    ]

    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert error_of(iam.get_saml_provider, SAMLProviderArn=arn) == (
        404,
        "NoSuchEntity",
        f"Manifest not found for arn {arn}",
    )
    assert all(p["Arn"] != arn for p in iam.list_saml_providers()["SAMLProviderList"])


def test_metadata_valid_until_is_reported(iam: Any, unique: str, idp: SamlIdp) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    document = idp.metadata.replace(
        "<ns0:EntityDescriptor ",
        f'<ns0:EntityDescriptor validUntil="{until.strftime("%Y-%m-%dT%H:%M:%SZ")}" ',
        1,
    )
    assert document != idp.metadata
    arn = iam.create_saml_provider(Name=f"{unique}-u", SAMLMetadataDocument=document)[
        "SAMLProviderArn"
    ]
    assert iam.get_saml_provider(SAMLProviderArn=arn)["ValidUntil"] == until
    iam.delete_saml_provider(SAMLProviderArn=arn)


def test_errors(server: RunningServer, iam: Any, unique: str, idp: SamlIdp) -> None:
    name = f"{unique}-dup"
    arn = iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata)["SAMLProviderArn"]
    assert error_of(iam.create_saml_provider, Name=name.upper(), SAMLMetadataDocument=idp.metadata)[
        :2
    ] == (409, "EntityAlreadyExists")
    # Metadata without a signing certificate, and XML that is no metadata at all.
    no_keys = re.sub(r"<ns0:KeyDescriptor.*?</ns0:KeyDescriptor>", "", idp.metadata, flags=re.S)
    assert no_keys != idp.metadata
    for bad in (no_keys + " " * 1000, "<x>" + "y" * 1000 + "</x>", "not xml " * 200):
        assert error_of(
            iam.create_saml_provider, Name=f"{unique}-bad", SAMLMetadataDocument=bad
        ) == (
            400,
            "InvalidInput",
            "Could not parse metadata",
        )
        assert (
            error_of(iam.update_saml_provider, SAMLProviderArn=arn, SAMLMetadataDocument=bad)[1]
            == "InvalidInput"
        )
    unchecked = boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    for bad_name in ("bad/name", "x" * 129, ""):
        status, code, _ = error_of(
            unchecked.create_saml_provider, Name=bad_name, SAMLMetadataDocument=idp.metadata
        )
        assert (status, code) == (400, "ValidationError"), bad_name
    status, code, _ = error_of(
        unchecked.create_saml_provider, Name="short", SAMLMetadataDocument="<x/>"
    )
    assert (status, code) == (400, "ValidationError")
    ghost = f"arn:aws:iam::{_account(server)}:saml-provider/{unique}-ghost"
    # Another account's provider is no resource of this caller's.
    other_account = f"arn:aws:iam::999999999999:saml-provider/{name}"
    assert error_of(iam.get_saml_provider, SAMLProviderArn=other_account)[1] == "AccessDenied"
    for missing in (ghost,):
        assert error_of(iam.delete_saml_provider, SAMLProviderArn=missing)[:2] == (
            404,
            "NoSuchEntity",
        )
        assert (
            error_of(
                iam.tag_saml_provider, SAMLProviderArn=missing, Tags=[{"Key": "k", "Value": "v"}]
            )[1]
            == "NoSuchEntity"
        )
    status, code, message = error_of(
        iam.create_saml_provider,
        Name=f"{unique}-enc",
        SAMLMetadataDocument=idp.metadata,
        AssertionEncryptionMode="Required",
    )
    assert (status, code) == (501, "NotImplemented")
    assert "AssertionEncryptionMode" in message
    iam.delete_saml_provider(SAMLProviderArn=arn)


def test_quota_of_100_per_account(
    fresh_server: RunningServer, tmp_path: Path, idp: SamlIdp
) -> None:
    iam = fresh_server.client("iam")
    for i in range(100):
        iam.create_saml_provider(Name=f"p{i}", SAMLMetadataDocument=idp.metadata)
    assert error_of(iam.create_saml_provider, Name="p100", SAMLMetadataDocument=idp.metadata) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for SAMLProvidersPerAccount: 100",
    )
    assert len(iam.list_saml_providers()["SAMLProviderList"]) == 100
