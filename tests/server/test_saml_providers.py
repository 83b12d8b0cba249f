"""SAML providers (CreateSAMLProvider and its family) through boto3 against a real
server, with the metadata of a real pysaml2 IdP: shapes, tags, errors, the quota."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.server.iam_helpers import assert_recent_utc, error_of
from tests.support.saml_idp import SamlIdp
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

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
    assert (status, code, message) == (
        400,
        "InvalidInput",
        "AssertionEncryptionMode Required needs a private key to decrypt assertions with.",
    )
    iam.delete_saml_provider(SAMLProviderArn=arn)


def _private_key(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_private_keys_for_encrypted_assertions(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    first, second, third = _private_key(), _private_key(), _private_key()
    arn = iam.create_saml_provider(
        Name=f"{unique}-keys",
        SAMLMetadataDocument=idp.metadata,
        AssertionEncryptionMode="Required",
        AddPrivateKey=first,
    )["SAMLProviderArn"]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["AssertionEncryptionMode"] == "Required"
    [only] = got["PrivateKeyList"]
    assert re.fullmatch(r"[A-Z0-9]{22,64}", only["KeyId"])
    assert_recent_utc(only["Timestamp"])
    # The key is never told back, in any answer.
    assert "PRIVATE KEY" not in str(got)

    # Rotation: add the new key, then remove the old one, in two requests.
    iam.update_saml_provider(SAMLProviderArn=arn, AddPrivateKey=second)
    keys = iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"]
    assert keys[0]["KeyId"] == only["KeyId"]
    assert len(keys) == 2
    assert error_of(iam.update_saml_provider, SAMLProviderArn=arn, AddPrivateKey=third) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for PrivateKeysPerSAMLProvider: 2",
    )
    assert error_of(
        iam.update_saml_provider,
        SAMLProviderArn=arn,
        AddPrivateKey=third,
        RemovePrivateKey=only["KeyId"],
    ) == (
        400,
        "InvalidInput",
        "Add the new private key and remove the old one in separate requests.",
    )
    iam.update_saml_provider(SAMLProviderArn=arn, RemovePrivateKey=only["KeyId"])
    [left] = iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"]
    assert left["KeyId"] == keys[1]["KeyId"]
    ghost = "A" * 26
    assert error_of(iam.update_saml_provider, SAMLProviderArn=arn, RemovePrivateKey=ghost) == (
        404,
        "NoSuchEntity",
        f"The private key {ghost} does not exist for {arn}.",
    )
    # Required keeps a key: the last one cannot go until the mode is Allowed.
    assert error_of(
        iam.update_saml_provider, SAMLProviderArn=arn, RemovePrivateKey=left["KeyId"]
    ) == (
        400,
        "InvalidInput",
        "AssertionEncryptionMode Required needs a private key to decrypt assertions with.",
    )
    iam.update_saml_provider(SAMLProviderArn=arn, AssertionEncryptionMode="Allowed")
    iam.update_saml_provider(SAMLProviderArn=arn, RemovePrivateKey=left["KeyId"])
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["AssertionEncryptionMode"] == "Allowed"
    assert "PrivateKeyList" not in got

    # Keys that are not an unencrypted RSA PEM key of 2048 bits or more.
    encrypted_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        .decode()
    )
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    for bad, message in (
        ("not a key", "The private key must be an unencrypted PEM RSA private key."),
        (encrypted_pem, "The private key must be an unencrypted PEM RSA private key."),
        (ec_pem, "The private key must be an RSA key of at least 2048 bits."),
        (_private_key(1024), "The private key must be an RSA key of at least 2048 bits."),
    ):
        assert error_of(iam.update_saml_provider, SAMLProviderArn=arn, AddPrivateKey=bad) == (
            400,
            "InvalidInput",
            message,
        )
    # Nothing was stored by the refused requests.
    assert "PrivateKeyList" not in iam.get_saml_provider(SAMLProviderArn=arn)
    assert error_of(
        iam.update_saml_provider, SAMLProviderArn=arn, AssertionEncryptionMode="Sometimes"
    )[:2] == (400, "ValidationError")
    iam.delete_saml_provider(SAMLProviderArn=arn)


@pytest.mark.slow
def test_private_keys_are_sealed_at_rest(tmp_path: Path, idp: SamlIdp) -> None:
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    try:
        key = _private_key()
        running.client("iam").create_saml_provider(
            Name="sealed", SAMLMetadataDocument=idp.metadata, AddPrivateKey=key
        )
        trail = running.client("cloudtrail")
        only = [{"AttributeKey": "EventName", "AttributeValue": "CreateSAMLProvider"}]
        deadline = time.monotonic() + 10
        while not (events := trail.lookup_events(LookupAttributes=only)["Events"]):
            assert time.monotonic() < deadline, "no CreateSAMLProvider event"
            time.sleep(0.2)
        record = json.loads(events[0]["CloudTrailEvent"])
        assert record["requestParameters"]["name"] == "sealed"
        assert "addPrivateKey" not in record["requestParameters"]
        assert "PRIVATE KEY" not in events[0]["CloudTrailEvent"]
    finally:
        running.stop()
    # Any line of the key's base64 body, in any file of the data directory (database,
    # WAL, logs): none may be there.
    lines = [line.encode() for line in key.splitlines()[1:-1]]
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" or "sqlite" in p.name for p in files), files
    for path in files:
        content = path.read_bytes()
        assert not any(line in content for line in lines), path


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
