"""IAM account operations: summary and aliases."""

from __future__ import annotations

from iamd.operations.iam.shapes import max_items, paged
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.account import AccountSummary


def get_account_summary(ctx: CallContext, _p: Params) -> Result:
    return {"SummaryMap": summary_map(ctx.services.account.summary())}


def summary_map(summary: AccountSummary) -> dict[str, int]:
    """AWS's SummaryMap keys, with iamd's real counts. The root user holds no signing
    certificate."""
    q = summary.quotas
    return {
        "Users": summary.users,
        "UsersQuota": q.users,
        "Groups": summary.groups,
        "GroupsQuota": q.groups,
        "ServerCertificates": summary.server_certificates,
        "ServerCertificatesQuota": q.server_certificates,
        "UserPolicySizeQuota": q.user_policy_size,
        "GroupPolicySizeQuota": q.group_policy_size,
        "GroupsPerUserQuota": q.groups_per_user,
        "SigningCertificatesPerUserQuota": q.signing_certificates_per_user,
        "AccessKeysPerUserQuota": q.access_keys_per_user,
        "MFADevices": summary.mfa_devices,
        "MFADevicesInUse": summary.mfa_devices_in_use,
        "AccountMFAEnabled": 0,
        "AccountAccessKeysPresent": 0,
        # The root user of an iamd account has no password (no console sign-in as root).
        "AccountPasswordPresent": 0,
        "AccountSigningCertificatesPresent": 0,
        "AttachedPoliciesPerGroupQuota": q.attached_policies_per_group,
        "AttachedPoliciesPerRoleQuota": q.attached_policies_per_role,
        "AttachedPoliciesPerUserQuota": q.attached_policies_per_user,
        "Policies": summary.policies,
        "PoliciesQuota": q.policies,
        "PolicySizeQuota": q.policy_size,
        "PolicyVersionsInUse": summary.policy_versions_in_use,
        "PolicyVersionsInUseQuota": q.policy_versions_in_use,
        "VersionsPerPolicyQuota": q.versions_per_policy,
        "GlobalEndpointTokenVersion": summary.global_endpoint_token_version,
        "AssumeRolePolicySizeQuota": q.assume_role_policy_size,
        "InstanceProfiles": summary.instance_profiles,
        "InstanceProfilesQuota": q.instance_profiles,
        "Providers": summary.providers,
        "RolePolicySizeQuota": q.role_policy_size,
        "Roles": summary.roles,
        "RolesQuota": q.roles,
    }


_TOKEN_VERSIONS = {"v1Token": 1, "v2Token": 2}


def set_security_token_service_preferences(ctx: CallContext, p: Params) -> Result:
    # The model's enum has already refused any other value.
    version = _TOKEN_VERSIONS[p["GlobalEndpointTokenVersion"]]
    ctx.services.account.set_global_endpoint_token_version(version)
    return None


def list_account_aliases(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.account.list_aliases(p.get("Marker"), max_items(p))
    return paged(page, "AccountAliases", lambda alias: alias)


def create_account_alias(ctx: CallContext, p: Params) -> Result:
    ctx.services.account.create_alias(p["AccountAlias"])
    return None


def delete_account_alias(ctx: CallContext, p: Params) -> Result:
    ctx.services.account.delete_alias(p["AccountAlias"])
    return None


OPERATIONS = (
    Operation("iam", "GetAccountSummary", get_account_summary, any_resource),
    Operation("iam", "ListAccountAliases", list_account_aliases, any_resource),
    Operation("iam", "CreateAccountAlias", create_account_alias, any_resource),
    Operation("iam", "DeleteAccountAlias", delete_account_alias, any_resource),
    Operation(
        "iam",
        "SetSecurityTokenServicePreferences",
        set_security_token_service_preferences,
        any_resource,
    ),
)
