"""AWS Organizations through boto3 against a real server: the organization's lifecycle,
accounts made by CreateAccount (asynchronous), OUs, errors in AWS's words and codes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

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
    assert re.fullmatch(r"\d{12}", account_id)
    assert account_id != ACCOUNT
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
    taken = orgs.create_account(AccountName="Dev2", Email="DEV@example.com")["CreateAccountStatus"]
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
        lambda: orgs.describe_create_account_status(CreateAccountRequestId="car-" + "0" * 32)
    )
    assert missing["Code"] == "CreateAccountStatusNotFoundException"


def test_organizational_units(orgs: Any) -> None:
    orgs.create_organization(FeatureSet="ALL")
    org_id = orgs.describe_organization()["Organization"]["Id"]
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    prod = orgs.create_organizational_unit(
        ParentId=root_id, Name="Prod", Tags=[{"Key": "tier", "Value": "1"}]
    )["OrganizationalUnit"]
    assert re.fullmatch(rf"ou-{root_id[2:]}-[a-z0-9]{{8}}", prod["Id"])
    assert prod["Arn"] == f"arn:aws:organizations::{ACCOUNT}:ou/{org_id}/{prod['Id']}"
    assert prod["Name"] == "Prod"
    assert (
        orgs.describe_organizational_unit(OrganizationalUnitId=prod["Id"])["OrganizationalUnit"]
        == prod
    )
    web = orgs.create_organizational_unit(ParentId=prod["Id"], Name="Web")["OrganizationalUnit"]

    duplicate = error_of(orgs.create_organizational_unit, ParentId=root_id, Name="Prod")
    assert duplicate["Code"] == "DuplicateOrganizationalUnitException"
    assert duplicate["Message"] == "An OU with the same name already exists."
    # The same name under another parent is another OU.
    orgs.create_organizational_unit(ParentId=prod["Id"], Name="Prod")

    listed = orgs.list_organizational_units_for_parent(ParentId=prod["Id"])
    assert [ou["Name"] for ou in listed["OrganizationalUnits"]] == ["Web", "Prod"]
    assert orgs.list_parents(ChildId=web["Id"])["Parents"] == [
        {"Id": prod["Id"], "Type": "ORGANIZATIONAL_UNIT"}
    ]
    children = orgs.list_children(ParentId=root_id, ChildType="ORGANIZATIONAL_UNIT")
    assert children["Children"] == [{"Id": prod["Id"], "Type": "ORGANIZATIONAL_UNIT"}]

    renamed = orgs.update_organizational_unit(OrganizationalUnitId=web["Id"], Name="Frontend")
    assert renamed["OrganizationalUnit"]["Name"] == "Frontend"

    # Move the management account into an OU and back; the OU is then not empty.
    orgs.move_account(AccountId=ACCOUNT, SourceParentId=root_id, DestinationParentId=web["Id"])
    assert orgs.list_accounts_for_parent(ParentId=web["Id"])["Accounts"][0]["Id"] == ACCOUNT
    again = error_of(
        orgs.move_account, AccountId=ACCOUNT, SourceParentId=root_id, DestinationParentId=web["Id"]
    )
    assert again["Code"] == "DuplicateAccountException"
    not_empty = error_of(orgs.delete_organizational_unit, OrganizationalUnitId=web["Id"])
    assert not_empty["Code"] == "OrganizationalUnitNotEmptyException"
    has_child = error_of(orgs.delete_organizational_unit, OrganizationalUnitId=prod["Id"])
    assert has_child["Code"] == "OrganizationalUnitNotEmptyException"
    orgs.move_account(AccountId=ACCOUNT, SourceParentId=web["Id"], DestinationParentId=root_id)
    orgs.delete_organizational_unit(OrganizationalUnitId=web["Id"])
    gone = error_of(orgs.describe_organizational_unit, OrganizationalUnitId=web["Id"])
    assert gone["Code"] == "OrganizationalUnitNotFoundException"

    missing_parent = error_of(
        orgs.create_organizational_unit, ParentId=f"ou-{root_id[2:]}-zzzzzzzz", Name="X"
    )
    assert missing_parent["Code"] == "ParentNotFoundException"
    # An OU is not an account: the OU-under-its-own-child cycle cannot even be asked for.
    cycle = error_of(
        orgs.move_account,
        AccountId=prod["Id"],
        SourceParentId=root_id,
        DestinationParentId=prod["Id"],
    )
    assert cycle["Code"] == "InvalidInputException"
    assert cycle["Reason"] in ("MAX_LENGTH_EXCEEDED", "INVALID_PATTERN")
    assert orgs.list_parents(ChildId=prod["Id"])["Parents"] == [{"Id": root_id, "Type": "ROOT"}]


def test_ous_nest_five_levels_deep_at_most(orgs: Any) -> None:
    orgs.create_organization(FeatureSet="ALL")
    parent = orgs.list_roots()["Roots"][0]["Id"]
    for level in range(5):
        parent = orgs.create_organizational_unit(ParentId=parent, Name=f"L{level}")[
            "OrganizationalUnit"
        ]["Id"]
    error = error_of(orgs.create_organizational_unit, ParentId=parent, Name="L5")
    assert error["Code"] == "ConstraintViolationException"
    assert error["Reason"] == "OU_DEPTH_LIMIT_EXCEEDED"


def test_bad_account_ids_get_aws_errors(orgs: Any) -> None:
    orgs.create_organization(FeatureSet="ALL")
    unknown = error_of(orgs.describe_account, AccountId="999999999999")
    assert unknown["Code"] == "AccountNotFoundException"
    assert unknown["Message"] == "You specified an account that doesn't exist."
    assert unknown["Status"] == 400
    for bad in ("12345", "12345678901a"):
        error = error_of(orgs.describe_account, AccountId=bad)
        assert error["Code"] == "InvalidInputException"
        assert error["Reason"] == "INVALID_PATTERN"
        assert error["Message"] == "You provided a value that does not match the required pattern."
    too_long = error_of(orgs.close_account, AccountId="1234567890123")
    assert too_long["Code"] == "InvalidInputException"
    assert too_long["Reason"] in ("MAX_LENGTH_EXCEEDED", "INVALID_PATTERN")
    management = error_of(orgs.close_account, AccountId=ACCOUNT)
    assert management["Reason"] == "CANNOT_CLOSE_MANAGEMENT_ACCOUNT"
    leave = error_of(orgs.remove_account_from_organization, AccountId=ACCOUNT)
    assert leave["Code"] == "ConstraintViolationException"
    assert leave["Reason"] == "ACCOUNT_CANNOT_LEAVE_ORGANIZATION"
    bad_email = error_of(orgs.create_account, AccountName="X", Email="not-an-email")
    assert bad_email["Code"] == "InvalidInputException"


def test_close_and_remove_accounts(orgs: Any) -> None:
    orgs.create_organization(FeatureSet="ALL")
    account_id = create_account(orgs, "Closing", "closing@example.com")
    orgs.close_account(AccountId=account_id)
    assert orgs.describe_account(AccountId=account_id)["Account"]["Status"] == "SUSPENDED"
    closed = error_of(orgs.close_account, AccountId=account_id)
    assert closed["Code"] == "AccountAlreadyClosedException"
    orgs.remove_account_from_organization(AccountId=account_id)
    assert error_of(orgs.describe_account, AccountId=account_id)["Code"] == (
        "AccountNotFoundException"
    )


def test_pagination_of_accounts_and_ous(orgs: Any) -> None:
    orgs.create_organization(FeatureSet="ALL")
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    names = [f"Unit{n:02d}" for n in range(23)]
    for name in names:
        orgs.create_organizational_unit(ParentId=root_id, Name=name)
    first = orgs.list_organizational_units_for_parent(ParentId=root_id)
    assert len(first["OrganizationalUnits"]) == 20  # AWS's page when MaxResults is omitted
    assert "NextToken" in first
    seen = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"ParentId": root_id, "MaxResults": 4}
        if token:
            kwargs["NextToken"] = token
        page = orgs.list_organizational_units_for_parent(**kwargs)
        assert len(page["OrganizationalUnits"]) <= 4
        seen += [ou["Name"] for ou in page["OrganizationalUnits"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    paginated = orgs.get_paginator("list_organizational_units_for_parent").paginate(
        ParentId=root_id, PaginationConfig={"PageSize": 7}
    )
    assert [ou["Name"] for p in paginated for ou in p["OrganizationalUnits"]] == names

    bad = error_of(orgs.list_accounts, NextToken="not-a-token")
    assert bad["Code"] == "InvalidInputException"
    assert bad["Reason"] == "INVALID_NEXT_TOKEN"
    other_list = error_of(orgs.list_accounts, NextToken=first["NextToken"])
    assert other_list["Reason"] == "INVALID_NEXT_TOKEN"
    too_many = error_of(orgs.list_accounts, MaxResults=21)
    assert too_many["Reason"] == "MAX_VALUE_EXCEEDED"
    for ou in orgs.list_organizational_units_for_parent(ParentId=root_id, MaxResults=20)[
        "OrganizationalUnits"
    ]:
        orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"])


def test_a_user_without_organizations_permissions_is_denied(
    org_server: RunningServer, orgs: Any
) -> None:
    iam = org_server.client("iam")
    iam.create_user(UserName="org-nobody")
    key = iam.create_access_key(UserName="org-nobody")["AccessKey"]
    nobody = org_server.client(
        "organizations", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"]
    )
    denied = error_of(nobody.create_organization, FeatureSet="ALL")
    assert denied["Code"] == "AccessDeniedException"
    assert "organizations:CreateOrganization" in denied["Message"]
    assert error_of(orgs.describe_organization)["Code"] == "AWSOrganizationsNotInUseException"

    iam.put_user_policy(
        UserName="org-nobody",
        PolicyName="describe",
        PolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Action":"organizations:Describe*","Resource":"*"}]}'
        ),
    )
    orgs.create_organization(FeatureSet="ALL")
    org_id = orgs.describe_organization()["Organization"]["Id"]
    assert nobody.describe_organization()["Organization"]["Id"] == org_id
    ou_denied = error_of(nobody.list_roots)
    assert ou_denied["Code"] == "AccessDeniedException"
    assert "organizations:ListRoots" in ou_denied["Message"]


def test_aws_endpoint_url_reaches_organizations(
    org_server: RunningServer, orgs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", org_server.endpoint)
    client = boto3.client(
        "organizations",
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
    )
    error = error_of(client.describe_organization)
    assert error["Code"] == "AWSOrganizationsNotInUseException"
    assert client.meta.endpoint_url == org_server.endpoint
