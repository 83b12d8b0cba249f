"""Member accounts seen through their own credentials: what they may ask of the
organization, and that a closed account (CloseAccount: SUSPENDED) can no longer act: its
principals' credentials stop working at the next request, its roles cannot be assumed,
and its users cannot sign in, while the management account goes on as before."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.test_organizations import create_account
from tests.support.servers import RunningServer
from tests.support.sign_in import sign_in

ROLE = "OrganizationAccountAccessRole"


def _assume(server: RunningServer, account_id: str) -> dict[str, str]:
    sts = server.client("sts")
    credentials: dict[str, str] = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="ops"
    )["Credentials"]
    return credentials


def test_closing_an_account_stops_its_credentials_and_its_roles(
    fresh_server: RunningServer,
) -> None:
    orgs = fresh_server.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    member = create_account(orgs, "Retired", "retired@example.com")
    session = _assume(fresh_server, member)
    in_member = fresh_server.client(
        "iam", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"]
    )
    in_member.create_user(UserName="ops")
    key = in_member.create_access_key(UserName="ops")["AccessKey"]
    in_member.create_login_profile(UserName="ops", Password="Correct-Horse-9!")
    own_key = fresh_server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert own_key.get_caller_identity()["Arn"] == f"arn:aws:iam::{member}:user/ops"
    assert sign_in(fresh_server, member, "ops", "Correct-Horse-9!")[1] == "signed_in"

    orgs.close_account(AccountId=member)

    calls = (lambda: in_member.get_user(UserName="ops"), own_key.get_caller_identity)
    for call in calls:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as no_role:
        _assume(fresh_server, member)
    assert no_role.value.response["Error"]["Code"] == "AccessDenied"
    assert sign_in(fresh_server, member, "ops", "Correct-Horse-9!")[1] == "invalid_credentials"

    # The management account is untouched.
    assert fresh_server.client("iam").get_user()["User"]["UserName"] == "admin"


def test_a_member_account_describes_its_organization_and_nothing_more(
    fresh_server: RunningServer,
) -> None:
    orgs = fresh_server.client("organizations")
    organization = orgs.create_organization(FeatureSet="ALL")["Organization"]
    member = create_account(orgs, "Member", "member@example.com")
    session = _assume(fresh_server, member)
    as_member = fresh_server.client(
        "organizations",
        session["AccessKeyId"],
        session["SecretAccessKey"],
        session["SessionToken"],
    )
    # Any member may describe the organization it belongs to (its ARN names the
    # management account): that is not another account's resource to refuse.
    assert as_member.describe_organization()["Organization"]["Id"] == organization["Id"]
    # Management operations, on the organization's resources or none, are refused with
    # Organizations' own words.
    for call in (
        as_member.list_accounts,
        lambda: as_member.describe_account(AccountId=member),
        lambda: as_member.list_children(ParentId=organization_root(orgs), ChildType="ACCOUNT"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        error = refused.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert error["Message"] == "You don't have permissions to access this resource."


def organization_root(orgs: Any) -> str:
    root_id: str = orgs.list_roots()["Roots"][0]["Id"]
    return root_id


def test_failed_sign_ins_in_one_account_never_slow_down_another(
    fresh_server: RunningServer,
) -> None:
    orgs = fresh_server.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    member = create_account(orgs, "Sales", "sales@example.com")
    session = _assume(fresh_server, member)
    in_member = fresh_server.client(
        "iam", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"]
    )
    management = fresh_server.client("iam")
    management_id = fresh_server.client("sts").get_caller_identity()["Account"]
    for iam in (in_member, management):
        iam.create_user(UserName="bob")
        iam.create_login_profile(UserName="bob", Password="Correct-Horse-9!")

    outcomes = [sign_in(fresh_server, member, "bob", "wrong-guess")[1] for _ in range(4)]
    assert outcomes == ["invalid_credentials"] * 3 + ["throttled"]

    # bob of the management account is another user: his count starts at nothing.
    assert sign_in(fresh_server, management_id, "bob", "Correct-Horse-9!")[1] == "signed_in"
    assert sign_in(fresh_server, member, "bob", "Correct-Horse-9!")[1] == "throttled"
