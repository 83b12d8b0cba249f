"""The account through boto3: summary, aliases, and operations iamd does not serve."""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.iam_helpers import (
    READ_ONLY_ACCESS,
    bad_pattern,
    error_of,
    new_user_client,
    policy_json,
)
from tests.support.servers import RunningServer

QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000,
    "ServerCertificatesQuota": 20,
    "PolicySizeQuota": 6144,
    "UserPolicySizeQuota": 2048,
    "GroupPolicySizeQuota": 5120,
    "RolePolicySizeQuota": 10240,
    "AssumeRolePolicySizeQuota": 2048,
    "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10,
    "VersionsPerPolicyQuota": 5,
    "PolicyVersionsInUseQuota": 10000,
    "GroupsPerUserQuota": 10,
    "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2,
    "GlobalEndpointTokenVersion": 1,
}

ALIAS_PATTERN = r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"


def test_account_summary_has_every_model_key_and_aws_quotas(iam: Any) -> None:
    summary = iam.get_account_summary()["SummaryMap"]
    model_keys = iam.meta.service_model.shape_for("summaryKeyType").enum
    assert len(model_keys) == 34
    assert set(summary) == set(model_keys)
    assert {k: summary[k] for k in QUOTAS} == QUOTAS
    assert all(isinstance(v, int) and v >= 0 for v in summary.values())


def test_account_summary_counts_move_with_the_account(iam: Any, unique: str) -> None:
    # Each xdist worker has a server of its own and runs one test at a time on it.
    before = iam.get_account_summary()["SummaryMap"]
    iam.create_user(UserName=f"{unique}-u1")
    iam.create_user(UserName=f"{unique}-u2")
    iam.create_group(GroupName=f"{unique}-g")
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},'
        '"Action":"sts:AssumeRole"}]}'
    )
    iam.create_role(RoleName=f"{unique}-r1", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName=f"{unique}-r2", AssumeRolePolicyDocument=trust)
    arn = iam.create_policy(PolicyName=f"{unique}-p", PolicyDocument=policy_json())["Policy"]["Arn"]
    iam.create_instance_profile(InstanceProfileName=f"{unique}-ip")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy_json("s3:PutObject"))
    after = iam.get_account_summary()["SummaryMap"]
    assert after["Users"] == before["Users"] + 2
    assert after["Groups"] == before["Groups"] + 1
    assert after["Roles"] == before["Roles"] + 2
    assert after["InstanceProfiles"] == before["InstanceProfiles"] + 1
    assert after["Policies"] == before["Policies"] + 1
    assert after["PolicyVersionsInUse"] == before["PolicyVersionsInUse"] + 2

    iam.delete_user(UserName=f"{unique}-u2")
    iam.delete_role(RoleName=f"{unique}-r2")
    iam.delete_instance_profile(InstanceProfileName=f"{unique}-ip")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    again = iam.get_account_summary()["SummaryMap"]
    assert again["Users"] == before["Users"] + 1
    assert again["InstanceProfiles"] == before["InstanceProfiles"]
    assert again["PolicyVersionsInUse"] == before["PolicyVersionsInUse"] + 1
    # AWS managed policies are not the account's.
    listed_local = iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]
    assert again["Policies"] == len(listed_local)
    assert again["Users"] == len(iam.list_users(MaxItems=1000)["Users"])
    assert again["Roles"] == before["Roles"] + 1 == len(iam.list_roles(MaxItems=1000)["Roles"])


def test_account_alias_create_list_delete(iam: Any) -> None:
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias="example-corp")
    listed = iam.list_account_aliases()
    assert listed["AccountAliases"] == ["example-corp"]
    assert listed["IsTruncated"] is False
    # Creating the alias the account already has is not an error.
    iam.create_account_alias(AccountAlias="example-corp")

    assert error_of(iam.create_account_alias, AccountAlias="another-corp") == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for AccountAliasesPerAccount: 1",
    )
    assert error_of(iam.delete_account_alias, AccountAlias="another-corp") == (
        404,
        "NoSuchEntity",
        "The account alias another-corp cannot be found.",
    )
    iam.delete_account_alias(AccountAlias="example-corp")
    assert iam.list_account_aliases()["AccountAliases"] == []
    assert error_of(iam.delete_account_alias, AccountAlias="example-corp")[1] == "NoSuchEntity"


@pytest.mark.parametrize("alias", ["Upper-case", "double--hyphen", "-leading", "trailing-"])
def test_account_alias_outside_the_pattern_is_refused(iam: Any, alias: str) -> None:
    status, code, message = error_of(iam.create_account_alias, AccountAlias=alias)
    assert (status, code) == (400, "ValidationError")
    assert message == bad_pattern(alias, "accountAlias", ALIAS_PATTERN)
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_twelve_digit_alias_is_refused(iam: Any) -> None:
    # It would read as an account id.
    assert error_of(iam.create_account_alias, AccountAlias="123456789012") == (
        400,
        "ValidationError",
        "Account alias cannot be a 12-digit number.",
    )
    iam.create_account_alias(AccountAlias="1234567890123")
    iam.delete_account_alias(AccountAlias="1234567890123")


def test_security_token_service_preferences_show_in_the_summary(
    iam: Any, server: RunningServer, unique: str
) -> None:
    """SetSecurityTokenServicePreferences sets the summary's GlobalEndpointTokenVersion
    (the model's documentation of both operations): v2Token is 2, v1Token 1."""

    def version() -> int:
        return int(iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"])

    assert version() == 1
    try:
        assert iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
        assert version() == 2
        # Setting the same version again is no error.
        iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
        assert version() == 2
        # Outside the model's enum: AWS's constraint text.
        assert error_of(
            iam.set_security_token_service_preferences, GlobalEndpointTokenVersion="v3Token"
        ) == (
            400,
            "ValidationError",
            "1 validation error detected: Value 'v3Token' at 'globalEndpointTokenVersion' "
            "failed to satisfy constraint: Member must satisfy enum value set: "
            "[v1Token, v2Token]",
        )
        assert version() == 2
        # A caller without iam:SetSecurityTokenServicePreferences is refused.
        reader, _ = new_user_client(server, iam, f"{unique}-reader", READ_ONLY_ACCESS)
        status, code, message = error_of(
            reader.set_security_token_service_preferences, GlobalEndpointTokenVersion="v1Token"
        )
        assert (status, code) == (403, "AccessDenied")
        assert "iam:SetSecurityTokenServicePreferences" in message
        assert version() == 2
    finally:
        iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert version() == 1


def test_unimplemented_operations_answer_501(server: RunningServer) -> None:
    # Every IAM and STS operation is served now; CodeCommit's are not all.
    codecommit = server.client("codecommit")
    assert error_of(
        codecommit.batch_get_commits, commitIds=["a1b2c3"], repositoryName="nosuch"
    ) == (
        501,
        "NotImplemented",
        "The operation codecommit:BatchGetCommits is not implemented by iamd.",
    )
