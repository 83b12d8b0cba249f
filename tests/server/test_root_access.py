"""Trusted access (EnableAWSServiceAccess ...) and IAM's centralized root access features
(Enable/DisableOrganizationsRoot*, ListOrganizationsFeatures) through boto3 and a real
server: the management account only, in AWS's order of refusals, stored per organization."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.server.test_organizations import create_account, error_of
from tests.support.servers import RunningServer, start_server

IAM = "iam.amazonaws.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("iamd-root-access"))
    yield running
    running.stop()


def _member_client(server: RunningServer, account_id: str, service: str) -> Any:
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="ops",
    )["Credentials"]
    return server.client(
        service, session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"]
    )


def test_trusted_access_and_root_access_features(server: RunningServer) -> None:
    orgs = server.client("organizations")
    iam = server.client("iam")

    # Outside an organization: each API in its own words.
    assert error_of(iam.list_organizations_features)["Code"] == "OrganizationNotFoundException"
    assert error_of(orgs.list_aws_service_access_for_organization)["Code"] == (
        "AWSOrganizationsNotInUseException"
    )

    organization = orgs.create_organization(FeatureSet="ALL")["Organization"]
    member = create_account(orgs, "Member", "member@example.com")

    # Root access needs IAM's trusted access first.
    refused = error_of(iam.enable_organizations_root_sessions)
    assert refused["Code"] == "ServiceAccessNotEnabledException"
    assert refused["Message"] == (
        "The request was rejected because trusted access is not enabled for IAM in Organizations."
    )
    assert orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []

    bad = error_of(orgs.enable_aws_service_access, ServicePrincipal="iam.example.com")
    assert (bad["Code"], bad["Reason"]) == (
        "InvalidInputException",
        "UNRECOGNIZED_SERVICE_PRINCIPAL",
    )

    orgs.enable_aws_service_access(ServicePrincipal=IAM)
    orgs.enable_aws_service_access(ServicePrincipal=IAM)  # again: no duplicate, no error
    orgs.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
    enabled = orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [e["ServicePrincipal"] for e in enabled] == [IAM, "sso.amazonaws.com"]
    assert all(e["DateEnabled"].tzinfo is not None for e in enabled)
    paged = orgs.list_aws_service_access_for_organization(MaxResults=1)
    assert [e["ServicePrincipal"] for e in paged["EnabledServicePrincipals"]] == [IAM]
    assert paged["NextToken"]

    # A member account may manage neither.
    as_member_orgs = _member_client(server, member, "organizations")
    as_member_iam = _member_client(server, member, "iam")
    assert error_of(as_member_orgs.enable_aws_service_access, ServicePrincipal=IAM)["Code"] == (
        "AccessDeniedException"
    )
    for call in (
        as_member_iam.list_organizations_features,
        as_member_iam.enable_organizations_root_sessions,
    ):
        assert error_of(call)["Code"] == "AccountNotManagementOrDelegatedAdministratorException"

    assert iam.list_organizations_features()["EnabledFeatures"] == []
    answer = iam.enable_organizations_root_credentials_management()
    assert answer["OrganizationId"] == organization["Id"]
    assert answer["EnabledFeatures"] == ["RootCredentialsManagement"]
    iam.enable_organizations_root_sessions()
    listed = iam.list_organizations_features()
    assert listed["OrganizationId"] == organization["Id"]
    assert sorted(listed["EnabledFeatures"]) == ["RootCredentialsManagement", "RootSessions"]
    assert iam.disable_organizations_root_credentials_management()["EnabledFeatures"] == [
        "RootSessions"
    ]

    # Disabling IAM's trusted access turns its features off.
    orgs.disable_aws_service_access(ServicePrincipal=IAM)
    assert error_of(iam.list_organizations_features)["Code"] == "ServiceAccessNotEnabledException"
    orgs.enable_aws_service_access(ServicePrincipal=IAM)
    assert iam.list_organizations_features()["EnabledFeatures"] == []
    enabled = orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [e["ServicePrincipal"] for e in enabled] == [IAM, "sso.amazonaws.com"]

    # Deleting the organization takes its features with it.
    orgs.remove_account_from_organization(AccountId=member)
    orgs.delete_organization()
    orgs.create_organization(FeatureSet="ALL")
    assert orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []
