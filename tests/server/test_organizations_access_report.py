"""The access advisor for Organizations entities through boto3: which services the SCPs
allow the root, an OU, an account or the management account, and which accounts used
them; a report for one SCP; paging, sorting and AWS's errors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.test_organizations import ACCOUNT, create_account
from tests.support.servers import RunningServer

ROLE = "OrganizationAccountAccessRole"
ALL_SERVICES = ["codecommit", "iam", "organizations", "sts"]


def _scp(effect: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}],
        }
    )


def _as_member(server: RunningServer, account_id: str, service: str) -> Any:
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="ops"
    )["Credentials"]
    return server.client(
        service, session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"]
    )


def _report(iam: Any, **params: Any) -> dict[str, Any]:
    job_id = iam.generate_organizations_access_report(**params)["JobId"]
    deadline = time.monotonic() + 10
    while True:
        got: dict[str, Any] = iam.get_organizations_access_report(JobId=job_id)
        if got["JobStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            assert got["JobStatus"] == "COMPLETED", got
            return got
        time.sleep(0.05)


def _code(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_reports_on_the_root_an_ou_an_account_and_one_scp(fresh_server: RunningServer) -> None:
    orgs = fresh_server.client("organizations")
    iam = fresh_server.client("iam")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    in_root = create_account(orgs, "Shared", "shared@example.com")
    in_dev = create_account(orgs, "Dev", "dev@example.com")
    dev = orgs.create_organizational_unit(ParentId=root, Name="Dev")["OrganizationalUnit"]["Id"]
    orgs.move_account(AccountId=in_dev, SourceParentId=root, DestinationParentId=dev)

    # SCPs off: the report cannot be made.
    code, message = _code(iam.generate_organizations_access_report, EntityPath=f"{org_id}/{root}")
    assert (code, message) == (
        "InvalidInput",
        "Service control policies are not enabled for the organization.",
    )
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    no_git = orgs.create_policy(
        Name="NoGit",
        Description="",
        Content=_scp("Deny", "codecommit:*"),
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=no_git, TargetId=dev)
    only_iam = orgs.create_policy(
        Name="OnlyIam",
        Description="",
        Content=_scp("Allow", "iam:*"),
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=only_iam, TargetId=dev)
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=dev)

    # Use: IAM in both members (the dev account later), STS and CodeCommit only at the root.
    _as_member(fresh_server, in_root, "iam").list_users()
    _as_member(fresh_server, in_root, "codecommit").list_repositories()
    time.sleep(0.01)
    _as_member(fresh_server, in_dev, "iam").list_users()
    iam.list_users()  # the management account's own use

    whole = _report(iam, EntityPath=f"{org_id}/{root}")
    details = {d["ServiceNamespace"]: d for d in whole["AccessDetails"]}
    assert sorted(details) == ALL_SERVICES
    assert whole["NumberOfServicesAccessible"] == 4
    assert details["iam"]["TotalAuthenticatedEntities"] == 2
    assert details["iam"]["EntityPath"] == f"{org_id}/{root}/{dev}/{in_dev}/"
    assert details["iam"]["ServiceName"] == "AWS Identity and Access Management"
    assert details["iam"]["Region"] == "us-east-1"
    assert details["codecommit"]["EntityPath"] == f"{org_id}/{root}/{in_root}/"
    assert details["codecommit"]["TotalAuthenticatedEntities"] == 1
    # Both members assumed a role through the management account's STS: no member used it.
    assert details["organizations"]["TotalAuthenticatedEntities"] == 0
    assert "LastAuthenticatedTime" not in details["organizations"]
    assert whole["NumberOfServicesNotAccessed"] == sum(
        1 for d in details.values() if "LastAuthenticatedTime" not in d
    )

    # The OU: the root's FullAWSAccess, then the OU's OnlyIam and NoGit: IAM alone.
    ou = _report(iam, EntityPath=f"{org_id}/{root}/{dev}")
    assert [d["ServiceNamespace"] for d in ou["AccessDetails"]] == ["iam"]
    assert ou["AccessDetails"][0]["EntityPath"] == f"{org_id}/{root}/{dev}/{in_dev}/"
    assert ou["AccessDetails"][0]["TotalAuthenticatedEntities"] == 1

    # An account at the root: FullAWSAccess only, its own use.
    one = _report(iam, EntityPath=f"{org_id}/{root}/{in_root}")
    one_details = {d["ServiceNamespace"]: d for d in one["AccessDetails"]}
    assert sorted(one_details) == ALL_SERVICES
    assert one_details["iam"]["EntityPath"] == f"{org_id}/{root}/{in_root}/"

    # The management account: every service, only its own use, a policy id ignored.
    management = _report(iam, EntityPath=f"{org_id}/{root}/{ACCOUNT}", OrganizationsPolicyId=no_git)
    own = {d["ServiceNamespace"]: d for d in management["AccessDetails"]}
    assert sorted(own) == ALL_SERVICES
    assert own["iam"]["EntityPath"] == f"{org_id}/{root}/{ACCOUNT}/"
    assert own["iam"]["TotalAuthenticatedEntities"] == 1

    # One SCP over the root: the services it allows, the accounts it applies to.
    scp = _report(iam, EntityPath=f"{org_id}/{root}", OrganizationsPolicyId=only_iam)
    assert [d["ServiceNamespace"] for d in scp["AccessDetails"]] == ["iam"]
    assert scp["AccessDetails"][0]["TotalAuthenticatedEntities"] == 1
    assert (
        _report(iam, EntityPath=f"{org_id}/{root}", OrganizationsPolicyId=no_git)["AccessDetails"]
        == []
    )

    # Paging and sorting.
    job_id = iam.generate_organizations_access_report(EntityPath=f"{org_id}/{root}")["JobId"]
    _report(iam, EntityPath=f"{org_id}/{root}")  # waits for the job's thread
    pages, marker = [], None
    while True:
        params: dict[str, Any] = {"JobId": job_id, "MaxItems": 3}
        if marker:
            params["Marker"] = marker
        page = iam.get_organizations_access_report(**params)
        pages.append([d["ServiceNamespace"] for d in page["AccessDetails"]])
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert pages == [["codecommit", "iam", "organizations"], ["sts"]]
    descending = iam.get_organizations_access_report(
        JobId=job_id, SortKey="SERVICE_NAMESPACE_DESCENDING"
    )
    assert [d["ServiceNamespace"] for d in descending["AccessDetails"]] == ALL_SERVICES[::-1]
    newest = iam.get_organizations_access_report(
        JobId=job_id, SortKey="LAST_AUTHENTICATED_TIME_DESCENDING"
    )["AccessDetails"]
    assert [d["ServiceNamespace"] for d in newest][:2] == ["iam", "codecommit"]
    assert "LastAuthenticatedTime" not in newest[-1]


def test_bad_input_and_other_accounts_get_awss_errors(fresh_server: RunningServer) -> None:
    orgs = fresh_server.client("organizations")
    iam = fresh_server.client("iam")
    no_org = _code(iam.generate_organizations_access_report, EntityPath="o-a1b2c3d4e5/r-ab12")
    assert no_org == (
        "InvalidInput",
        "This operation can be called only from the organization's management account.",
    )
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    member = create_account(orgs, "Member", "member@example.com")
    for path in (
        f"o-zzzzzzzzzz/{root}",
        f"{org_id}/r-zzzz",
        f"{org_id}/{root}/ou-zzzz-zzzzzzzz",
        f"{org_id}/{root}/111111111111",
        f"{org_id}/{root}/{member}/{member}",
    ):
        code, message = _code(iam.generate_organizations_access_report, EntityPath=path)
        assert (code, message) == ("InvalidInput", f"Invalid Entity Path: {path}")
    not_a_path = "not-an-entity-path-at-all"
    code, _ = _code(iam.generate_organizations_access_report, EntityPath=not_a_path)
    assert code == "ValidationError"
    unknown_scp = _code(
        iam.generate_organizations_access_report,
        EntityPath=f"{org_id}/{root}",
        OrganizationsPolicyId="p-zzzzzzzz",
    )
    assert unknown_scp == (
        "InvalidInput",
        "The policy p-zzzzzzzz is not an SCP of the organization.",
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert _code(iam.get_organizations_access_report, JobId=missing) == (
        "NoSuchEntity",
        f"Job {missing} does not exist.",
    )
    # The two kinds of advisor job do not answer for each other.
    user_job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/admin")[
        "JobId"
    ]
    assert _code(iam.get_organizations_access_report, JobId=user_job)[0] == "NoSuchEntity"
    org_job = iam.generate_organizations_access_report(EntityPath=f"{org_id}/{root}")["JobId"]
    assert _code(iam.get_service_last_accessed_details, JobId=org_job)[0] == "NoSuchEntity"
    # A member account is not the management account.
    as_member = _as_member(fresh_server, member, "iam")
    code, _ = _code(as_member.generate_organizations_access_report, EntityPath=f"{org_id}/{root}")
    assert code == "InvalidInput"
