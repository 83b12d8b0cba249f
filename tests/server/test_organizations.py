"""AWS Organizations through boto3 against a real server: the organization's lifecycle,
accounts made by CreateAccount (asynchronous), OUs, errors in AWS's words and codes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer, start_server

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def org_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own: organizations are per management account."""
    running = start_server(tmp_path_factory.mktemp("iamd-orgs"))
    yield running
    running.stop()


@pytest.fixture
def orgs(org_server: RunningServer) -> Iterator[Any]:
    """The Organizations client of the bootstrap admin; no organization is left behind."""
    client = org_server.client("organizations")
    yield client
    try:
        root_id = client.list_roots()["Roots"][0]["Id"]
    except ClientError:
        return
    for account in client.list_accounts()["Accounts"]:
        if account["Id"] != ACCOUNT:
            client.remove_account_from_organization(AccountId=account["Id"])
    del root_id
    client.delete_organization()


def error_of(call: Any, /, **params: Any) -> dict[str, Any]:
    """Call an operation that must fail: its Code, Message, Reason and HTTP status."""
    try:
        call(**params)
    except ClientError as error:
        response = error.response
        return {
            "Code": response["Error"]["Code"],
            "Message": response["Error"]["Message"],
            "Reason": response.get("Reason"),
            "Status": response["ResponseMetadata"]["HTTPStatusCode"],
        }
    raise AssertionError(f"{params} succeeded; an error was expected")


def wait_for(orgs: Any, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        status = orgs.describe_create_account_status(CreateAccountRequestId=request_id)[
            "CreateAccountStatus"
        ]
        if status["State"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return dict(status)
        time.sleep(0.05)


def create_account(orgs: Any, name: str, email: str) -> str:
    started = orgs.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
    status = wait_for(orgs, started["Id"])
    assert status["State"] == "SUCCEEDED", status
    return str(status["AccountId"])


def test_without_an_organization_every_call_says_not_in_use(orgs: Any) -> None:
    for call in (orgs.describe_organization, orgs.list_roots, orgs.list_accounts):
        error = error_of(call)
        assert error["Code"] == "AWSOrganizationsNotInUseException"
        assert error["Message"] == "Your account is not a member of an organization."


def test_organization_lifecycle(orgs: Any) -> None:
    created = orgs.create_organization(FeatureSet="ALL")["Organization"]
    org_id = created["Id"]
    assert re.fullmatch(r"o-[a-z0-9]{10,32}", org_id)
    assert created["Arn"] == f"arn:aws:organizations::{ACCOUNT}:organization/{org_id}"
    assert created["FeatureSet"] == "ALL"
    assert created["MasterAccountId"] == ACCOUNT
    assert created["MasterAccountArn"] == (
        f"arn:aws:organizations::{ACCOUNT}:account/{org_id}/{ACCOUNT}"
    )
    assert orgs.describe_organization()["Organization"] == created

    again = error_of(lambda: orgs.create_organization(FeatureSet="ALL"))
    assert again["Code"] == "AlreadyInOrganizationException"

    roots = orgs.list_roots()["Roots"]
    assert len(roots) == 1
    root = roots[0]
    assert re.fullmatch(r"r-[0-9a-z]{4,32}", root["Id"])
    assert root["Arn"] == f"arn:aws:organizations::{ACCOUNT}:root/{org_id}/{root['Id']}"
    assert root["Name"] == "Root"
    assert root["PolicyTypes"] == []

    accounts = orgs.list_accounts()["Accounts"]
    assert [a["Id"] for a in accounts] == [ACCOUNT]
    assert accounts[0]["JoinedMethod"] == "INVITED"
    assert accounts[0]["Status"] == "ACTIVE"

    orgs.delete_organization()
    assert error_of(orgs.describe_organization)["Code"] == "AWSOrganizationsNotInUseException"


def test_consolidated_billing_is_refused_clearly(orgs: Any) -> None:
    error = error_of(lambda: orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING"))
    assert error["Code"] == "InvalidInputException"
    assert "FeatureSet ALL" in error["Message"]
    assert error_of(orgs.describe_organization)["Code"] == "AWSOrganizationsNotInUseException"


def test_create_account_is_asynchronous_and_the_account_joins_the_root(orgs: Any) -> None:
    orgs.create_organization(FeatureSet="ALL")
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    started = orgs.create_account(
        AccountName="Dev", Email="dev@example.com", Tags=[{"Key": "env", "Value": "dev"}]
    )["CreateAccountStatus"]
    assert re.fullmatch(r"car-[a-z0-9]{8,32}", started["Id"])
    assert started["State"] == "IN_PROGRESS"
    assert started["AccountName"] == "Dev"
    assert "AccountId" not in started
    status = wait_for(orgs, started["Id"])
    assert status["State"] == "SUCCEEDED"
    account_id = status["AccountId"]
    assert re.fullmatch(r"\d{12}", account_id) and account_id != ACCOUNT
    assert status["CompletedTimestamp"] >= status["RequestedTimestamp"]

    account = orgs.describe_account(AccountId=account_id)["Account"]
    org_id = orgs.describe_organization()["Organization"]["Id"]
    assert account["Arn"] == f"arn:aws:organizations::{ACCOUNT}:account/{org_id}/{account_id}"
    assert account["Name"] == "Dev"
    assert account["Email"] == "dev@example.com"
    assert account["Status"] == "ACTIVE"
    assert account["JoinedMethod"] == "CREATED"
    assert orgs.list_tags_for_resource(ResourceId=account_id)["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]
    children = orgs.list_children(ParentId=root_id, ChildType="ACCOUNT")["Children"]
    assert {c["Id"] for c in children} == {ACCOUNT, account_id}
    assert orgs.list_parents(ChildId=account_id)["Parents"] == [{"Id": root_id, "Type": "ROOT"}]

    # The same email again: AWS answers IN_PROGRESS, then FAILED EMAIL_ALREADY_EXISTS.
    taken = orgs.create_account(AccountName="Dev2", Email="DEV@example.com")[
        "CreateAccountStatus"
    ]
    assert taken["State"] == "IN_PROGRESS"
    failed = wait_for(orgs, taken["Id"])
    assert failed["State"] == "FAILED"
    assert failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in failed
    listed = orgs.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert [s["Id"] for s in listed] == [taken["Id"]]
    assert len(orgs.list_accounts()["Accounts"]) == 2

    # A member account cannot be left behind by DeleteOrganization.
    error = error_of(orgs.delete_organization)
    assert error["Code"] == "OrganizationNotEmptyException"

    missing = error_of(
        lambda: orgs.describe_create_account_status(
            CreateAccountRequestId="car-" + "0" * 32
        )
    )
    assert missing["Code"] == "CreateAccountStatusNotFoundException"
